"""The setup fit and the per-frame fit on exact landmarks made by the model itself: a control
(the model and solver are exact; every error in real use is the landmarks')."""

import math

import numpy as np
import pytest

from clamcoach.measure.frame_fit import FrameFitter
from clamcoach.measure.landmarks import GROUP_OF
from clamcoach.measure.model import BodyModel
from clamcoach.measure.placement import CameraMove, assess, sds_at_rest
from clamcoach.measure.setup_fit import body_size_px, fit_setup
from clamcoach.measure.stage import NOISE_REL
from tests.measure.helpers import camera_at, landmarks, prior_rest

REST = prior_rest()
SETUP_NOISE = np.array([0.03 if g in ("hip", "shoulder") else 0.02 for g in GROUP_OF])


def setup_for(cam, rest=REST):
    obs = landmarks(rest, cam)
    return fit_setup(obs, np.ones(12), fx=cam.fx, fy=cam.fy, cx=cam.cx, cy=cam.cy,
                     sigma_rel=SETUP_NOISE, mirrored=cam.mirrored)


@pytest.mark.parametrize("elev, azim, mirrored", [(35, 0, False), (35, 25, True), (60, -20, False), (10, 30, False)])
def test_the_setup_fit_explains_the_landmarks_and_finds_the_camera(elev, azim, mirrored):
    cam = camera_at(elev, azim, mirrored=mirrored)
    fit = setup_for(cam)
    assert fit.rms_rel < 0.002
    target = REST.points().mean(axis=0)
    assert fit.camera.elevation_deg(target) == pytest.approx(elev, abs=3.0)
    assert fit.camera.azimuth_deg(target) == pytest.approx(azim, abs=5.0)


@pytest.mark.parametrize("elev, azim", [(35, 0), (60, 20), (80, 0)])
def test_the_per_frame_fit_recovers_every_degree_of_freedom(elev, azim):
    cam = camera_at(elev, azim)
    fit = setup_for(cam)
    fitter = FrameFitter(BodyModel(fit.rest), fit.camera, fit.offsets)
    sigma = np.array([NOISE_REL[g] for g in GROUP_OF]) * fit.body_px
    q = np.zeros(4)
    for truth in ([-12.0, 0, 20, 0], [-20, 0, 35, 0], [0, 0, 30, 12], [0, 0, 5, 0]):
        truth_rad = np.radians(truth)
        est = fitter.fit(landmarks(REST, cam, truth_rad), sigma, q)
        q = est.pose
        assert np.degrees(est.pose[[0, 2, 3]]) == pytest.approx(np.array(truth)[[0, 2, 3]], abs=2.0)
        assert est.cost < 0.05


def test_a_raised_camera_sees_the_roll_better_than_a_level_one():
    """The observability law: the SD of the roll per unit landmark noise falls as the camera
    rises above a level front view (../shared/knowledge/measuring-from-one-camera.md)."""
    sds = []
    for elev in (0, 20, 35, 60):
        cam = camera_at(elev)
        fit = setup_for(cam)
        noise = np.array([NOISE_REL[g] for g in GROUP_OF]) * body_size_px(landmarks(REST, cam))
        sds.append(math.degrees(sds_at_rest(fit, fit.camera, noise)[0]))
    assert sds[0] > 1.5 * sds[2] and sds == sorted(sds, reverse=True)


def test_the_camera_advice_says_raise_it_for_a_level_camera_and_nothing_for_a_raised_one():
    level = setup_for(camera_at(0))
    noise = np.array([NOISE_REL[g] for g in GROUP_OF]) * level.body_px
    advice = assess(level, noise, max_roll_sd_deg=4.0)
    assert advice.move is CameraMove.RAISE and advice.roll_sd_after_move_deg < 0.75 * advice.roll_sd_deg
    raised = setup_for(camera_at(55))
    assert assess(raised, np.array([NOISE_REL[g] for g in GROUP_OF]) * raised.body_px, 4.0).move is CameraMove.NONE
