"""A patient's progress page: the prescription, weekly trends as plots and a table, and the
latest sessions. Self-contained HTML (inline SVG plots), for the web app to serve."""

from __future__ import annotations

from typing import Any, Mapping

from clamcoach.protocol import load_protocol
from clamcoach.report import plots
from clamcoach.report.page import badge, document, esc, fmt

RECENT = 10


def progress_html(store: Any, patient: str) -> str:
    """The page for ``patient`` (raises ``storage.UnknownPatient`` for an unknown name)."""
    sessions = store.history(patient)
    trends = store.trends(patient)
    active = store.active_prescription(patient)
    protocol = load_protocol(patch=store.protocol_patch(patient))
    body = "\n".join([
        f"<h1>Progress</h1>\n<p class=\"sub\">{esc(patient)} · {len(sessions)} session"
        f"{'s' if len(sessions) != 1 else ''}</p>",
        _prescription(active),
        "<h2>Week by week</h2>",
        f'<img alt="reps, clean-rep rate, opening and roll-back per week" '
        f'src="{plots.weekly(trends, protocol.roll_back.warn_deg, protocol.roll_back.error_deg)}">',
        _weeks(trends),
        _recent(sessions),
    ])
    return document(f"clamcoach progress – {patient}", body)


def _prescription(p: Mapping[str, Any] | None) -> str:
    if not p:
        return "<h2>Prescription</h2><p class=\"muted\">No prescription yet: the defaults apply.</p>"
    dose = f"{p.get('sets') or '–'} × {p.get('reps') or '–'} reps"
    parts = [dose, f"hold {fmt(p.get('hold_s'), 1, ' s')}", f"side {p.get('side') or '–'}",
             f"band {p.get('band') or '–'}"]
    if p.get("tempo"):
        parts.append(f"tempo {p['tempo']} s (up-hold-down)")
    overrides = "; ".join(
        f"{section}.{key} = {value}" for section, values in (p.get("overrides") or {}).items()
        if isinstance(values, Mapping) for key, value in values.items()
    )
    return (
        f"<h2>Prescription <span class=\"muted\">(version {esc(p['version'])}, "
        f"{esc(p['created_at'][:10])})</span></h2>\n<p>{esc(' · '.join(parts))}</p>"
        + (f"<p class=\"muted\">Therapist's thresholds: {esc(overrides)}</p>" if overrides else "")
        + (f"<p class=\"muted\">Note: {esc(p['note'])}</p>" if p.get("note") else "")
    )


def _weeks(trends: list[Mapping[str, Any]]) -> str:
    if not trends:
        return "<p class=\"muted\">No sessions yet.</p>"
    rows = "".join(
        f"<tr><td>{esc(w['week'])}</td><td>{esc(w['week_start'])}</td>"
        f"<td class=\"n\">{w['sessions']}</td><td class=\"n\">{w['reps']}</td>"
        f"<td class=\"n\">{fmt(100 * w['clean_rate'] if w['clean_rate'] is not None else None, 0, '%')}</td>"
        f"<td class=\"n\">{fmt(w['mean_opening_deg'], 1, '°')}</td>"
        f"<td class=\"n\">{fmt(w['mean_roll_back_deg'], 1, '°')}</td></tr>"
        for w in reversed(trends)
    )
    return ("<table><tr><th>Week</th><th>From</th><th class=\"n\">Sessions</th>"
            "<th class=\"n\">Reps</th><th class=\"n\">Clean</th><th class=\"n\">Opening</th>"
            f"<th class=\"n\">Roll-back</th></tr>{rows}</table>")


def _recent(sessions: list[Mapping[str, Any]]) -> str:
    if not sessions:
        return ""
    rows = []
    for s in reversed(sessions[-RECENT:]):
        codes = "".join(badge(f"{code} ×{n}", "warn") for code, n in sorted(s["findings"].items()))
        rows.append(
            f"<tr><td class=\"nw\">{esc(s['recorded_at'][:16].replace('T', ' '))}</td>"
            f"<td>{esc(s['kind'])}</td>"
            f"<td>{esc(s.get('camera_view') or '–')}</td><td class=\"n\">{s['reps']}</td>"
            f"<td class=\"n\">{s['clean_reps']}</td>"
            f"<td class=\"n\">{fmt(s.get('mean_opening_deg'), 1, '°')}</td>"
            f"<td class=\"n\">{fmt(s.get('max_roll_back_deg'), 1, '°')}</td>"
            f"<td>{codes or badge('clean', 'ok')}</td></tr>"
        )
    return ("<h2>Latest sessions</h2>\n<table><tr><th>When (UTC)</th><th>Kind</th><th>View</th>"
            "<th class=\"n\">Reps</th><th class=\"n\">Clean</th><th class=\"n\">Opening</th>"
            f"<th class=\"n\">Worst roll-back</th><th>Findings</th></tr>{''.join(rows)}</table>")
