"""The knee's opening: the fit's by default, or fused with the lifting network's."""

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clamcoach.body import BodyTracker
from clamcoach.measure.landmarks import observe
from clamcoach.measure.lifting import shipped_network
from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.measure.stage import (MeasureParams, MeasureStage, OpeningReading, RollReading, StageState,
                                     fuse_correlated)
from skeleton import Camera, Pose, pose_frame

CAM = Camera(pitch=35)
reading = st.floats(-90.0, 90.0)
sd = st.floats(0.1, 30.0)


@given(reading, sd, reading, sd)
def test_the_fused_reading_lies_between_the_two_and_its_sd_between_theirs(a, sa, b, sb):
    x, s = fuse_correlated(a, sa, b, sb)
    assert min(a, b) - 1e-9 <= x <= max(a, b) + 1e-9
    # fully correlated errors: never claims more than the better reading alone
    assert min(sa, sb) - 1e-9 <= s <= max(sa, sb) + 1e-9


@given(reading, sd, reading, sd)
def test_the_more_certain_reading_weighs_more(a, sa, b, sb):
    x, _ = fuse_correlated(a, sa, b, sb)
    if sa < sb:
        assert abs(x - a) <= abs(x - b) + 1e-9
    elif sb < sa:
        assert abs(x - b) <= abs(x - a) + 1e-9


def test_a_missing_reading_leaves_the_other():
    assert fuse_correlated(math.nan, 2.0, 30.0, 3.0) == (30.0, 3.0)
    assert fuse_correlated(20.0, 2.0, math.nan, 3.0) == (20.0, 2.0)


def _stage(opening: OpeningReading) -> MeasureStage:
    s = MeasureStage(MeasureParams(settle_s=0.75, opening_reading=opening, roll_reading=RollReading.FIT),
                     focal_px=CAM.focal_px, profile=JOINT_CENTRES)
    for k in range(4):  # still from 0 to 0.75 s: the setup
        s.push(dataclasses.replace(BodyTracker().push(pose_frame(Pose(), CAM, t=0.0)), t=k / 4))
    assert s.state is StageState.TRACKING
    return s


def test_fused_the_opening_is_the_fits_and_the_networks_weighted_by_their_variances():
    fused_stage = _stage(OpeningReading.FUSED)
    setup_points = observe(BodyTracker().push(pose_frame(Pose(), CAM, t=0.0)).image, fused_stage._top)[0]
    frame = dataclasses.replace(BodyTracker().push(pose_frame(Pose(opening=40.0), CAM, t=0.0)), t=2.75)
    fused = fused_stage.push(frame, may_calibrate=False)
    fit = _stage(OpeningReading.FIT).push(frame, may_calibrate=False)
    net = shipped_network().lift(setup_points, observe(frame.image, frame.top)[0][None])
    want = fuse_correlated(fit.opening_deg, fit.sd.opening_deg, float(net.opening_deg[0]),
                           float(net.opening_sd_deg[0]))
    assert (fused.opening_deg, fused.sd.opening_deg) == pytest.approx(want, abs=1e-9)
    assert fused.opening_deg != pytest.approx(fit.opening_deg, abs=0.5)  # the network moved it
    assert fused.pelvis_roll_deg == pytest.approx(fit.pelvis_roll_deg, abs=1e-12)  # only the opening


def test_by_default_the_opening_is_the_fits():
    assert MeasureParams().opening_reading is OpeningReading.FIT
