"""Extract the page's messages with Babel and bring the catalogues up to date.

    python -m clamcoach.web.i18n.extract            # writes messages.pot, updates es/de .po
    python -m clamcoach.web.i18n.extract --check    # exit 1 if any language misses a message

Where the ids come from: the page's templates (``_()``, ``ngettext()``), its scripts
(``t()``, ``tn()``, ``N_()``), the web package's Python (``N_()``, ``NN_()``), the
workspace's templates, scripts and Python likewise, and the protocol file's ``[cues]``,
``[messages]`` and ``[labels]`` (their English texts are the ids: the catalogue holds no
second copy of them).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from clamcoach.web.i18n import DOMAIN, HERE, LANGUAGES, SOURCE_LANGUAGE, po_path

WEB = HERE.parent
POT = HERE / f"{DOMAIN}.pot"
METHODS = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("static/js/**.js", "javascript"),
    ("*.py", "python"),
    # The workspace's pages and the words its Python hands them (N_).
    ("workspace/templates/**.html", "jinja2.ext:babel_extract"),
    ("workspace/*.py", "python"),
    # The bound live page's per-set pain rating (t(), tn() from the live page's i18n.js).
    ("workspace/static/**.js", "javascript"),
]
KEYWORDS = {"_": None, "ngettext": (1, 2), "t": None, "tn": (1, 2), "N_": None, "NN_": (1, 2)}
PROTOCOL_SECTIONS = ("cues", "messages", "labels")


def protocol_texts() -> list[tuple[str, str]]:
    """(location, English text) of every cue, message and label of the packaged protocol."""
    text = resources.files("clamcoach").joinpath("protocols/clamshell.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return [(f"protocols/clamshell.toml:{section}.{key}", value)
            for section in PROTOCOL_SECTIONS for key, value in data[section].items()]


def template() -> Catalog:
    """The catalogue template: every id the page can show, with where it comes from."""
    cat = Catalog(locale=SOURCE_LANGUAGE, domain=DOMAIN, project="clamcoach", fuzzy=False)
    for filename, lineno, message, comments, _context in extract_from_dir(
            WEB, METHODS, keywords=KEYWORDS, comment_tags=("i18n:",), strip_comment_tags=True):
        if filename.startswith("i18n"):
            continue  # this tool and the loader hold no page text
        cat.add(message, locations=[(filename, lineno)], auto_comments=comments)
    for where, value in protocol_texts():
        cat.add(value, locations=[(where, 0)])
    return cat


def update(pot: Catalog) -> None:
    POT.write_bytes(_po_bytes(pot, omit_header=False))
    for lang in LANGUAGES:
        if lang == SOURCE_LANGUAGE:
            continue
        path = po_path(lang)
        if path.exists():
            with path.open("rb") as f:
                cat = read_po(f, locale=lang)
        else:
            cat = Catalog(locale=lang, domain=DOMAIN, project="clamcoach")
        cat.update(pot, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_po_bytes(cat))


def missing(pot: Catalog) -> dict[str, list[str]]:
    """Per language, the ids with no (or only a fuzzy) translation."""
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        if lang == SOURCE_LANGUAGE:
            continue
        with po_path(lang).open("rb") as f:
            cat = read_po(f, locale=lang)
        gaps = []
        for msg in pot:
            if not msg.id:
                continue
            found = cat.get(msg.id)
            strings = found.string if found is not None else None
            done = found is not None and not found.fuzzy and (
                all(strings) if isinstance(strings, tuple) else bool(strings))
            if not done:
                gaps.append(msg.id if isinstance(msg.id, str) else msg.id[0])
        out[lang] = gaps
    return out


def _po_bytes(cat: Catalog, omit_header: bool = False) -> bytes:
    import io

    buf = io.BytesIO()
    write_po(buf, cat, width=100, omit_header=omit_header, sort_output=False, ignore_obsolete=True,
             include_previous=False)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that every language has every message")
    args = ap.parse_args(argv)
    pot = template()
    if not args.check:
        update(pot)
    gaps = missing(pot)
    for lang, ids in gaps.items():
        for msgid in ids:
            print(f"{lang}: missing {msgid!r}", file=sys.stderr)
    return 1 if any(gaps.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
