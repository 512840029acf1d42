import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.body import BodyTracker
from clamcoach.geometry import features
from clamcoach.kinematics import classify_view
from clamcoach.types import View
from skeleton import Camera, Pose, pose_frame


def feats(pose: Pose, cam: Camera = Camera(), top: str = "left", scale: float = 1.0):
    b = BodyTracker().push(pose_frame(pose, cam, top=top, scale=scale))
    return features(b)


def test_closed_form_angles():
    f0 = feats(Pose(hip=50, knee=60, opening=0, roll=12))
    f1 = feats(Pose(hip=50, knee=60, opening=35, roll=12))
    # The bottom leg lies in the body's sagittal plane: its angles are exact; the mean over
    # both legs moves a little with the stacked top leg's adduction.
    assert f0["hip_flex"] == pytest.approx(50, abs=3)
    assert f0["knee_flex"] == pytest.approx(60, abs=3)
    assert f1["opening_hinge"] - f0["opening_hinge"] == pytest.approx(35, abs=1e-6)
    assert f0["roll3d_hip"] == pytest.approx(12, abs=1e-6)
    assert f0["roll3d_sh"] == pytest.approx(12, abs=1e-6)


def test_roll_back_is_seen_relative_to_start():
    a = feats(Pose(roll=10, opening=20))
    b = feats(Pose(roll=-5, opening=20))
    assert a["roll3d_hip"] - b["roll3d_hip"] == pytest.approx(15, abs=1e-6)


def test_feet_apart_grows_ankle_gap_not_with_opening():
    closed = feats(Pose(opening=0))
    opened = feats(Pose(opening=40))
    apart = feats(Pose(opening=0, feet_apart=15))
    assert opened["ankle_gap_m"] == pytest.approx(closed["ankle_gap_m"], abs=1e-6)
    assert opened["knee_gap_m"] > closed["knee_gap_m"] + 0.08
    assert apart["ankle_gap_m"] > closed["ankle_gap_m"] + 0.08


cams = st.builds(Camera, pitch=st.floats(0, 60), yaw=st.floats(-30, 30), distance=st.floats(1.5, 4.0))
poses = st.builds(Pose, hip=st.floats(30, 70), knee=st.floats(30, 100), opening=st.floats(0, 60),
                  roll=st.floats(-10, 25))
ANGLES = ("hip_flex", "knee_flex", "opening_hinge", "roll3d_hip", "roll3d_sh")


@settings(max_examples=60, deadline=None)
@given(poses, cams, st.floats(0.5, 2.0))
def test_angles_do_not_depend_on_camera_or_scale(pose, cam, scale):
    ref = feats(pose, Camera(pitch=30))
    got = feats(pose, cam, scale=scale)
    for k in ANGLES:
        assert got[k] == pytest.approx(ref[k], abs=1e-6), k


@settings(max_examples=40, deadline=None)
@given(poses, cams)
def test_mirrored_side_gives_mirrored_results(pose, cam):
    left = feats(pose, cam, top="left")
    right = feats(pose, cam, top="right")
    for k in ANGLES + ("ankle_gap_m", "knee_gap_m"):
        assert right[k] == pytest.approx(left[k], abs=1e-6), k


@pytest.mark.parametrize("pitch, view", [(0, View.FRONT), (35, View.OBLIQUE), (80, View.OVERHEAD)])
def test_view_from_camera_pitch(pitch, view):
    f = feats(Pose(), Camera(pitch=pitch))
    assert classify_view(f["pitch"], f["axis_depth"]) is view


def test_feet_end_view():
    assert classify_view(10.0, 0.9) is View.FEET
    assert math.isfinite(feats(Pose(), Camera(pitch=20, yaw=80))["axis_depth"])


def test_hand_on_hip_distance():
    on = feats(Pose(hand_on_hip=True))["hand_dist"]
    off = feats(Pose(hand_on_hip=False))["hand_dist"]
    assert on < 0.3 < 0.6 < off
