"""The end-of-session summary in words: what went well, and the one thing to work on.

What the session came to is decided in the core (``session_flow.summarize``); this module
only says it. Each "went well" sentence is sent twice: filled in, in English (``went_well``),
and as a catalogue id with its numbers (``went_well_items``), which the page shows in its
language.
"""

from __future__ import annotations

from typing import Any, Sequence

from clamcoach.protocol import Protocol
from clamcoach.session_flow import Plan, SessionSummary, SetRecord, summarize as summarize_sets
from clamcoach.web.i18n import N_, NN_, Item

#: At most this many "went well" sentences: a few true ones, not a list.
MAX_WENT_WELL = 3


def set_dict(rec: SetRecord) -> dict[str, Any]:
    return {"set": rec.index, "reps": rec.reps, "clean_reps": rec.clean_reps, "ended_early": rec.ended_early}


def went_well(s: SessionSummary) -> list[Item]:
    well: list[Item] = []
    if s.reps:
        well.append(Item(*NN_("You did {n} rep.", "You did {n} reps."), n=s.reps))
        if s.stayed_rolled_forward:
            well.append(Item(N_("You stayed rolled forward on every rep: the most important part.")))
        if s.clean_reps == s.reps:
            well.append(Item(N_("Every rep was clean.")))
        elif s.clean_reps:
            well.append(Item(N_("{clean} of {reps} reps were clean."),
                             params={"clean": s.clean_reps, "reps": s.reps}))
        if s.kept_opening_small:
            well.append(Item(N_("You kept the opening small and controlled.")))
        if s.slow_with_pause:
            well.append(Item(N_("You moved slowly and paused at the top.")))
    if s.setup_right:
        well.append(Item(N_("Your starting position was right.")))
    if not well:
        well.append(Item(N_("You got set up and started: that is the first step.")))
    return well[:MAX_WENT_WELL]


def summary_dict(s: SessionSummary, proto: Protocol) -> dict[str, Any]:
    """The ``summary`` of the session message."""
    work_on = None
    if s.work_on is not None:
        f = s.work_on.finding
        work_on = {"code": f.code, "count": s.work_on.count, "cue": f.cue,
                   "message": proto.message(f.code) or f.message}
    well = went_well(s)
    return {
        "sets_done": len(s.sets), "sets_planned": s.sets_planned,
        "reps": s.reps, "reps_target": s.reps_target, "clean_reps": s.clean_reps,
        "went_well": [item.english() for item in well],
        "went_well_items": [item.as_dict() for item in well], "work_on": work_on,
        "per_set": [set_dict(r) for r in s.sets],
    }


def summarize(sets: Sequence[SetRecord], sets_planned: int, reps_per_set: int, proto: Protocol) -> dict[str, Any]:
    """The summary message of finished ``sets`` against a plan of ``sets_planned`` sets of
    ``reps_per_set`` reps."""
    plan = Plan(sets=sets_planned, reps=reps_per_set, hold_s=proto.prescription.hold_s,
                rest_s=proto.prescription.rest_s)
    return summary_dict(summarize_sets(sets, plan), proto)


__all__ = ["SetRecord", "set_dict", "summarize", "summary_dict", "went_well"]
