"""The engine: wires the stages, one frame at a time. The only place that knows their order.

    PoseFrame -> BodyTracker -> posture, MeasureStage -> SetupMonitor -> RepDetector -> rules -> Coach

``Engine.push`` is called once per frame by live coaching and by file analysis alike, so a
file analysis is a replay of the live engine. Nothing here holds images; the per-frame series
kept for reports are numbers.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field, replace

import numpy as np

from clamcoach.analysis import SCHEMA, Analysis
from clamcoach.body import BodyParams, BodyTracker, in_frame
from clamcoach.coach import Coach, Cue, CueKind, Offer
from clamcoach.measure.placement import Placement, assess
from clamcoach.measure.profiles import BLAZEPOSE, LandmarkProfile
from clamcoach.measure.stage import MeasureParams, MeasureStage, StageState
from clamcoach.posture import posture
from clamcoach.protocol import Protocol
from clamcoach.reps import RepDetector, RepParams, Sample
from clamcoach.rules import Sustained, check_rep, finding, rep_measures
from clamcoach.setup import SetupMonitor, SetupResult
from clamcoach.types import MEASURES, BodyFrame, Finding, Kinematics, Phase, PoseFrame, Rep, Severity

__all__ = ["Engine", "Step", "Analysis", "SetupResult", "SCHEMA", "rep_params_for"]

#: A set held this long after the setup with no rep: reported as held with no visible lift.
NO_LIFT_AFTER_S = 8.0


@dataclass
class Step:
    """What the engine made of one frame (see docs/ENGINE_API.md)."""

    t: float
    phase: Phase
    kinematics: Kinematics | None = None
    body: BodyFrame | None = None
    setup_checks: dict[str, bool | None] = field(default_factory=dict)
    setup_ok: bool = False
    rep_count: int = 0
    opening_deg: float = math.nan
    opening_sd_deg: float = math.nan
    roll_change_deg: float = math.nan
    roll_sd_deg: float = math.nan
    hold_s: float = 0.0
    new_reps: list[Rep] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    cue: Cue | None = None
    view: str = "unknown"
    view_can_see_roll: bool = False
    in_frame: bool = False


class Engine:
    """One set (or one live session) of clamshells."""

    def __init__(self, protocol: Protocol, *, body_params: BodyParams = BodyParams(),
                 rep_params: RepParams | None = None, measure_params: MeasureParams = MeasureParams(),
                 focal_px: float | None = None, noise_rel: dict[str, float] | None = None,
                 profile: LandmarkProfile = BLAZEPOSE) -> None:
        self.proto = protocol
        self.body = BodyTracker(body_params)
        self.measure = MeasureStage(measure_params, focal_px=focal_px, profile=profile)
        if noise_rel is not None:
            self.measure.noise_rel = dict(noise_rel)
        self.setup = SetupMonitor(protocol)
        self.reps = RepDetector(rep_params or rep_params_for(protocol))
        self.coach = Coach(protocol)
        self.placement: Placement | None = None
        self.rep_list: list[Rep] = []
        self.frames: list[dict] = []
        self.n_frames = 0
        self.n_pose = 0
        self._calibrations = 0
        self._rest_rolls: deque[tuple[float, float]] = deque()
        self._rep_start_roll = math.nan
        self._last_seen = -math.inf
        self._roll_back = Sustained(protocol.roll_back.warn_deg, protocol.roll_back.sustain_s)
        self._phase = Phase.SETUP
        self._settled_at = math.nan
        self._last_t = math.nan

    @property
    def roll_judged(self) -> bool:
        return self.placement is not None and self.placement.roll_sd_deg <= self.proto.roll_back.max_sd_deg

    # -- the per-frame step -----------------------------------------------------------------
    def push(self, pose: PoseFrame | None, t: float) -> Step:
        self.n_frames += 1
        self._last_t = t
        if pose is not None and pose.t != t:
            pose = replace(pose, t=t)  # one clock for every stage: the engine's
        body = self.body.push(pose)
        if body is None:
            return self._no_body(t)
        self.n_pose += 1
        self._last_seen = t
        post = posture(body)
        self.setup.observe(t, post)
        kin = self.measure.push(body, may_calibrate=post.side_lying)
        if kin is not None:
            kin = replace(kin, hand_on_hip=post.hand_on_hip)
        offers: list[Offer] = []
        setup_found: tuple[Finding, ...] = ()
        if self.measure.calibrations != self._calibrations:
            self._calibrations = self.measure.calibrations
            setup_found = self._calibrated(t, kin)
            offers += [Offer(x.code, CueKind.CORRECTION) for x in setup_found if x.severity is not Severity.INFO]
        if self.measure.state is StageState.COLLECTING and self.reps.in_rep:
            self.reps.reset()  # the setup is being measured again: no rep can be judged meanwhile
        self.setup.live_checks(kin, post, self.measure, self.placement)
        step = Step(t=t, phase=self._phase, kinematics=kin, body=body, setup_checks=dict(self.setup.checks),
                    setup_ok=self.setup.result is not None, view=self.placement.view if self.placement else "unknown",
                    view_can_see_roll=self.roll_judged, in_frame=pose is not None and in_frame(pose))
        step.new_findings.extend(setup_found)
        if kin is None:
            self._phase = Phase.SETUP
            if not post.side_lying:
                offers.append(Offer("not_side_lying", CueKind.INFO))
        elif self.setup.result is not None:
            offers += self._rep_step(t, kin, step)
        step.phase = self._phase
        step.rep_count = len(self.rep_list)
        step.cue = self.coach.choose(t, offers)
        self._record(t, kin, body, step)
        return step

    def _calibrated(self, t: float, kin: Kinematics | None) -> tuple[Finding, ...]:
        """The measurement stage has (re)fitted the setup: judge it the first time."""
        assert self.measure.setup is not None
        self.placement = assess(self.measure.setup, self.measure.noise_px(), self.proto.roll_back.max_sd_deg)
        self.reps.reset()
        self._rest_rolls.clear()
        if self.setup.result is not None or kin is None:
            return ()
        result = self.setup.judge(t, kin, self.measure, self.placement)
        self._phase = Phase.READY
        self._settled_at = t
        return result.findings

    def _rep_step(self, t: float, kin: Kinematics, step: Step) -> list[Offer]:
        offers: list[Offer] = []
        was_in_rep = self.reps.in_rep
        event = self.reps.push(Sample(t, kin.opening_deg, kin), t)
        if not was_in_rep and self.reps.in_rep:
            rolls = [r for _, r in self._rest_rolls if math.isfinite(r)]
            self._rep_start_roll = float(np.median(rolls)) if rolls else kin.pelvis_roll_deg
            self._roll_back.reset()
        if not self.reps.in_rep:
            self._rest_rolls.append((t, kin.pelvis_roll_deg))
            while self._rest_rolls and self._rest_rolls[0][0] < t - 0.5:
                self._rest_rolls.popleft()
        judged = self.roll_judged
        step.opening_sd_deg = kin.sd.opening_deg
        step.roll_sd_deg = kin.sd.pelvis_roll_deg
        if self.reps.in_rep:
            step.opening_deg = kin.opening_deg - self.reps.start_level
            change = kin.pelvis_roll_deg - self._rep_start_roll
            step.roll_change_deg = change if judged else math.nan
            self._phase = self.reps.state
            step.hold_s = self.reps.hold_s
            # The same test as the report's check (roll-back at or past the warn level for
            # the sustain time), run as the rep goes.
            if judged and self._roll_back.push(t, -change):
                offers.append(Offer("roll_back", CueKind.CORRECTION))
            if step.opening_deg >= self.proto.opening.too_high_deg:
                offers.append(Offer("lift_too_high", CueKind.CORRECTION))
        else:
            self._phase = Phase.READY
            step.opening_deg = 0.0 if math.isfinite(kin.opening_deg) else math.nan
            step.roll_change_deg = 0.0 if judged else math.nan
        if event is not None:
            rep = rep_measures(event, len(self.rep_list) + 1, self.proto)
            found = check_rep(rep, self.proto)
            rep = replace(rep, findings=found)
            self.rep_list.append(rep)
            step.new_reps.append(rep)
            step.new_findings.extend(found)
            step.hold_s = rep.hold_s
            serious = [x for x in found if x.severity is not Severity.INFO]
            offers += [Offer(x.code, CueKind.CORRECTION) for x in found]
            if self.coach.praise_due(clean=not serious):
                offers.append(Offer("praise_control", CueKind.PRAISE))
        return offers

    def _no_body(self, t: float) -> Step:
        self.reps.push(None, t)
        offers = [Offer("get_in_frame", CueKind.INFO)] if t - self._last_seen > 2.0 else []
        self._record(t, None, None, None)
        return Step(t=t, phase=Phase.NO_PERSON, rep_count=len(self.rep_list), in_frame=False,
                    view=self.placement.view if self.placement else "unknown",
                    view_can_see_roll=self.roll_judged, setup_checks=dict(self.setup.checks),
                    setup_ok=self.setup.result is not None, cue=self.coach.choose(t, offers))

    def _record(self, t: float, kin: Kinematics | None, body: BodyFrame | None, step: Step | None) -> None:
        row: dict = {"t": round(t, 4)}
        for name in MEASURES:
            row[name] = kin.value(name) if kin is not None else math.nan
        row["opening_sd_deg"] = kin.sd.opening_deg if kin is not None else math.nan
        row["pelvis_roll_sd_deg"] = kin.sd.pelvis_roll_deg if kin is not None else math.nan
        row["phase"] = step.phase.value if step is not None else Phase.NO_PERSON.value
        row["landmarks"] = body.image.astype(np.float32) if body is not None else None
        self.frames.append(row)

    # -- the end of the set -----------------------------------------------------------------
    def finish(self) -> Analysis:
        setup = self.setup.result or self.setup.never_settled()
        for row in self.frames:
            row["rep"] = None
        k = 0
        for row in self.frames:
            while k < len(self.rep_list) and row["t"] > self.rep_list[k].end_s:
                k += 1
            if k < len(self.rep_list) and self.rep_list[k].start_s <= row["t"]:
                row["rep"] = self.rep_list[k].index
        set_findings: tuple[Finding, ...] = ()
        if (not self.rep_list and math.isfinite(self._settled_at)
                and self._last_t - self._settled_at >= NO_LIFT_AFTER_S):
            set_findings = (finding(self.proto, "no_visible_lift", Severity.INFO, None, None),)
        return Analysis(
            protocol=self.proto, setup=setup, reps=list(self.rep_list), frames=self.frames,
            view=self.placement.view if self.placement else "unknown",
            view_can_see_roll=self.roll_judged,
            top_side=self.body.top_side.value if self.body.top_side else None,
            pose_coverage=self.n_pose / self.n_frames if self.n_frames else 0.0,
            n_frames=self.n_frames, measurement=self.measurement_provenance(),
            set_findings=set_findings,
        )

    def measurement_provenance(self) -> dict:
        from clamcoach.measure import MODEL_VERSION

        s = self.measure.setup
        return {
            "model": MODEL_VERSION,
            "landmarks": self.measure.profile.name,
            "noise_rel": dict(self.measure.noise_rel),
            "calibrations": self.measure.calibrations,
            "focal_px": round(s.camera.fx, 2) if s else None,
            "setup_rms_rel": round(s.rms_rel, 4) if s else None,
        }


#: A rep is counted from this share of the protocol's smallest rep: small openings read a
#: little small (the landmarks move less than the joints at the start of a movement).
SMALL_REP_SHARE = 0.7


def rep_params_for(protocol: Protocol) -> RepParams:
    smallest = SMALL_REP_SHARE * protocol.opening.min_rep_deg
    return RepParams(min_rep_deg=smallest, start_deg=min(2.5, smallest / 2))
