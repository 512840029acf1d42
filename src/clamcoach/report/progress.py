"""A patient's progress: the prescription, trends over sessions as plots (worst roll-back per
session, opening against the prescribed range, hold against the prescribed hold, reps and
clean-rep rate, pain), a table per week and the latest sessions. HTML fragments for the
workspace, and a self-contained page (``progress_html``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence

from clamcoach.protocol import Protocol, label, load_protocol
from clamcoach.report.page import badge, document, esc, fmt, local_time, scroll_table
from clamcoach.report.progress_plots import PainPoint, SessionPoint, Targets, trends_figure

RECENT = 10
PAIN_FLAG = 7


def session_points(sessions: Sequence[Mapping[str, Any]]) -> list[SessionPoint]:
    """From ``Store.history`` rows."""
    return [SessionPoint(datetime.fromisoformat(s["recorded_at"]), s["reps"], s.get("clean_rate"),
                         s.get("max_roll_back_deg"), s.get("mean_opening_deg"), s.get("mean_hold_s"))
            for s in sessions]


def targets_for(protocol: Protocol) -> Targets:
    return Targets(reps=protocol.prescription.reps, roll_warn_deg=protocol.roll_back.warn_deg,
                   roll_error_deg=protocol.roll_back.error_deg,
                   opening_min_deg=protocol.opening.typical_min_deg,
                   opening_max_deg=protocol.opening.typical_max_deg,
                   hold_s=protocol.prescription.hold_s,
                   hold_tolerance=protocol.prescription.tolerance)


def when(iso: str) -> str:
    """A ``<time>`` element: this machine's local time, which the workspace's script turns
    into the reader's own zone."""
    return f'<time datetime="{esc(iso)}">{esc(local_time(iso))}</time>'


def trends_img(sessions: Sequence[Mapping[str, Any]], protocol: Protocol,
               pain: Sequence[PainPoint] = ()) -> str:
    return (f'<img class="plot" alt="reps, clean-rep rate, worst roll-back, opening, hold and '
            f'pain per session" src="{trends_figure(session_points(sessions), targets_for(protocol), pain, PAIN_FLAG)}">')


def prescription_html(p: Mapping[str, Any] | None) -> str:
    if not p:
        return "<p class=\"muted\">No prescription yet: the protocol's defaults apply.</p>"
    return (f"<p><b>{esc(describe(p))}</b> <span class=\"muted\">(version {esc(p['version'])}, "
            f"{when(p['created_at'])})</span></p>"
            + (f"<p class=\"muted\">Note: {esc(p['note'])}</p>" if p.get("note") else ""))


def describe(p: Mapping[str, Any]) -> str:
    parts = [f"{p.get('sets') or '–'} × {p.get('reps') or '–'} reps",
             f"hold {fmt(p.get('hold_s'), 1, ' s')}"]
    if p.get("tempo"):
        parts.append(f"tempo {p['tempo']} s (up-hold-down)")
    parts.append(f"{p.get('side') or 'either'} side" if p.get("side") != "both" else "both sides")
    if p.get("band"):
        parts.append(f"band {p['band']}")
    if p.get("sessions_per_week"):
        parts.append(f"{p['sessions_per_week']} sessions a week")
    overrides = "; ".join(
        f"{section}.{key} = {value}" for section, values in (p.get("overrides") or {}).items()
        if isinstance(values, Mapping) for key, value in values.items())
    if overrides:
        parts.append(f"thresholds {overrides}")
    return " · ".join(parts)


#: The week-by-week table's columns: (heading, cell class; see ``page.scroll_table``).
WEEK_COLUMNS = (("Week", ""), ("From", ""), ("Sessions", "n"), ("Reps", "n"), ("Clean", "n"),
                ("Opening", "n"), ("Worst roll-back", "n"), ("Hold", "n"))
#: The latest sessions' table's columns.
SESSION_COLUMNS = (("When", "nw"), ("Kind", ""), ("Reps", "n"), ("Clean", "n"), ("Opening", "n"),
                   ("Worst roll-back", "n"), ("Findings", ""))


def weeks_table(trends: Sequence[Mapping[str, Any]]) -> str:
    if not trends:
        return "<p class=\"muted\">No sessions yet.</p>"
    return scroll_table(WEEK_COLUMNS, (
        [esc(w["week"]), esc(w["week_start"]), w["sessions"], w["reps"],
         fmt(100 * w["clean_rate"] if w["clean_rate"] is not None else None, 0, "%"),
         fmt(w["mean_opening_deg"], 1, "°"), fmt(w.get("max_roll_back_deg"), 1, "°"),
         fmt(w.get("mean_hold_s"), 1, " s")]
        for w in reversed(trends)))


def findings_badges(findings: Mapping[str, int]) -> str:
    return "".join(badge(f"{label(code)} ×{n}", "warn") for code, n in sorted(findings.items())) \
        or badge("clean", "ok")


def _recent(sessions: Sequence[Mapping[str, Any]]) -> str:
    if not sessions:
        return ""
    return "<h2>Latest sessions</h2>\n" + scroll_table(SESSION_COLUMNS, (
        [when(s["recorded_at"]), esc(s["kind"]), s["reps"], s["clean_reps"],
         fmt(s.get("mean_opening_deg"), 1, "°"), fmt(s.get("max_roll_back_deg"), 1, "°"),
         findings_badges(s["findings"])]
        for s in reversed(sessions[-RECENT:])))


def progress_html(store: Any, patient: str) -> str:
    """A self-contained page for ``patient`` (raises ``storage.UnknownPatient`` for an unknown
    name)."""
    sessions = store.history(patient)
    trends = store.trends(patient)
    active = store.active_prescription(patient)
    protocol = load_protocol(patch=store.protocol_patch(patient))
    body = "\n".join([
        f"<h1>Progress</h1>\n<p class=\"sub\">{esc(patient)} · {len(sessions)} session"
        f"{'s' if len(sessions) != 1 else ''}</p>",
        "<h2>Prescription</h2>", prescription_html(active),
        "<h2>Session by session</h2>", trends_img(sessions, protocol),
        "<h2>Week by week</h2>", weeks_table(trends),
        _recent(sessions),
    ])
    return document(f"clamcoach progress – {patient}", body)
