"""The engine: wires the stages, one frame at a time. The only place that knows their order.

    PoseFrame -> BodyTracker -> posture, MeasureStage -> SetupMonitor -> RepStage -> Coach

``Engine.push`` is called once per frame by live coaching and by file analysis alike, so a
file analysis is a replay of the live engine. Nothing here holds images; the per-frame series
kept for reports are numbers (``series.FrameSeries``).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

from clamcoach.analysis import SCHEMA, Analysis
from clamcoach.body import BodyParams, BodyTracker, in_frame
from clamcoach.coach import Coach, CueKind, Offer, corrections
from clamcoach.measure.profiles import BLAZEPOSE, LandmarkProfile
from clamcoach.measure.stage import MeasureParams, MeasureStage, StageState
from clamcoach.posture import posture
from clamcoach.protocol import Protocol
from clamcoach.provenance import measurement_provenance
from clamcoach.rep_stage import RepStage, rep_params_for
from clamcoach.reps import RepParams
from clamcoach.series import SeriesBuilder
from clamcoach.setup import SetupMonitor, SetupResult
from clamcoach.step import Step
from clamcoach.types import Finding, Phase, PoseFrame, Severity

__all__ = ["Engine", "Step", "Analysis", "SetupResult", "SCHEMA", "rep_params_for"]


class Engine:
    """One set (or one live session) of clamshells."""

    def __init__(self, protocol: Protocol, *, body_params: BodyParams = BodyParams(),
                 rep_params: RepParams | None = None, measure_params: MeasureParams = MeasureParams(),
                 focal_px: float | None = None, noise_rel: dict[str, float] | None = None,
                 profile: LandmarkProfile = BLAZEPOSE, keep_landmarks: bool = True) -> None:
        self.proto = protocol
        self.body = BodyTracker(body_params)
        self.measure = MeasureStage(measure_params, focal_px=focal_px, profile=profile,
                                    knee_pillow=protocol.setup.knee_pillow)
        if noise_rel is not None:
            self.measure.noise_rel = dict(noise_rel)
        self.setup = SetupMonitor(protocol)
        self.reps = RepStage(protocol, rep_params)
        self.coach = Coach(protocol)
        self.series = SeriesBuilder(keep_landmarks)
        self.n_frames = self.n_pose = self._calibrations = 0
        self._last_seen = -math.inf
        self._phase = Phase.SETUP
        self._last_t = math.nan
        #: Each body frame's hand on the hip, for frames the measure stage measures again.
        self._hands: deque[tuple[float, bool | None]] = deque()

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
        self._keep_hand(t, post.hand_on_hip)
        self.setup.observe(t, post)
        kin = self.measure.push(body, may_calibrate=post.side_lying)
        if kin is not None:
            kin = replace(kin, hand_on_hip=post.hand_on_hip)
        offers: list[Offer] = []
        setup_found: tuple[Finding, ...] = ()
        if self.measure.calibrations != self._calibrations:  # a new setup fit: the rep starts over
            self._calibrations = self.measure.calibrations
            self.reps.restart()
            setup_found = self.setup.calibrated(t, kin, self.measure)
            offers += corrections(x for x in setup_found if x.severity is not Severity.INFO)
            again = self._measure_again(t)
        else:
            again = None
        if self.measure.state is StageState.COLLECTING:
            self.reps.abandon_rep()
        self.setup.live_checks(kin, post, self.measure, self.setup.placement)
        step = self._step(t, self._phase, kinematics=kin, body=body, in_frame=in_frame(pose))
        step.new_findings.extend(setup_found)
        if again is not None:
            step.reps_replaced_from, reps = again
            step.new_reps.extend(reps)
            step.new_findings.extend(f for r in reps for f in r.findings)
        if kin is None:
            self._phase = Phase.SETUP
            if not post.side_lying:
                offers.append(Offer("not_side_lying", CueKind.INFO))
        elif self.setup.result is not None:
            got = self.reps.push(t, kin, self.setup.roll_visible)
            step.show(got)
            self._phase = got.phase
            offers += [Offer(code) for code in got.live]
            offers += self.coach.after_rep(got.rep) if got.rep is not None else []
        step.phase = self._phase
        step.rep_count = len(self.reps.done)
        step.cue = self.coach.choose(t, offers)
        self.series.add(t, step.phase, kin, body.image)
        return step

    def _keep_hand(self, t: float, hand: bool | None) -> None:
        self._hands.append((t, hand))
        while self._hands and self._hands[0][0] < t - self.measure.params.remeasure_s:
            self._hands.popleft()

    def _measure_again(self, t: float) -> tuple[int, list] | None:
        """After a setup that replaced one taken in a hold: the frames measured from that one,
        measured again from this setup, and the reps they make in place of those counted."""
        since = self.measure.remeasure_from
        if since is None or self.setup.result is None:
            return None
        hands = dict(self._hands)
        kins = [replace(k, hand_on_hip=hands.get(k.t)) for k in self.measure.remeasure(since, t)]
        self.series.measured_again(kins)
        return self.reps.measured_again(kins, since, self.setup.roll_visible)

    def _no_body(self, t: float) -> Step:
        self.reps.no_body(t)
        self.series.add(t, Phase.NO_PERSON, None, None)
        cue = self.coach.choose(t, self.coach.nobody(t - self._last_seen))
        return self._step(t, Phase.NO_PERSON, rep_count=len(self.reps.done), cue=cue)

    def _step(self, t: float, phase: Phase, **what) -> Step:
        return Step(t=t, phase=phase, setup_checks=dict(self.setup.checks), setup_ok=self.setup.result is not None,
                    view=self.setup.view, view_can_see_roll=self.setup.roll_visible,
                    view_can_size_opening=self.setup.opening_sized, **what)

    def finish(self) -> Analysis:
        reps = tuple(self.reps.done)
        setup = self.setup.result or self.setup.never_settled()
        return Analysis(
            protocol=self.proto, setup=setup, reps=reps, frames=self.series.build(reps),
            view=self.setup.view, view_can_see_roll=self.setup.roll_visible,
            top_side=self.body.top_side.value if self.body.top_side else None,
            pose_coverage=self.n_pose / self.n_frames if self.n_frames else 0.0,
            n_frames=self.n_frames, measurement=measurement_provenance(self.measure),
            set_findings=self.reps.set_findings(setup.t, self._last_t),
            track_lost_at_s=tuple(self.measure.lost_at),
            track_lost_for_good_at_s=self.measure.lost_for_good_at,
        )
