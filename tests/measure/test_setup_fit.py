"""The setup fit's parts: the body's image size and the start cameras the fit begins from."""

import math

import numpy as np
import pytest

from clamcoach.measure.camera import rotation_vector
from clamcoach.measure.model import J
from clamcoach.measure.profiles import BLAZEPOSE, BODY_PARAMS
from clamcoach.measure.setup_fit import _start_cameras, body_size_px, rest_from_params
from tests.measure.helpers import camera_at, landmarks, prior_rest


def test_the_body_size_is_the_trunk_plus_the_bottom_leg_in_pixels():
    obs = np.full((12, 2), np.nan)
    obs[J["bottom_hip"]], obs[J["top_hip"]] = (0.0, 0.0), (0.0, 10.0)               # centre (0, 5)
    obs[J["bottom_shoulder"]], obs[J["top_shoulder"]] = (100.0, 2.0), (100.0, 8.0)   # centre (100, 5)
    obs[J["bottom_knee"]] = (-30.0, -40.0)                                          # 50 from the hip
    obs[J["bottom_ankle"]] = (-30.0, -100.0)                                        # 60 from the knee
    obs[J["top_knee"]] = obs[J["top_ankle"]] = (500.0, 500.0)                       # not counted
    assert body_size_px(obs) == pytest.approx(100.0 + 50.0 + 60.0, rel=1e-12)


@pytest.mark.parametrize("elev, azim, distance, mirrored", [(30.0, 0.0, 2.3, False), (55.0, 30.0, 3.0, False),
                                                           (30.0, 0.0, 2.3, True)])
def test_a_start_camera_stands_near_a_camera_on_its_grid_and_every_start_centres_the_body(elev, azim, distance,
                                                                                         mirrored):
    """The starts are all round the body at the distance the body's image size implies: for a
    camera at one of their angles, one start is within 12 cm and 10 deg of it (measured: 7 cm,
    6-8 deg; the starts are level, the fit finds the rest)."""
    rest = prior_rest()
    cam = camera_at(elev, azim, distance=distance, rest=rest, mirrored=mirrored)
    obs = landmarks(rest, cam)
    body = rest_from_params(np.array([BLAZEPOSE.priors[n].mean for n in BODY_PARAMS]))
    starts = _start_cameras(obs, body, cam.fx, cam.fy, cam.cx, cam.cy, body_size_px(obs), mirrored)
    assert len(starts) == 4 * 12 and all(c.mirrored is mirrored for c in starts)

    def turn_deg(c):
        return math.degrees(np.linalg.norm(rotation_vector(c.R @ cam.R.T)))

    near = min(starts, key=turn_deg)
    assert turn_deg(near) < 10.0
    assert np.linalg.norm(near.centre_body - cam.centre_body) < 0.12
    for start in starts:
        assert np.allclose(start.R @ start.R.T, np.eye(3), atol=1e-12) and np.linalg.det(start.R) == pytest.approx(1.0)
        assert np.allclose(start.project(body.points()).mean(axis=0), obs[:8].mean(axis=0), atol=0.5)
