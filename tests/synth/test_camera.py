"""Cameras from ranges: lens, distance from fill, roll, azimuth and the view label (no body model)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.synth.camera import (CameraSpec, focal_35mm_from_px, focal_px_from_35mm, make_camera,
                                    mirror_camera, view_label)
from clamcoach.synth.ranges import SetRanges, draw_cameras, spec_view_label

# a body-sized cloud of points lying along X (the long axis), about 1 m x 0.4 m x 0.3 m
_RNG = np.random.default_rng(0)
BODY = np.column_stack([_RNG.uniform(-0.5, 0.5, 400), _RNG.uniform(-0.3, 0.1, 400), _RNG.uniform(0.7, 1.0, 400)])
TARGET = 0.5 * (BODY.min(0) + BODY.max(0))


@pytest.mark.parametrize("el, az, label", [
    (0, 0, "front"), (19.9, 30, "front"), (20.1, 0, "oblique"), (45, -30, "oblique"), (59.9, 45, "oblique"),
    (60.1, 0, "overhead"), (80, 90, "overhead"), (25, 90, "feet"), (5, 60, "feet"), (30, 50.5, "feet"),
    (30, 49.5, "oblique"), (10, 45, "front"),
])
def test_view_label_bands(el, az, label):
    assert view_label(el, az) == label


def test_lens_conversion_35mm_diagonal():
    # a 50 mm lens on a 3:2 frame sees 36 mm of width: hfov = 2 atan(18 / 50)
    f = focal_px_from_35mm(50.0, 600, 400)
    assert 2 * math.degrees(math.atan(300 / f)) == pytest.approx(2 * math.degrees(math.atan(18 / 50)), abs=1e-9)
    assert focal_35mm_from_px(f, 600, 400) == pytest.approx(50.0)


@settings(max_examples=40, deadline=None)
@given(el=st.floats(0, 80), yaw=st.floats(-45, 45), roll=st.floats(-5, 5), lens=st.floats(24, 50),
       fill=st.floats(0.5, 0.9), feet=st.booleans())
def test_lens_fixes_the_field_of_view_and_fill_fixes_the_distance(el, yaw, roll, lens, fill, feet):
    spec = CameraSpec("feet" if feet else "front", None, el, yaw, fill, roll, lens)
    cam = make_camera(spec, TARGET, BODY, 640, 480, 30.0, 0.7)
    assert cam.focal35_mm == pytest.approx(lens, rel=1e-9)
    # the body spans `fill` of the frame (the tighter of width and height)
    xy, z = cam.project(BODY)
    assert np.all(z > 0)
    span = max(np.max(np.abs(xy[:, 0] - 320)) / 320, np.max(np.abs(xy[:, 1] - 240)) / 240)
    assert span == pytest.approx(fill, abs=0.01)
    assert cam.distance_m == pytest.approx(np.linalg.norm(cam.pose[:3, 3] - TARGET), rel=1e-9)
    assert cam.view == spec_view_label(spec)
    assert cam.pitch_deg == el and cam.roll_deg == roll


@settings(max_examples=30, deadline=None)
@given(el=st.floats(0, 55), yaw=st.floats(-45, 45), roll=st.floats(-5, 5))
def test_roll_is_the_tilt_of_the_image_x_axis_and_mirrors(el, yaw, roll):
    cam = make_camera(CameraSpec("front", 2.0, el, yaw, 0.8, roll, 30.0), TARGET, BODY, 480, 360, 15.0, 0.7)
    x_axis, y_axis = cam.pose[:3, 0], cam.pose[:3, 1]
    assert math.degrees(math.atan2(x_axis[2], y_axis[2])) == pytest.approx(roll, abs=1e-6)
    m = mirror_camera(cam)
    assert m.roll_deg == -roll and m.azimuth_deg == cam.azimuth_deg and m.view == cam.view
    assert math.degrees(math.atan2(m.pose[2, 0], m.pose[2, 1])) == pytest.approx(-roll, abs=1e-6)


def test_azimuth_is_body_relative():
    front = make_camera(CameraSpec("front", 2.0, 10.0, 0.0), TARGET, BODY, 480, 360, 15.0, 0.7)
    feet = make_camera(CameraSpec("feet", 2.0, 10.0, 0.0), TARGET, BODY, 480, 360, 15.0, 0.7)
    toward_feet = make_camera(CameraSpec("front", 2.0, 10.0, -30.0), TARGET, BODY, 480, 360, 15.0, 0.7)
    assert front.azimuth_deg == pytest.approx(0.0, abs=1e-9)
    assert feet.azimuth_deg == pytest.approx(90.0, abs=1e-9) and feet.view == "feet"
    assert toward_feet.azimuth_deg == pytest.approx(30.0, abs=1e-9)


def test_camera_block_has_the_new_keys_and_keeps_the_old():
    cam = make_camera(CameraSpec("front", None, 35.0, 10.0, 0.8, 2.0, 28.0), TARGET, BODY, 640, 480, 24.0, 0.7)
    b = cam.block()
    for k in ("view", "height_m", "height_above_mat_m", "pitch_deg", "yaw_deg", "distance_m", "fps",
              "resolution", "yfov_deg", "intrinsics", "pose_camera_to_world"):
        assert k in b
    assert b["focal_length_35mm_mm"] == 28.0 and b["roll_deg"] == 2.0 and b["elevation_deg"] == 35.0
    assert b["view"] == "oblique" and b["placement"] == "front"


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.sampled_from([2, 3]))
def test_drawn_cameras_stay_in_their_ranges(seed, n):
    from clamcoach.synth.make_sets import SHIFTED_RANGES, TUNING_RANGES

    for ranges in (TUNING_RANGES, SHIFTED_RANGES):
        cams = draw_cameras(np.random.default_rng(seed), ranges, n)
        assert len(cams) == n
        for c in cams.values():
            assert any(lo <= c.pitch <= hi for lo, hi in ranges.elevation)
            assert ranges.yaw_abs[0] <= abs(c.yaw) <= ranges.yaw_abs[1]
            assert ranges.roll_abs[0] <= abs(c.roll) <= ranges.roll_abs[1]
            assert any(lo <= c.focal35 <= hi for lo, hi in ranges.lens_35mm)


def test_shifted_ranges_lie_outside_tuning():
    from clamcoach.synth.make_sets import SHIFTED_RANGES as S
    from clamcoach.synth.make_sets import TUNING_RANGES as T

    assert S.yaw_abs[0] >= T.yaw_abs[1] and S.roll_abs[0] >= T.roll_abs[1]
    assert all(hi <= T.lens_35mm[0][0] or lo >= T.lens_35mm[-1][1] for lo, hi in S.lens_35mm)
    assert S.age_years[0] >= T.age_years[1] and S.weight[0] >= T.weight[1]
    assert set(S.fps).isdisjoint(T.fps) and set(S.supports).isdisjoint(T.supports)
    assert S.looseness_cm[0] >= T.looseness_cm[1]
    assert isinstance(S, SetRanges)
