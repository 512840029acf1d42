"""Does a set follow the prescription? The side, reps per set, sets, hold and tempo of the
protocol's ``[prescription]`` (a patient's prescription patched in) against one analysed set.

Pure functions: ``check_prescription(protocol, analysis_or_report, sets_done=None)`` takes
the prescribed ``Protocol`` and either an ``engine.Analysis`` or its JSON report
(``clamcoach.analysis/1``) and returns a typed :class:`PrescriptionCheck`. Its notes are not
findings: a set on the wrong leg or 5 of 10 reps is about the dose, not about how each rep
was done, so the reps' findings and the clean-rep count stay what the method says.

    PrescriptionCheck
        dose      Dose (side, sets, reps, hold_s, tempo, tolerance)
        reps_done, sets_done, side_done, measured (mean up / hold / down seconds)
        notes     (Note(code, severity, text, cue, done, target, reps), ...)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from statistics import fmean
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from clamcoach.jsonio import rounded
from clamcoach.protocol import Protocol, Tempo, parse_tempo
from clamcoach.types import Severity

if TYPE_CHECKING:
    from clamcoach.analysis import Analysis


class NoteCode(str, Enum):
    """Stable codes of the prescription check (labels in the protocol file's ``[labels]``)."""

    WRONG_SIDE = "wrong_side"
    REPS_SHORT = "reps_short"
    REPS_OVER = "reps_over"
    SETS_SHORT = "sets_short"
    HOLD_SHORT = "hold_short"
    HOLD_LONG = "hold_long"
    TEMPO_UP_FAST = "tempo_up_fast"
    TEMPO_UP_SLOW = "tempo_up_slow"
    TEMPO_DOWN_FAST = "tempo_down_fast"
    TEMPO_DOWN_SLOW = "tempo_down_slow"


@dataclass(frozen=True)
class Dose:
    """What is prescribed for one set (from the protocol's ``[prescription]``)."""

    side: str                 # "left", "right" or "both"
    sets: int
    reps: int
    hold_s: float
    tempo: Tempo | None
    tolerance: float

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "sets": self.sets, "reps": self.reps, "hold_s": self.hold_s,
                "tempo": str(self.tempo) if self.tempo else None, "tolerance": self.tolerance}


@dataclass(frozen=True)
class Note:
    code: NoteCode
    severity: Severity
    text: str                 # the protocol's message, filled in
    cue: str                  # short, for speech and the live page ("" when none)
    done: float | str | None
    target: float | str | None
    reps: tuple[int, ...] = ()  # the reps it is about (empty: the whole set)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "severity": self.severity.value, "text": self.text,
                "cue": self.cue, "done": self.done, "target": self.target, "reps": list(self.reps)}


@dataclass(frozen=True)
class Measured:
    """Mean seconds per phase over the set's reps (None without reps)."""

    up_s: float | None
    hold_s: float | None
    down_s: float | None

    def tempo_text(self) -> str:
        parts = [f"{v:.1f}" if v is not None else "–" for v in (self.up_s, self.hold_s, self.down_s)]
        return "-".join(parts)


@dataclass(frozen=True)
class PrescriptionCheck:
    dose: Dose
    reps_done: int
    sets_done: int | None
    side_done: str | None
    measured: Measured
    notes: tuple[Note, ...] = field(default_factory=tuple)

    @property
    def side_ok(self) -> bool:
        return not any(n.code is NoteCode.WRONG_SIDE for n in self.notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dose": self.dose.to_dict(),
            "reps_done": self.reps_done,
            "sets_done": self.sets_done,
            "side_done": self.side_done,
            "measured": {"up_s": rounded(self.measured.up_s), "hold_s": rounded(self.measured.hold_s),
                         "down_s": rounded(self.measured.down_s)},
            "notes": [n.to_dict() for n in self.notes],
        }


@dataclass(frozen=True)
class _RepTimes:
    index: int
    up_s: float
    hold_s: float
    down_s: float


def dose_of(protocol: Protocol) -> Dose:
    rx = protocol.prescription
    return Dose(side=rx.side, sets=rx.sets, reps=rx.reps, hold_s=rx.hold_s,
                tempo=parse_tempo(rx.tempo), tolerance=rx.tolerance)


def check_prescription(protocol: Protocol, analysis: Analysis | Mapping[str, Any], *,
                       sets_done: int | None = None) -> PrescriptionCheck:
    """The prescription check of one set. ``analysis``: an ``engine.Analysis`` or its report
    dict. ``sets_done``: how many sets (this one included) were done today, when known."""
    side, reps = _read(analysis)
    dose = dose_of(protocol)
    measured = Measured(*(_mean([getattr(r, phase) for r in reps])
                          for phase in ("up_s", "hold_s", "down_s")))
    notes: list[Note] = []

    def note(code: NoteCode, severity: Severity, done: float | str | None, target: float | str | None,
             on: Sequence[int] = ()) -> None:
        text = protocol.message(code.value).format(done=_show(done), target=_show(target))
        notes.append(Note(code, severity, text, protocol.cue(code.value), done, target, tuple(on)))

    if dose.side in ("left", "right") and side in ("left", "right") and side != dose.side:
        note(NoteCode.WRONG_SIDE, Severity.WARN, side, dose.side)
    if len(reps) < dose.reps:
        note(NoteCode.REPS_SHORT, Severity.INFO, len(reps), dose.reps)
    elif len(reps) > dose.reps:
        note(NoteCode.REPS_OVER, Severity.INFO, len(reps), dose.reps)
    if sets_done is not None and sets_done < dose.sets:
        note(NoteCode.SETS_SHORT, Severity.INFO, sets_done, dose.sets)
    _phase(note, reps, "hold_s", dose.hold_s, dose.tolerance,
           NoteCode.HOLD_SHORT, NoteCode.HOLD_LONG, measured.hold_s)
    if dose.tempo is not None:
        _phase(note, reps, "up_s", dose.tempo.up_s, dose.tolerance,
               NoteCode.TEMPO_UP_FAST, NoteCode.TEMPO_UP_SLOW, measured.up_s)
        _phase(note, reps, "down_s", dose.tempo.down_s, dose.tolerance,
               NoteCode.TEMPO_DOWN_FAST, NoteCode.TEMPO_DOWN_SLOW, measured.down_s)
    return PrescriptionCheck(dose, len(reps), sets_done, side, measured, tuple(notes))


_NoteFn = Callable[[NoteCode, Severity, "float | str | None", "float | str | None", Sequence[int]], None]


def _phase(note: _NoteFn, reps: list[_RepTimes], phase: str, target: float, tolerance: float,
           short: NoteCode, long: NoteCode, mean: float | None) -> None:
    """A note when the set's mean time of ``phase`` is outside target +/- tolerance; it
    names the reps that were outside on their own."""
    if mean is None:
        return
    lo, hi = target * (1 - tolerance), target * (1 + tolerance)
    if mean < lo:
        note(short, Severity.INFO, round(mean, 1), target,
             [r.index for r in reps if getattr(r, phase) < lo])
    elif mean > hi:
        note(long, Severity.INFO, round(mean, 1), target,
             [r.index for r in reps if getattr(r, phase) > hi])


def _read(analysis: Analysis | Mapping[str, Any]) -> tuple[str | None, list[_RepTimes]]:
    """(top side, per-rep times) from an Analysis or a report mapping."""
    if isinstance(analysis, Mapping):
        side = analysis.get("top_side")
        rep_rows = list(analysis.get("reps") or [])
    else:
        # The report's own rounding, so a check on the analysis and on its saved report agree.
        side = analysis.top_side
        rep_rows = [r.to_dict() for r in analysis.reps]
    rows = [(r.get("index"), r.get("up_s"), r.get("hold_s"), r.get("down_s")) for r in rep_rows]
    reps = [_RepTimes(int(i), *(_finite(v) for v in times)) for i, *times in rows]
    return side, reps


def _finite(value: Any) -> float:  # a JSON value of a report, or a Rep field
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _mean(values: list[float]) -> float | None:
    vals = [v for v in values if math.isfinite(v)]
    return fmean(vals) if vals else None


def _show(value: float | str | None) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def report_fields(check: PrescriptionCheck, patient: str | None,
                  prescription: Mapping[str, Any] | None) -> dict[str, Any]:
    """The keys a report gains: whose set it was, the prescription version it was checked
    against (None: the protocol's dose) and the check itself."""
    version = prescription.get("version") if prescription else None
    return {"patient": patient, "prescription_version": version,
            "prescription_check": check.to_dict()}
