"""The setup stage (SetupMonitor): the live checklist, the hand on the hip, the verdict when the
body never settled. The checklist's ranges are the method's (hips 25-70 deg, knees 25-100 deg,
rolled forward from 5 deg), stated here as numbers so a changed threshold fails a test."""

import dataclasses
import math

import pytest

from clamcoach.measure.stage import MeasureStage
from clamcoach.posture import Posture
from clamcoach.protocol import load_protocol
from clamcoach.setup import SETUP_CHECKS, SetupMonitor, opening_sized, roll_visible
from clamcoach.types import Kinematics
from test_engine import make_engine
from skeleton import Camera, clam_set, pose_frame


def posture(side_lying=True, hand=True):
    return Posture(upright=0.1, receding=0.0, hip_line_roll_deg=10.0, hand_distance=0.2, side_lying=side_lying,
                   hand_on_hip=hand)


@pytest.fixture(scope="module")
def settled():
    """A real engine after its setup (exact synthetic landmarks): its monitor, stage and placement."""
    cam = Camera(pitch=35)
    engine = make_engine(cam=cam)
    for t, p in clam_set(n_reps=1, fps=15):
        engine.push(pose_frame(p, cam, t=t), t)
        if engine.setup.result is not None:
            break
    assert engine.setup.result is not None
    return engine


def kin(hip=45.0, knee=45.0, roll=10.0):
    return Kinematics(t=0.0, hip_flexion_deg=hip, knee_flexion_deg=knee, pelvis_roll_deg=roll)


@pytest.mark.parametrize("hip, knee, bent", [
    (45, 45, True), (26, 45, True), (24, 45, False), (69, 45, True), (72, 45, False),
    (45, 26, True), (45, 24, False), (45, 99, True), (45, 102, False),
])
def test_hips_and_knees_bent_in_the_methods_range(settled, hip, knee, bent):
    checks = settled.setup.live_checks(kin(hip, knee), posture(), settled.measure, settled.setup.placement)
    assert checks["hips_knees_bent"] is bent


@pytest.mark.parametrize("roll, rolled", [(3.0, False), (7.0, True), (-2.0, False)])
def test_rolled_forward_from_5_degrees(settled, roll, rolled):
    assert settled.measure.roll_sd_at_setup <= 9  # the setup's roll is known well enough
    checks = settled.setup.live_checks(kin(roll=roll), posture(), settled.measure, settled.setup.placement)
    assert checks["rolled_forward"] is rolled


def test_before_the_setup_fit_the_roll_is_not_judged_and_without_a_body_nothing_is():
    monitor = SetupMonitor(load_protocol())
    checks = monitor.live_checks(kin(roll=10.0), posture(), MeasureStage(), None)
    assert checks == {"side_lying": True, "hips_knees_bent": True, "rolled_forward": None, "hand_on_hip": True}
    checks = monitor.live_checks(None, posture(side_lying=False, hand=None), MeasureStage(), None)
    assert checks == {"side_lying": False, "hips_knees_bent": None, "rolled_forward": None, "hand_on_hip": None}
    assert tuple(checks) == SETUP_CHECKS and monitor.checks == checks


def test_the_hand_is_on_the_hip_when_it_was_most_of_the_last_two_seconds():
    monitor = SetupMonitor(load_protocol())
    assert monitor.hand_on_hip() is None
    for i, hand in enumerate([True, False, None, True, False]):
        monitor.observe(i * 0.1, posture(hand=hand))
    assert monitor.hand_on_hip() is True    # 2 of 4 seen: half counts
    monitor.observe(0.5, posture(hand=False))
    assert monitor.hand_on_hip() is False   # 2 of 5
    # Two seconds later the old frames are forgotten: only what was seen since counts.
    monitor.observe(2.45, posture(hand=True))
    assert monitor.hand_on_hip() is True    # 0.45 .. 2.45: False (0.5) and True
    monitor.observe(2.55, posture(hand=None))
    assert [h for _, h in monitor._hands] == [True, None]  # 0.5 is now more than 2 s ago


def test_a_body_that_never_settled():
    monitor = SetupMonitor(load_protocol())
    monitor.observe(0.0, posture(side_lying=False, hand=None))
    result = monitor.never_settled()
    assert [f.code for f in result.findings] == ["not_side_lying"]
    assert math.isnan(result.t) and result.measures.view == "unknown"
    monitor.observe(0.1, posture(side_lying=True, hand=False))
    result = monitor.never_settled()
    assert result.findings == () and result.measures.side_lying is True
    assert result.measures.hand_on_hip is False and result.measures.held_s == 0.0


def test_the_verdict_uses_the_fit_and_the_placement(settled):
    result = settled.setup.result
    m = result.measures
    assert m.side_lying and m.hand_on_hip is True   # the synthetic body keeps its hand on the hip
    assert m.hip_flexion_deg == pytest.approx(45, abs=3) and m.knee_flexion_deg == pytest.approx(45, abs=3)
    assert m.held_s == settled.measure.params.settle_s
    assert m.view_can_see_roll is (settled.setup.placement.roll_sd_deg <= 4.0)
    assert m.roll_sd_deg == settled.setup.placement.roll_sd_deg
    assert result.findings == ()


def test_the_roll_back_is_judged_only_when_the_placement_measures_the_roll_well_enough(settled):
    proto = load_protocol()
    need = proto.roll_back.max_sd_deg
    placed = settled.setup.placement
    assert roll_visible(None, proto) is False
    assert roll_visible(dataclasses.replace(placed, roll_sd_deg=need), proto) is True   # at the limit
    assert roll_visible(dataclasses.replace(placed, roll_sd_deg=need + 0.01), proto) is False
    assert settled.setup.roll_visible is roll_visible(placed, proto)
    assert settled.setup.view == placed.view and SetupMonitor(proto).view == "unknown"


def test_the_live_page_is_told_whether_this_placement_sizes_the_opening(settled):
    # The live checklist's "camera can size your knee opening": the setup's own gain SD within
    # the protocol's share, the same number and threshold the report's opening_loose uses.
    proto = load_protocol()
    limit = proto.opening.max_gain_sd_rel
    assert limit == 0.4
    assert opening_sized(math.nan, proto) is None and SetupMonitor(proto).opening_sized is None
    assert opening_sized(limit, proto) is True and opening_sized(limit + 0.01, proto) is False
    gain = settled.measure.opening_gain_sd_rel
    assert settled.setup.opening_gain_sd_rel == gain and math.isfinite(gain)
    assert settled.setup.opening_sized is (gain <= limit)


def test_a_later_setup_fit_places_the_camera_again_but_judges_the_setup_once(settled):
    first = settled.setup.result
    assert settled.setup.calibrated(99.0, kin(), settled.measure) == ()
    assert settled.setup.result is first and settled.setup.placement is not None
