"""The setup stage: is the person lying on their side, still, in the method's position?

The measurement stage fits the camera and the body once the body has been still for a moment
(``measure.stage``); this stage turns that fit into the setup's verdict (the method's steps
1-3) and gives the live page its checklist meanwhile.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from clamcoach.measure.placement import CameraMove, Placement, assess
from clamcoach.measure.stage import MeasureStage
from clamcoach.posture import Posture
from clamcoach.protocol import Protocol
from clamcoach.rules import SetupMeasures, check_setup
from clamcoach.types import Finding, Kinematics

SETUP_CHECKS = ("side_lying", "hips_knees_bent", "rolled_forward", "hand_on_hip")


def opening_sized(gain_sd_rel: float, proto: Protocol) -> bool | None:
    """This setup knows the opening's size to within the protocol's share (None: no setup)."""
    if not math.isfinite(gain_sd_rel):
        return None
    return gain_sd_rel <= proto.opening.max_gain_sd_rel


def roll_visible(placement: Placement | None, proto: Protocol) -> bool:
    """This camera placement measures the pelvis roll well enough to judge a roll-back."""
    return placement is not None and placement.roll_sd_deg <= proto.roll_back.max_sd_deg


@dataclass(frozen=True)
class SetupResult:
    measures: SetupMeasures
    findings: tuple[Finding, ...]
    t: float


class SetupMonitor:
    def __init__(self, proto: Protocol) -> None:
        self.proto = proto
        self.result: SetupResult | None = None
        self.checks: dict[str, bool | None] = {k: None for k in SETUP_CHECKS}
        self.side_lying_seen = False
        #: Where the camera is and what it can see, from the latest setup fit (None before one).
        self.placement: Placement | None = None
        #: The opening's relative SD from the latest setup's own doubt (NaN before one).
        self.opening_gain_sd_rel = math.nan
        self._hands: deque[tuple[float, bool | None]] = deque()

    def observe(self, t: float, post: Posture) -> None:
        """Every frame with a body: remember the posture of the last moments."""
        self.side_lying_seen |= post.side_lying
        self._hands.append((t, post.hand_on_hip))
        while self._hands and self._hands[0][0] < t - 2.0:
            self._hands.popleft()

    @property
    def view(self) -> str:
        return self.placement.view if self.placement else "unknown"

    @property
    def roll_visible(self) -> bool:
        return roll_visible(self.placement, self.proto)

    @property
    def opening_sized(self) -> bool | None:
        return opening_sized(self.opening_gain_sd_rel, self.proto)

    def calibrated(self, t: float, kin: Kinematics | None, stage: MeasureStage) -> tuple[Finding, ...]:
        """The measurement stage has (re)fitted the setup: place the camera again, and judge the
        setup the first time (its findings; none on a later fit)."""
        assert stage.setup is not None
        self.placement = assess(stage.setup, stage.noise_px(), self.proto.roll_back.max_sd_deg)
        self.opening_gain_sd_rel = stage.opening_gain_sd_rel
        if self.result is not None or kin is None:
            return ()
        return self.judge(t, kin, stage, self.placement).findings

    def live_checks(self, kin: Kinematics | None, post: Posture, stage: MeasureStage,
                    placement: Placement | None) -> dict[str, bool | None]:
        s = self.proto.setup
        bent = rolled = None
        if kin is not None:
            bent = (s.hip_min_deg - 5 <= kin.hip_flexion_deg <= s.hip_max_deg + 10
                    and s.knee_min_deg - 5 <= kin.knee_flexion_deg <= s.knee_max_deg)
            if stage.roll_sd_at_setup <= s.forward_roll_max_sd_deg:
                rolled = kin.pelvis_roll_deg >= s.forward_roll_min_deg
        self.checks = {"side_lying": post.side_lying, "hips_knees_bent": bent, "rolled_forward": rolled,
                       "hand_on_hip": post.hand_on_hip}
        return self.checks

    def hand_on_hip(self) -> bool | None:
        seen = [h for _, h in self._hands if h is not None]
        if not seen:
            return None
        return sum(seen) * 2 >= len(seen)

    def judge(self, t: float, kin: Kinematics, stage: MeasureStage, placement: Placement) -> SetupResult:
        """The verdict the moment the measurement stage has its setup."""
        roll_sd = stage.roll_sd_at_setup
        can_see = roll_visible(placement, self.proto)
        m = SetupMeasures(
            side_lying=True,
            hip_flexion_deg=kin.hip_flexion_deg,
            knee_flexion_deg=kin.knee_flexion_deg,
            forward_roll_deg=kin.pelvis_roll_deg,
            forward_roll_sd_deg=roll_sd,
            hand_on_hip=self.hand_on_hip(),
            held_s=stage.setup_held_s,
            roll_sd_deg=placement.roll_sd_deg,
            view_can_see_roll=can_see,
            view=placement.view,
            camera_elevation_deg=placement.elevation_deg,
            camera_azimuth_deg=placement.azimuth_deg,
            opening_sd_deg=placement.opening_sd_deg,
            opening_gain_sd_rel=stage.opening_gain_sd_rel,
            knee_pillow_seen=stage.knee_pillow_seen,
            move_camera="" if placement.move is CameraMove.NONE else self.proto.camera_moves[placement.move.value],
            camera_end_on=placement.end_on,
        )
        self.result = SetupResult(m, check_setup(m, self.proto), t)
        return self.result

    def never_settled(self) -> SetupResult:
        m = SetupMeasures(side_lying=self.side_lying_seen, hip_flexion_deg=math.nan,
                          knee_flexion_deg=math.nan, forward_roll_deg=math.nan,
                          forward_roll_sd_deg=math.nan, hand_on_hip=self.hand_on_hip(), held_s=0.0,
                          roll_sd_deg=math.nan, view_can_see_roll=False, view="unknown")
        found = check_setup(m, self.proto) if not self.side_lying_seen else ()
        return SetupResult(m, found, math.nan)


__all__ = ["SetupMonitor", "SetupResult", "SETUP_CHECKS", "roll_visible"]
