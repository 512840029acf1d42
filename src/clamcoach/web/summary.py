"""The end-of-session summary: what went well, and the one thing to work on.

The one thing is chosen the way the file report chooses its advice (``Analysis.advice``):
the method's priority first (roll-back above everything), then how often it happened.

Each "went well" sentence is sent twice: filled in, in English (``went_well``), and as a
catalogue id with its numbers (``went_well_items``), which the page shows in its language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from clamcoach.rules import priority
from clamcoach.web.i18n import N_, NN_, Item


@dataclass
class SetRecord:
    index: int
    analysis: Any            # clamcoach.engine.Analysis
    ended_early: bool = False

    @property
    def reps(self) -> int:
        return len(self.analysis.reps)


def _serious(f: Any) -> bool:
    return getattr(f.severity, "value", f.severity) != "info"


def set_dict(rec: SetRecord) -> dict:
    return {"set": rec.index, "reps": rec.reps, "clean_reps": rec.analysis.clean_reps(),
            "ended_early": rec.ended_early}


def summarize(sets: list[SetRecord], sets_planned: int, reps_per_set: int, proto: Any) -> dict:
    reps = sum(r.reps for r in sets)
    clean = sum(r.analysis.clean_reps() for r in sets)
    findings = [f for r in sets for f in r.analysis.all_findings()]
    serious = Counter(f.code for f in findings if _serious(f))
    rep_codes = Counter(f.code for r in sets for rep in r.analysis.reps for f in rep.findings)
    # Praise for staying rolled forward only where the roll reading could be trusted.
    roll_trusted = bool(sets) and all(r.analysis.roll_reading_trusted for r in sets)

    well: list[Item] = []
    if reps:
        well.append(Item(*NN_("You did {n} rep.", "You did {n} reps."), n=reps))
        if roll_trusted and not rep_codes["roll_back"]:
            well.append(Item(N_("You stayed rolled forward on every rep: the most important part.")))
        if clean == reps:
            well.append(Item(N_("Every rep was clean.")))
        elif clean:
            well.append(Item(N_("{clean} of {reps} reps were clean."), params={"clean": clean, "reps": reps}))
        if not rep_codes["lift_too_high"]:
            well.append(Item(N_("You kept the opening small and controlled.")))
        if not rep_codes["too_fast"] and not rep_codes["no_hold"]:
            well.append(Item(N_("You moved slowly and paused at the top.")))
    if sets and not any(_serious(f) for r in sets for f in r.analysis.setup_findings):
        well.append(Item(N_("Your starting position was right.")))
    if not well:
        well.append(Item(N_("You got set up and started: that is the first step.")))

    work_on = None
    if serious:
        code = sorted(serious, key=lambda c: (priority(c), -serious[c]))[0]
        first = next(f for f in findings if f.code == code)
        work_on = {"code": code, "count": serious[code], "cue": first.cue,
                   "message": proto.message(code) or first.message}
    return {
        "sets_done": len(sets), "sets_planned": sets_planned,
        "reps": reps, "reps_target": sets_planned * reps_per_set, "clean_reps": clean,
        "went_well": [item.english() for item in well[:3]],
        "went_well_items": [item.as_dict() for item in well[:3]], "work_on": work_on,
        "per_set": [set_dict(r) for r in sets],
    }
