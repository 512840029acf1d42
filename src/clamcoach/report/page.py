"""Small building blocks for self-contained HTML pages: escaping, number formats, the page
shell with its inline stylesheet and a Content-Security-Policy that forbids any request
(so even a stray URL in a report cannot reach the network)."""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from importlib import resources
from typing import Any, Iterable, Sequence

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def css() -> str:
    return resources.files("clamcoach.report").joinpath("templates/report.css").read_text("utf-8")


def esc(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def fmt(value: Any, digits: int = 1, unit: str = "") -> str:
    """A number for a table cell; "–" for missing or NaN."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(x):
        return "–"
    return f"{x:.{digits}f}{unit}"


def local_time(iso: str) -> str:
    """A stored (UTC, ISO) time in this machine's zone, to the minute."""
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def badge(text: str, severity: str = "ok") -> str:
    return f'<span class="badge {esc(severity)}">{esc(text)}</span>'


def scroll_table(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> str:
    """A table that scrolls sideways on a narrow screen. ``columns``: (heading, cell class),
    the class ``"n"`` for a number (right-aligned, its heading too), ``"nw"`` for no wrapping,
    ``""`` for plain text; ``rows``: each row's cells as HTML (escape text first). Heading and
    cell are declared together so that their counts and order cannot drift apart."""
    def attr(cls: str) -> str:
        return f' class="{cls}"' if cls else ""

    head = "".join(f"<th{attr(cls if cls == 'n' else '')}>{esc(title)}</th>" for title, cls in columns)
    body = "".join(
        "<tr>" + "".join(f"<td{attr(cls)}>{cell}</td>"
                         for (_, cls), cell in zip(columns, row, strict=True)) + "</tr>"
        for row in rows)
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def document(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>\n{css()}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
