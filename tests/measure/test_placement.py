"""A placement: its coarse view name (for tables and the report) from the camera's angles, the
camera moved round the body, what it sees of the pose at rest and the advice where to move it."""

import math

import numpy as np
import pytest

from clamcoach.measure.frame_fit import POSE_PRIOR_SD, FrameFitter
from clamcoach.measure.landmarks import GROUP_OF
from clamcoach.measure.model import BodyModel
from clamcoach.measure.placement import CameraMove, Placement, assess, is_end_on, moved, sds_at_rest
from clamcoach.measure.setup_fit import SetupFit, body_size_px
from clamcoach.measure.stage import NOISE_REL
from tests.measure.helpers import camera_at, landmarks, prior_rest


def placement(elev, azim):
    return Placement(elevation_deg=elev, azimuth_deg=azim, roll_sd_deg=2.0, opening_sd_deg=1.0,
                     move=CameraMove.NONE, roll_sd_after_move_deg=2.0)


@pytest.mark.parametrize("elev, azim, view", [
    (35, 0, "oblique"), (20, 0, "oblique"), (19, 0, "front"), (-5, 10, "front"),
    (60, 0, "overhead"), (59, 0, "oblique"), (80, 45, "overhead"),
    (30, -90, "feet"), (30, -51, "feet"), (30, -50, "oblique"), (30, 90, "head"), (30, 129, "head"),
    (30, 130, "oblique"), (70, 60, "head"),
])
def test_view_names(elev, azim, view):
    assert placement(elev, azim).view == view


@pytest.mark.parametrize("mirrored", [False, True])
@pytest.mark.parametrize("d_elev, d_azim, elev, azim", [
    (20.0, -30.0, 55.0, -20.0), (-10.0, 45.0, 25.0, 55.0),
    (70.0, 0.0, 85.0, 10.0),     # no higher than 85 deg (straight down loses the body's depth)
    (-60.0, 0.0, -5.0, 10.0),    # no lower than 5 deg under the table's plane
])
def test_a_moved_camera_goes_round_the_body_on_its_sphere_and_still_looks_at_it(mirrored, d_elev, d_azim, elev, azim):
    target = prior_rest().points().mean(axis=0)
    cam = camera_at(35.0, 10.0, mirrored=mirrored)
    new = moved(cam, target, d_elev, d_azim)
    assert new.elevation_deg(target) == pytest.approx(elev, abs=1e-9)
    assert new.azimuth_deg(target) == pytest.approx(azim, abs=1e-9)
    assert np.linalg.norm(new.centre_body - target) == pytest.approx(np.linalg.norm(cam.centre_body - target), rel=1e-12)
    assert np.allclose(new.project(target[None])[0], (cam.cx, cam.cy), atol=1e-6)
    assert new.mirrored is mirrored and (new.fx, new.cx, new.cy) == (cam.fx, cam.cx, cam.cy)
    # the same camera as one placed there from the start
    there = camera_at(elev, azim, mirrored=mirrored)
    assert np.allclose(new.R, there.R, atol=1e-9) and np.allclose(new.t, there.t, atol=1e-9)


# What a placement sees: the SDs at rest and the advice, on a setup that is the truth (the camera
# and body that made the landmarks), so no fit's error is in the figures.

REST = prior_rest()


def true_setup(cam):
    """The setup a perfect fit would find: the camera and body that made the landmarks."""
    return SetupFit(camera=cam, rest=REST, offsets=np.zeros((12, 2)), params=np.zeros(0), params_sd=np.zeros(0),
                    rms_rel=0.0, body_px=body_size_px(landmarks(REST, cam)))


def noise_of(setup):
    return np.array([NOISE_REL[g] for g in GROUP_OF]) * setup.body_px


def sd_the_frame_fit_reports_at_rest(setup, cam):
    fitter = FrameFitter(BodyModel(setup.rest), cam, setup.offsets)
    rest_obs = fitter.predict(np.zeros((1, 4)))[0]
    return fitter.fit(rest_obs, noise_of(setup), np.zeros(4)).sd


@pytest.mark.parametrize("elev, azim, mirrored", [(35.0, 20.0, False), (0.0, 0.0, False), (60.0, -30.0, True)])
def test_the_sds_at_rest_are_the_ones_the_frame_fit_reports_for_the_rest_pose(elev, azim, mirrored):
    """The placement's forecast is the per-frame fit's own covariance at rest (forward
    differences of the same step, landmark noise and pose prior), not an approximation of it."""
    setup = true_setup(camera_at(elev, azim, mirrored=mirrored))
    sd = sds_at_rest(setup, setup.camera, noise_of(setup))
    assert sd == pytest.approx(sd_the_frame_fit_reports_at_rest(setup, setup.camera), rel=1e-6)


def test_a_camera_that_sees_nothing_leaves_every_sd_at_its_prior_and_a_sharp_one_scales_with_the_noise():
    setup = true_setup(camera_at(35.0))
    blind = sds_at_rest(setup, setup.camera, np.full(12, 1e9))
    assert blind == pytest.approx(POSE_PRIOR_SD, rel=1e-9)
    # Where the landmarks dominate the prior (roll, opening), half the noise halves the SD.
    sharp = sds_at_rest(setup, setup.camera, noise_of(setup) * 1e-3)
    sharper = sds_at_rest(setup, setup.camera, noise_of(setup) * 0.5e-3)
    assert sharper[[0, 2]] == pytest.approx(sharp[[0, 2]] / 2, rel=1e-4)


@pytest.mark.parametrize("mirrored", [False, True])
def test_the_placement_reports_the_cameras_angles_and_the_roll_and_opening_sds(mirrored):
    setup = true_setup(camera_at(35.0, 20.0, mirrored=mirrored))
    p = assess(setup, noise_of(setup), max_roll_sd_deg=100.0)
    assert p.elevation_deg == pytest.approx(35.0, abs=1e-9) and p.azimuth_deg == pytest.approx(20.0, abs=1e-9)
    sd = np.degrees(sd_the_frame_fit_reports_at_rest(setup, setup.camera))
    assert p.roll_sd_deg == pytest.approx(sd[0], rel=1e-6) and p.opening_sd_deg == pytest.approx(sd[2], rel=1e-6)
    assert p.move is CameraMove.NONE and p.roll_sd_after_move_deg == p.roll_sd_deg
    assert p.view == "oblique"


@pytest.mark.parametrize("elev, azim, end_on", [
    (25, -90, True), (25, -61, True), (25, -60, False), (30, 90, True), (5, -45, False),  # turned 45: fine
    (59, -80, True), (60, -80, False), (75, -90, False),  # from high up it looks down, not along
    (35, 0, False), (25, 119, True), (25, 120, False), (5, -163, False),  # behind the back: not along
])
def test_a_camera_looks_along_the_body_from_60_to_120_degrees_round_below_60_up(elev, azim, end_on):
    assert is_end_on(elev, azim) is end_on


@pytest.mark.parametrize("mirrored", [False, True])
def test_the_placement_says_a_camera_at_the_feet_end_looks_along_the_body(mirrored):
    at_feet = assess(true_setup(camera_at(25.0, -85.0, mirrored=mirrored)), noise_of(true_setup(camera_at(25.0, -85.0))), 100.0)
    in_front = assess(true_setup(camera_at(25.0, -30.0, mirrored=mirrored)), noise_of(true_setup(camera_at(25.0, -30.0))), 100.0)
    assert at_feet.azimuth_deg == pytest.approx(-85.0, abs=1e-9) and at_feet.end_on
    assert not in_front.end_on


@pytest.mark.parametrize("mirrored", [False, True])
def test_a_level_camera_is_told_to_rise_to_where_a_camera_at_35_degrees_sees_the_roll(mirrored):
    """Measured: level, the roll's SD is 5.5 deg; raised by 35 deg, 2.9 deg."""
    setup = true_setup(camera_at(0.0, mirrored=mirrored))
    p = assess(setup, noise_of(setup), max_roll_sd_deg=4.0)
    assert p.move is CameraMove.RAISE
    there = math.degrees(sd_the_frame_fit_reports_at_rest(setup, camera_at(35.0, mirrored=mirrored))[0])
    assert p.roll_sd_after_move_deg == pytest.approx(there, rel=1e-6)
    assert p.roll_sd_after_move_deg < 0.6 * p.roll_sd_deg


def test_the_advice_starts_above_80_percent_of_the_limit():
    setup = true_setup(camera_at(0.0))
    roll = assess(setup, noise_of(setup), max_roll_sd_deg=1e6).roll_sd_deg
    limit = roll / 0.8
    while 0.8 * limit < roll:        # the limit at which the roll is exactly 80% of it
        limit = np.nextafter(limit, math.inf)
    while 0.8 * limit > roll:
        limit = np.nextafter(limit, 0.0)
    assert 0.8 * limit == roll
    assert assess(setup, noise_of(setup), max_roll_sd_deg=limit).move is CameraMove.NONE
    assert assess(setup, noise_of(setup), max_roll_sd_deg=0.99 * limit).move is CameraMove.RAISE
    # A generous limit: a level camera sees the roll well enough, no advice.
    assert assess(setup, noise_of(setup), max_roll_sd_deg=50.0).move is CameraMove.NONE


@pytest.mark.parametrize("mirrored", [False, True])
def test_a_low_camera_off_to_the_head_end_is_told_to_go_further_round_when_raising_it_helps_clearly_less(mirrored):
    """Camera 5 deg below the bed's plane, 20 deg toward the head: roll SD 4.2 deg; moving
    35 deg further toward the head gives 2.05 deg, raising it 2.9 (more than 1.3 times as much)."""
    setup = true_setup(camera_at(-5.0, 20.0, mirrored=mirrored))
    p = assess(setup, noise_of(setup), max_roll_sd_deg=4.0)
    assert p.move is CameraMove.TOWARD_HEAD
    there = math.degrees(sd_the_frame_fit_reports_at_rest(setup, camera_at(-5.0, 55.0, mirrored=mirrored))[0])
    assert p.roll_sd_after_move_deg == pytest.approx(there, rel=1e-6)


@pytest.mark.parametrize("elev", [55.0, 80.0])
def test_a_raised_camera_gets_no_advice_even_under_a_strict_limit_when_no_move_helps_by_a_quarter(elev):
    setup = true_setup(camera_at(elev))
    p = assess(setup, noise_of(setup), max_roll_sd_deg=0.1)
    assert p.move is CameraMove.NONE and p.roll_sd_after_move_deg == p.roll_sd_deg
