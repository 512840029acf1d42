"""The rep stage of the engine: the rep detector, the live roll-back and lift checks, and the
rules once a rep ends.

The live roll-back test is ``rules.Sustained``, the online form of the report's check, so a
cue said during a rep and the finding in the report agree; the rep's findings come from
``rules.check_rep`` itself, not from a second copy here.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from clamcoach.protocol import Protocol
from clamcoach.reps import RepDetector, RepParams, Sample
from clamcoach.rules import Sustained, check_rep, finding, rep_measures
from clamcoach.types import Finding, Kinematics, Phase, Rep, Severity

#: A rep is counted from this share of the protocol's smallest rep: small openings read a
#: little small (the landmarks move less than the joints at the start of a movement).
SMALL_REP_SHARE = 0.7
#: A set held this long after the setup with no rep: reported as held with no visible lift ...
NO_LIFT_AFTER_S = 8.0
#: ... when it was measured (a body the model explained) for this share of that time: a set
#: whose body was lost after one rep (eval/e3_feet: at 3.3 s of 31) showed nothing about
#: lifting, and "you held a good position" would praise what nobody saw.
NO_LIFT_MEASURED_SHARE = 0.8
#: Frames further apart than this do not count the time between them as measured (s).
MEASURED_GAP_S = 0.5
#: The rep's starting roll is the median of the rest this long before it.
REST_ROLL_S = 0.5


def rep_params_for(protocol: Protocol) -> RepParams:
    smallest = SMALL_REP_SHARE * protocol.opening.min_rep_deg
    return RepParams(min_rep_deg=smallest, start_deg=min(2.5, smallest / 2))


@dataclass
class RepFrame:
    """What the rep stage made of one frame."""

    phase: Phase
    opening_deg: float
    opening_sd_deg: float
    roll_change_deg: float
    roll_sd_deg: float
    hold_s: float = 0.0
    #: Live corrections due now (finding codes), before the rep has ended.
    live: list[str] = field(default_factory=list)
    #: The rep that ended on this frame, with its findings.
    rep: Rep | None = None


class RepStage:
    def __init__(self, protocol: Protocol, params: RepParams | None = None) -> None:
        self.proto = protocol
        self.detector = RepDetector(params or rep_params_for(protocol))
        self.done: list[Rep] = []
        self._rest_rolls: deque[tuple[float, float]] = deque()
        self._start_roll = math.nan
        #: Seconds of measured frames so far, and the last one's time.
        self.measured_s = 0.0
        self._last_measured_t = -math.inf
        self._roll_back = Sustained(protocol.roll_back.warn_deg, protocol.roll_back.sustain_s)

    @property
    def in_rep(self) -> bool:
        return self.detector.in_rep

    def restart(self) -> None:
        """The setup was (re)measured: the levels a rep is measured from start again."""
        self.detector.reset()
        self._rest_rolls.clear()

    def abandon_rep(self) -> None:
        """The setup is being measured again: no rep can be judged meanwhile."""
        if self.detector.in_rep:
            self.detector.reset()

    def no_body(self, t: float) -> None:
        self.detector.push(None, t)

    def push(self, t: float, kin: Kinematics, roll_judged: bool) -> RepFrame:
        if 0.0 < t - self._last_measured_t <= MEASURED_GAP_S:
            self.measured_s += t - self._last_measured_t
        self._last_measured_t = t
        was_in_rep = self.detector.in_rep
        event = self.detector.push(Sample(t, kin.opening_deg, kin), t)
        if not was_in_rep and self.detector.in_rep:
            rolls = [r for _, r in self._rest_rolls if math.isfinite(r)]
            self._start_roll = float(np.median(rolls)) if rolls else kin.pelvis_roll_deg
            self._roll_back.reset()
        if not self.detector.in_rep:
            self._rest_rolls.append((t, kin.pelvis_roll_deg))
            while self._rest_rolls and self._rest_rolls[0][0] < t - REST_ROLL_S:
                self._rest_rolls.popleft()
        if self.detector.in_rep:
            change = kin.pelvis_roll_deg - self._start_roll
            out = RepFrame(self.detector.state, kin.opening_deg - self.detector.start_level,
                           kin.sd.opening_deg, change if roll_judged else math.nan,
                           kin.sd.pelvis_roll_deg, hold_s=self.detector.hold_s)
            # The same test as the report's check (roll-back at or past the warn level for
            # the sustain time), run as the rep goes.
            if roll_judged and self._roll_back.push(t, -change):
                out.live.append("roll_back")
            if out.opening_deg >= self.proto.opening.too_high_deg:
                out.live.append("lift_too_high")
        else:
            out = RepFrame(Phase.READY, 0.0 if math.isfinite(kin.opening_deg) else math.nan,
                           kin.sd.opening_deg, 0.0 if roll_judged else math.nan, kin.sd.pelvis_roll_deg)
        if event is not None:
            rep = rep_measures(event, len(self.done) + 1, self.proto)
            rep = replace(rep, findings=check_rep(rep, self.proto))
            self.done.append(rep)
            out.rep = rep
            out.hold_s = rep.hold_s
        return out

    def measured_again(self, kins: list[Kinematics], since: float, roll_judged: bool) -> tuple[int, list[Rep]]:
        """The frames from ``since`` measured again (the setup they were first measured from had
        been taken in a hold): the reps they make, found by the same detector and rules, take the
        place of those counted from ``since``. Returns the first index replaced and the reps."""
        replay = RepStage(self.proto, self.detector.params)
        found = [got.rep for got in (replay.push(k.t, k, roll_judged) for k in kins) if got.rep is not None]
        kept = [r for r in self.done if r.start_s < since]
        first = len(kept) + 1
        new = [replace(r, index=first + i) for i, r in enumerate(found)]
        self.done = kept + new
        # Go on from where the replay is (a rep it is in the middle of goes on live): it is what
        # this stage would be now had the frames been measured from this setup all along.
        self.detector, self._rest_rolls = replay.detector, replay._rest_rolls
        self._start_roll, self._roll_back = replay._start_roll, replay._roll_back
        return first, new

    def set_findings(self, settled_at: float, last_t: float) -> tuple[Finding, ...]:
        """Findings about the whole set: held after the setup with no visible lift (and seen
        doing so: measured for most of the time since the setup)."""
        held_s = last_t - settled_at
        if (not self.done and math.isfinite(settled_at) and held_s >= NO_LIFT_AFTER_S
                and self.measured_s >= NO_LIFT_MEASURED_SHARE * held_s):
            return (finding(self.proto, "no_visible_lift", Severity.INFO, None, None),)
        return ()


__all__ = ["RepStage", "RepFrame", "rep_params_for", "SMALL_REP_SHARE", "NO_LIFT_AFTER_S", "NO_LIFT_MEASURED_SHARE"]
