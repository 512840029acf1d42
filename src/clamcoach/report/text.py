"""The terminal summary: what a patient reads after a set, in plain words."""

from __future__ import annotations

import math

from typing import Any, Mapping

from clamcoach.engine import Analysis
from clamcoach.prescription_check import PrescriptionCheck
from clamcoach.types import Finding, Severity

_MARK = {Severity.ERROR: "!!", Severity.WARN: "! ", Severity.INFO: "- "}


def _deg(x: float) -> str:
    return "  n/a" if x is None or not math.isfinite(x) else f"{x:4.0f}°"


def summary_text(analysis: Analysis, source_name: str, duration_s: float) -> str:
    a = analysis
    lines: list[str] = []
    side = f", {a.top_side} leg on top" if a.top_side else ""
    lines.append(f"clamcoach: {source_name} ({duration_s:.1f} s, {a.view} camera{side})")
    lines.append("")
    lines += _setup_lines(a)
    lines.append("")
    clean = a.clean_reps()
    lines.append(f"Reps: {len(a.reps)} ({clean} clean)")
    if a.reps:
        roll_hdr = "roll-back" if a.view_can_see_roll else "roll-back (not visible)"
        lines.append(f"  rep  opening  {roll_hdr:>9}   up    hold  down   notes")
    for rep in a.reps:
        notes = ", ".join(a.protocol.label(f.code) for f in rep.findings) or "good"
        lines.append(
            f"  {rep.index:>3}  {_deg(rep.opening_deg):>7}  {_deg(rep.roll_back_deg):>9}  "
            f"{rep.up_s:4.1f}s {rep.hold_s:4.1f}s {rep.down_s:4.1f}s   {notes}"
        )
    advice = a.advice()
    lines.append("")
    if advice:
        lines.append("What to change:")
        for i, f in enumerate(advice, 1):
            lines.append(f"  {i}. {f.cue}")
            lines.append(f"     Why: {f.message}")
    elif a.reps:
        lines.append("Well done: every rep followed the method. Keep the control, not the height.")
    # Analysis.warnings already says when the roll-back cannot be seen, and where to move the camera.
    if a.warnings:
        lines.append("")
        lines.append("Notes:")
        for w in a.warnings:
            lines.append(f"  - {w}")
    return "\n".join(lines) + "\n"


def _setup_lines(a: Analysis) -> list[str]:
    m = a.setup.measures
    out = ["Setup:"]
    if not m.side_lying:
        out.append("  !! You don't seem to be lying on your side (or the setup never held still).")
    elif not math.isfinite(m.hip_flexion_deg):
        out.append("  - The setup never held still long enough to be checked.")
    else:
        roll = f"rolled forward {m.forward_roll_deg:.0f}°" if math.isfinite(m.forward_roll_deg) else "forward roll not visible from here"
        hand = {True: "hand on hip", False: "hand not on hip", None: "hand not seen"}[m.hand_on_hip]
        out.append(f"  Lying on your side; hips {m.hip_flexion_deg:.0f}°, knees {m.knee_flexion_deg:.0f}°; {roll}; {hand}.")
    for f in a.setup.findings:
        out.append(f"  {_MARK[f.severity]} {_finding_line(f)}")
    if not a.setup.findings and m.side_lying and math.isfinite(m.hip_flexion_deg):
        out.append("  Setup follows the method.")
    return out


def _finding_line(f: Finding) -> str:
    return f.cue or f.code


def prescription_lines(check: PrescriptionCheck, prescription: Mapping[str, Any] | None,
                       patient: str | None) -> list[str]:
    """The set against the prescription: whose, which version, and each note."""
    d = check.dose
    tempo = f", tempo {d.tempo} s (up-hold-down)" if d.tempo else ""
    side = f", {d.side} leg" if d.side != "both" else ""
    dose = f"{d.sets} x {d.reps} reps, hold {d.hold_s:g} s{tempo}{side}"
    if patient and prescription:
        head = f"Prescription of {patient} (version {prescription['version']}): {dose}"
    elif patient:
        head = f"{patient} has no prescription; the protocol's dose: {dose}"
    else:
        head = f"The protocol's dose: {dose}"
    lines = [head, f"  This set: {check.reps_done} reps, tempo {check.measured.tempo_text()} s "
                   "(up-hold-down, mean)"]
    lines += [f"  {_MARK[n.severity]} {n.text}" for n in check.notes]
    return lines
