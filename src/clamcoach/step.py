"""What the engine made of one frame: the live page, the annotated video and the terminal read
this (see docs/ENGINE_API.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from clamcoach.coach import Cue
from clamcoach.rep_stage import RepFrame
from clamcoach.types import BodyFrame, Finding, Kinematics, Phase, Rep


@dataclass
class Step:
    t: float
    phase: Phase
    kinematics: Kinematics | None = None
    body: BodyFrame | None = None
    setup_checks: dict[str, bool | None] = field(default_factory=dict)
    setup_ok: bool = False
    rep_count: int = 0
    #: Opening above the rep's starting level (0 between reps), degrees.
    opening_deg: float = math.nan
    opening_sd_deg: float = math.nan
    #: Pelvis roll since the rep started (NaN when this view cannot judge it), degrees.
    roll_change_deg: float = math.nan
    roll_sd_deg: float = math.nan
    hold_s: float = 0.0
    new_reps: list[Rep] = field(default_factory=list)
    #: The reps from this index on were measured again (a setup had been taken in a hold):
    #: ``new_reps`` holds them all, in place of those shown before. None on most frames.
    reps_replaced_from: int | None = None
    new_findings: list[Finding] = field(default_factory=list)
    cue: Cue | None = None
    view: str = "unknown"
    view_can_see_roll: bool = False
    #: This placement sizes the opening to within the protocol's share (``opening_loose``
    #: otherwise); None before a setup.
    view_can_size_opening: bool | None = None
    in_frame: bool = False

    def show(self, got: RepFrame) -> None:
        """Take the rep stage's readings of this frame (and the rep that ended on it)."""
        self.phase = got.phase
        self.opening_deg, self.opening_sd_deg = got.opening_deg, got.opening_sd_deg
        self.roll_change_deg, self.roll_sd_deg, self.hold_s = got.roll_change_deg, got.roll_sd_deg, got.hold_s
        if got.rep is not None:
            self.new_reps.append(got.rep)
            self.new_findings.extend(got.rep.findings)


__all__ = ["Step"]
