"""The analysis report as one self-contained HTML file.

Sections: summary, setup verdict with a still and the skeleton, opening and pelvis roll over
time, a table of reps, every finding with the method's reason, the camera view and what it
cannot see, and the thresholds used. Images are inline (PNG/SVG data URIs); the page loads
nothing from anywhere.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any, Mapping

import numpy as np

import clamcoach
from clamcoach.io.atomic import write_text_atomic
from clamcoach.report import plots, thresholds
from clamcoach.report.browser import write_pdf
from clamcoach.report.page import badge, document, esc, fmt
from clamcoach.report.skeleton import draw_skeleton, encode_png
from clamcoach.series import FrameSeries

__all__ = ["render_report", "write_pdf", "write_report"]

UNITS = {"roll_back": "°", "lift_too_high": "°", "feet_apart": " cm", "too_fast": " s",
         "no_hold": " s", "hip_angle": "°", "knee_angle": "°", "not_rolled_forward": "°"}
SEVERITY_RANK = {"error": 0, "warn": 1, "info": 2}
VIEWS = {
    "front": ("Camera level with the body, in front of the belly.",
              "Pelvis roll is mostly motion toward and away from the camera here, which one "
              "camera measures worst: roll-back may be missed."),
    "oblique": ("Camera in front and raised, looking down at the body: the recommended "
                "placement.", "Hand on hip and the far-side landmarks can be hidden."),
    "overhead": ("Camera above the body, looking down.",
                 "Hip and knee bend are seen at a slant, so setup angles are less exact."),
    "feet": ("Camera at the feet, looking along the body.",
             "Hip and knee bend and the hand on the hip are hard to see from here."),
    "unknown": ("The camera position could not be worked out.",
                "Treat every measure with caution."),
}


def write_report(path: str | os.PathLike[str], report: Mapping[str, Any],
                 frames: FrameSeries,
                 snapshot: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Write the report to ``path`` atomically (temp file in the same folder, then rename)."""
    write_text_atomic(path, render_report(report, frames, snapshot))


def render_report(report: Mapping[str, Any], frames: FrameSeries,
                  snapshot: tuple[np.ndarray, np.ndarray] | None = None) -> str:
    source = report.get("source") or {}
    name = PurePath(str(source.get("path") or "session")).name
    titles = _labels_of(report)
    body = "\n".join([
        _header(report, name),
        _prescription(report, titles),
        SAFETY_NOTE,
        _setup(report, snapshot, titles),
        _timeline(report, frames),
        _reps(report, titles),
        _findings(report, titles),
        _camera(report),
        _footer(report),
    ])
    return document(f"clamcoach report – {name}", body)


def _labels_of(report: Mapping[str, Any]) -> dict[str, str]:
    """The finding names of the protocol the analysis used (its ``[labels]``, recorded in the
    report, over the packaged ones): one registry for every output, a custom file's included."""
    return {str(k): str(v) for k, v in thresholds.used(report).get("labels", {}).items()}


# ---- sections -------------------------------------------------------------------------

SAFETY_NOTE = ('<p class="safety"><strong>Stop if the exercise hurts</strong>, and ask your physical '
               "therapist. This report checks how the exercise was done; it is not a diagnosis.</p>")


def _header(report: Mapping[str, Any], name: str) -> str:
    summary = report.get("summary") or {}
    source = report.get("source") or {}
    reps = report.get("reps") or []
    n = summary.get("reps", len(reps))
    clean = summary.get("clean_reps", sum(1 for r in reps if plots.rep_severity(r) == "clean"))
    cards = [
        (str(n), "reps"), (f"{clean} of {n}" if n else "–", "clean reps"),
        (str(report.get("top_side") or "–"), "leg that lifts"),
        (str(report.get("camera_view") or "unknown"), "camera view"),
        (fmt(100 * float(report.get("pose_coverage") or 0), 0, "%"), "frames with a pose"),
        (fmt(source.get("duration_s"), 1, " s"), "length"),
    ]
    who = f" · patient {esc(report['patient'])}" if report.get("patient") else ""
    if report.get("prescription_version") is not None:
        who += f" · prescription version {esc(report['prescription_version'])}"
    saved = report.get("saved") or {}
    place = f" ({esc(saved['database'])})" if saved.get("database") else ""
    where = (f"<p class=\"muted\">Saved to {esc(saved.get('patient'))}'s history as session "
             f"{esc(saved.get('session_id'))}{place}.</p>\n" if saved else "")
    return (
        f"<h1>Clamshell report</h1>\n<p class=\"sub\">{esc(name)}{who}</p>\n{where}"
        '<div class="cards">'
        + "".join(f"<div class=\"card\"><b>{esc(v)}</b><span>{esc(k)}</span></div>" for v, k in cards)
        + "</div>"
    )


def _prescription(report: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    check = report.get("prescription_check")
    if not check:
        return ""
    d = check.get("dose") or {}
    m = check.get("measured") or {}
    whose = ("the protocol's dose" if report.get("prescription_version") is None
             else f"prescription version {report['prescription_version']}")
    rows = [
        ("Leg that lifts", d.get("side") or "–", check.get("side_done") or "–"),
        ("Reps in the set", d.get("reps"), check.get("reps_done")),
        ("Sets today", d.get("sets"), check.get("sets_done") or "–"),
        ("Hold at the top", fmt(d.get("hold_s"), 1, " s"), fmt(m.get("hold_s"), 1, " s")),
        ("Tempo up-hold-down", f"{d['tempo']} s" if d.get("tempo") else "not prescribed",
         f"{fmt(m.get('up_s'))}-{fmt(m.get('hold_s'))}-{fmt(m.get('down_s'))} s"),
    ]
    table = ("<table><tr><th></th><th>Prescribed</th><th>This set</th></tr>"
             + "".join(f"<tr><td>{esc(a)}</td><td>{esc(b)}</td><td>{esc(c)}</td></tr>"
                       for a, b, c in rows) + "</table>")
    notes = "".join(f"<li>{badge(titles.get(n['code'], n['code']), n.get('severity', 'info'))} "
                    f"{esc(n.get('text'))}</li>" for n in check.get("notes") or [])
    return (f"<h2>Against the prescription</h2>\n<p class=\"muted\">Checked against {esc(whose)}."
            f"</p>\n{table}" + (f"<ul>{notes}</ul>" if notes else
                                "<p class=\"verdict\">The set followed the prescription.</p>"))


def _range_row(label: str, value: Any, lo: float, hi: float, unit: str = "°") -> str:
    try:
        x = float(value)
        state = ("ok", "in range") if lo <= x <= hi else ("warn", "outside")
    except (TypeError, ValueError):
        state = ("info", "not seen")
    return (f"<tr><td>{esc(label)}</td><td class=\"n\">{fmt(value, 0, unit)}</td>"
            f"<td class=\"n\">{lo:g}–{hi:g}{unit}</td><td>{badge(state[1], state[0])}</td></tr>")


def _setup(report: Mapping[str, Any], snapshot, titles: Mapping[str, str]) -> str:
    setup = report.get("setup") or {}
    th = thresholds.used(report)["setup"]
    findings = setup.get("findings") or []
    worst = min((SEVERITY_RANK.get(f.get("severity"), 2) for f in findings), default=3)
    if worst <= 1:
        cls = "error" if worst == 0 else "warn"
        text = "The setup needs attention before the reps count fully."
    else:
        cls, text = "", "The setup matches the method."
    hand = setup.get("hand_on_hip")
    hand_text = {True: "yes", False: "no"}.get(hand, "–")  # None: could not be told
    hand_badge = {"yes": badge("ok", "ok"), "no": badge("no", "info")}.get(
        hand_text, badge("not seen", "info"))
    rows = [
        _range_row("Hip bend", setup.get("hip_flexion_deg"), th["hip_min_deg"], th["hip_max_deg"]),
        _range_row("Knee bend", setup.get("knee_flexion_deg"), th["knee_min_deg"], th["knee_max_deg"]),
        _range_row("Rolled forward", setup.get("forward_roll_deg"), th["forward_roll_min_deg"],
                   th["forward_roll_max_deg"]),
        f"<tr><td>Top hand on the hip</td><td class=\"n\">{hand_text}</td><td class=\"n\">yes</td>"
        f"<td>{hand_badge}</td></tr>",
    ]
    notes = "".join(
        f"<li>{badge(f.get('severity', 'info'), f.get('severity', 'info'))} "
        f"{esc(f.get('message') or titles.get(f.get('code'), f.get('code')))}</li>" for f in findings
    )
    table = ("<table><tr><th>Check</th><th class=\"n\">Measured</th><th class=\"n\">Method</th>"
             f"<th></th></tr>{''.join(rows)}</table>")
    if notes:
        table += f"<ul>{notes}</ul>"
    if snapshot is not None:
        rgb, lm = snapshot
        img = draw_skeleton(np.array(rgb, dtype=np.uint8, copy=True), lm, report.get("top_side"))
        uri = "data:image/png;base64," + base64.b64encode(encode_png(img)).decode("ascii")
        still = (f'<figure style="margin:0"><img class="still" alt="setup still with the tracked '
                 f'skeleton" src="{uri}"><figcaption class="muted">The setup as the camera saw '
                 "it; the leg that lifts is drawn in orange.</figcaption></figure>")
    else:
        still = '<p class="muted">No still frame was kept for this analysis.</p>'
    return (f"<h2>Setup</h2>\n<p class=\"verdict {cls}\">{esc(text)}</p>\n"
            f"<div class=\"two\">{still}<div>{table}</div></div>")


def _timeline(report: Mapping[str, Any], frames: FrameSeries) -> str:
    if len(frames) == 0:
        return "<h2>Over time</h2><p class=\"muted\">No per-frame measures were kept.</p>"
    return (
        "<h2>Over time</h2>\n<p class=\"muted\">Shaded bands are reps (green clean, orange a "
        "warning, red an error). The dashed lines under the pelvis roll are each rep's "
        "roll-back limits, measured from where that rep started.</p>\n"
        f'<img alt="opening and pelvis roll over time" src="{plots.timeline(frames, report)}">'
    )


def _reps(report: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    reps = report.get("reps") or []
    if not reps:
        return "<h2>Reps</h2><p class=\"muted\">No reps were found.</p>"
    head = ("<tr><th class=\"n\">#</th><th class=\"n\">Time (s)</th><th class=\"n\">Opening</th>"
            "<th class=\"n\">Knee lift</th><th class=\"n\">Roll-back</th><th class=\"n\">Trunk "
            "roll-back</th><th class=\"n\">Feet gap</th><th class=\"n\">Up / hold / down (s)</th>"
            "<th>Result</th></tr>")
    rows = []
    for r in reps:
        fs = r.get("findings") or []
        result = "".join(badge(titles.get(f.get("code"), f.get("code")), f.get("severity", "info"))
                         for f in fs) or badge("clean", "ok")
        rows.append(
            f"<tr><td class=\"n\">{esc(r.get('index'))}</td>"
            f"<td class=\"n\">{fmt(r.get('start_s'))}–{fmt(r.get('end_s'))}</td>"
            f"<td class=\"n\">{fmt(r.get('opening_deg'), 0, '°')}{_sd(r.get('opening_sd_deg'))}</td>"
            f"<td class=\"n\">{fmt(r.get('knee_lift_cm'), 1, ' cm')}</td>"
            f"<td class=\"n\">{_roll(r)}</td>"
            f"<td class=\"n\">{fmt(r.get('trunk_roll_back_deg'), 1, '°')}</td>"
            f"<td class=\"n\">{fmt(r.get('ankle_gap_cm'), 1, ' cm')}</td>"
            f"<td class=\"n\">{fmt(r.get('up_s'))} / {fmt(r.get('hold_s'))} / {fmt(r.get('down_s'))}</td>"
            f"<td>{result}</td></tr>"
        )
    return f"<h2>Reps</h2>\n<table>{head}{''.join(rows)}</table>"


def _sd(sd: Any) -> str:
    """ '± 4°': a measure's standard deviation from the body-model fit."""
    if not isinstance(sd, (int, float)) or sd != sd:
        return ""
    return f" <span class=\"muted\">± {max(1, round(sd))}°</span>"


def _roll(r: Mapping[str, Any]) -> str:
    if r.get("roll_judged") is False:
        return "<span class=\"muted\">not judged</span>"
    return f"{fmt(r.get('roll_back_deg'), 1, '°')}{_sd(r.get('roll_back_sd_deg'))}"


def _findings(report: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    groups: dict[str, dict[str, Any]] = {}
    setup = (report.get("setup") or {}).get("findings") or []
    items = [(None, f) for f in setup] + [
        (r.get("index"), f) for r in report.get("reps") or [] for f in r.get("findings") or []
    ]
    for rep, f in items:
        code = f.get("code") or "unknown"
        g = groups.setdefault(code, {"items": [], "message": "", "cue": "", "rank": 3})
        g["items"].append((rep, f))
        g["message"] = g["message"] or f.get("message") or ""
        g["cue"] = g["cue"] or f.get("cue") or ""
        g["rank"] = min(g["rank"], SEVERITY_RANK.get(f.get("severity"), 2))
    if not groups:
        return ("<h2>What to work on</h2>\n<p class=\"verdict\">Nothing to correct: every rep "
                "followed the method. Keep the same control.</p>")
    # Roll-back first: the method says staying rolled forward matters most.
    order = sorted(groups, key=lambda c: (c != "roll_back", groups[c]["rank"], c))
    blocks = []
    for code in order:
        g = groups[code]
        sev = {0: "error", 1: "warn"}.get(g["rank"], "info")
        reps = [str(rep) for rep, _ in g["items"] if rep is not None]
        where = f"in rep{'s' if len(reps) > 1 else ''} {', '.join(reps)}" if reps else "at setup"
        unit = UNITS.get(code, "")
        measured = [
            f"{fmt(f.get('value'), 1, unit)} (limit {fmt(f.get('threshold'), 1, unit)})"
            + (f" in rep {rep}" if rep is not None else "")
            for rep, f in g["items"] if f.get("value") is not None
        ]
        blocks.append(
            f"<div class=\"finding\"><h3>{esc(titles.get(code, code.replace('_', ' ')))} "
            f"{badge(sev, sev)}</h3><p class=\"muted\">{len(g['items'])}× {esc(where)}</p>"
            f"<p>{esc(g['message'])}</p>"
            + (f"<p class=\"cue\">Cue: “{esc(g['cue'])}”</p>" if g["cue"] else "")
            + (f"<p class=\"muted\">Measured: {esc('; '.join(measured))}</p>" if measured else "")
            + "</div>"
        )
    return "<h2>What to work on</h2>\n" + "\n".join(blocks)


def _camera(report: Mapping[str, Any]) -> str:
    view = str(report.get("camera_view") or "unknown")
    seen, blind = VIEWS.get(view, VIEWS["unknown"])
    warnings = "".join(f"<li>{esc(w)}</li>" for w in report.get("warnings") or [])
    return (
        f"<h2>Camera</h2>\n<p><b>View: {esc(view)}.</b> {esc(seen)}</p>\n"
        f"<p>What it cannot see well: {esc(blind)}</p>\n"
        + (f"<ul>{warnings}</ul>" if warnings else "<p class=\"muted\">No warnings.</p>")
    )


def _footer(report: Mapping[str, Any]) -> str:
    rows = []
    for section in ("setup", "roll_back", "opening", "feet", "tempo"):
        values = thresholds.used(report).get(section, {})
        cells = ", ".join(f"{esc(k)} = {esc(v)}" for k, v in values.items())
        rows.append(f"<tr><th>{esc(section)}</th><td>{cells}</td></tr>")
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<h2>Thresholds used</h2>\n<details open><summary>The method's numbers for this "
        f"analysis</summary><table>{''.join(rows)}</table></details>\n"
        f"<footer>Made by clamcoach {esc(clamcoach.__version__)} on {made} · report schema "
        f"{esc(report.get('schema', '?'))}. Measured from one camera: a guide for practice, "
        "not a diagnosis.</footer>"
    )
