"""The per-frame fit's handling of its inputs: unseen points, the pose's bounds, the SDs."""

import math

import numpy as np
import pytest

from clamcoach.measure.frame_fit import POSE_LOWER, POSE_UPPER, FrameFitter
from clamcoach.measure.landmarks import GROUP_OF
from clamcoach.measure.model import BodyModel
from clamcoach.measure.stage import NOISE_REL
from tests.measure.helpers import camera_at, landmarks, prior_rest
from tests.measure.test_fits import setup_for

REST = prior_rest()
CAM = camera_at(35, 10)
FIT = setup_for(CAM)
FITTER = FrameFitter(BodyModel(FIT.rest), FIT.camera, FIT.offsets)
SIGMA = np.array([NOISE_REL[g] for g in GROUP_OF]) * FIT.body_px
TRUTH = np.radians([-10.0, 0.0, 25.0, 0.0])


@pytest.mark.parametrize("point", [3, 9])  # the top knee; a foot point
def test_a_point_not_seen_is_left_out_whichever_way_it_is_missing(point):
    obs = landmarks(REST, CAM, TRUTH)
    no_xy = obs.copy()
    no_xy[point, 1] = np.nan                     # one coordinate missing is the point missing
    no_sigma = SIGMA.copy()
    no_sigma[point] = np.nan
    a = FITTER.fit(no_xy, SIGMA, np.zeros(4))
    b = FITTER.fit(obs, no_sigma, np.zeros(4))
    assert np.all(np.isfinite(a.pose)) and np.allclose(a.pose, b.pose, atol=1e-12)
    assert np.allclose(a.residuals[point], 0.0) and np.allclose(b.residuals[point], 0.0)
    # the other points still pin the roll; without the top knee nothing shows the opening,
    # and its SD says so
    full = FITTER.fit(obs, SIGMA, np.zeros(4))
    assert math.degrees(a.pose[0]) == pytest.approx(-10.0, abs=2.0)
    if point == 3:
        assert a.sd[2] > 10 * full.sd[2]
    else:
        assert math.degrees(a.pose[2]) == pytest.approx(25.0, abs=2.0) and a.sd[2] < 2 * full.sd[2]
    # ... and the cost is the mean over the points seen (11 of 12)
    assert a.cost == pytest.approx(float(np.sum(a.residuals ** 2)) / 22, rel=1e-12) and full.cost < 0.05


def test_a_start_outside_the_bodys_bounds_is_brought_inside_them():
    wild = np.radians([100.0, -50.0, 200.0, -30.0])
    est = FITTER.fit(landmarks(REST, CAM, TRUTH), SIGMA, wild, iterations=0)
    assert np.degrees(est.pose) == pytest.approx([40.0, -30.0, 110.0, -10.0], abs=1e-9)
    assert np.array_equal(est.pose, np.clip(wild, POSE_LOWER, POSE_UPPER))
    low = FITTER.fit(landmarks(REST, CAM, TRUTH), SIGMA, -wild, iterations=0)
    assert np.degrees(low.pose) == pytest.approx([-60.0, 30.0, -40.0, 30.0], abs=1e-9)


def test_the_sds_are_the_square_roots_of_the_covariances_diagonal():
    est = FITTER.fit(landmarks(REST, CAM, TRUTH), SIGMA, np.zeros(4))
    assert np.allclose(est.sd, np.sqrt(np.diag(est.cov)), rtol=1e-12)
    assert 0 < math.degrees(est.sd[0]) < 10 and np.all(est.sd > 0)
