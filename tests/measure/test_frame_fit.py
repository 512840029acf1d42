"""The per-frame fit's handling of its inputs: unseen points, the pose's bounds, the SDs."""

import math

import numpy as np
import pytest

from clamcoach.measure.frame_fit import CLOSED_FLOOR, POSE_LOWER, POSE_PRIOR_SD, POSE_UPPER, FrameFitter
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
    # ... and the typical residual is the median seen point's (the unseen one's zero left out)
    norms = np.linalg.norm(a.residuals, axis=1)
    assert a.typical_residual == pytest.approx(float(np.median(np.delete(norms, point))), rel=1e-12)


def test_the_typical_residual_is_the_median_points_whatever_a_few_wild_ones():
    """Four of twelve points 200 px off: the mean cost grows by orders of magnitude, the median
    point's residual stays below one SD (most of the body is explained)."""
    obs = landmarks(REST, CAM, TRUTH)
    wild = obs.copy()
    wild[[2, 4, 8, 10]] += 200.0                 # the bottom knee, ankle, heel and toe
    clean, bad = FITTER.fit(obs, SIGMA, np.zeros(4)), FITTER.fit(wild, SIGMA, np.zeros(4))
    assert bad.cost > 100 * max(clean.cost, 0.01)
    assert bad.typical_residual < 1.0 and clean.typical_residual < 0.1
    norms = np.linalg.norm(bad.residuals, axis=1)
    assert bad.typical_residual == pytest.approx(float(np.median(norms)), rel=1e-12)


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


def test_with_no_point_seen_the_fit_is_the_prior():
    """Nothing observed: the pose falls back to the prior's mean (zeros) and its SDs are the
    prior's, whatever the start."""
    est = FITTER.fit(np.full((12, 2), np.nan), SIGMA, np.radians([10.0, 5.0, 20.0, 3.0]))
    assert np.allclose(est.pose, 0.0, atol=1e-12)
    assert np.allclose(est.sd, POSE_PRIOR_SD, rtol=1e-9)
    assert est.cost == 0.0 and est.typical_residual == 0.0 and np.all(est.residuals == 0.0)


def _exact(pose_deg):
    """The fitter's own prediction for a pose: landmarks it can explain exactly."""
    return FITTER.predict(np.radians([pose_deg]))[0]


def test_one_landmark_far_off_pulls_the_robust_fit_little():
    """A shoulder point 50 px (35 SDs) off: the Cauchy weights keep the roll within 2.5 deg
    (a plain least-squares fit is pulled 4.9 deg) and the opening within 1 deg."""
    truth = [-10.0, 0.0, 25.0, 0.0]
    obs = _exact(truth)
    obs[7] += [40.0, -30.0]
    err = np.degrees(FITTER.fit(obs, SIGMA, np.zeros(4)).pose) - truth
    assert abs(err[0]) < 2.5 and abs(err[2]) < 1.0


def test_the_knee_is_held_near_its_rest_when_the_landmarks_close_it_further():
    """Landmarks of a knee closed 10 deg past its rest: the one-sided prior keeps the fitted
    opening just under its floor (-3 deg) instead of following them to -10."""
    opening = math.degrees(FITTER.fit(_exact([0.0, 0.0, -10.0, 0.0]), SIGMA, np.zeros(4)).pose[2])
    assert -5.0 < opening < math.degrees(CLOSED_FLOOR)
    # where the floor's 2 deg SD and these landmarks' noise balance (measured: -3.57 deg)
    assert opening == pytest.approx(-3.57, abs=0.1)
    # above the floor the prior is off: an opening of 1 deg is followed
    assert math.degrees(FITTER.fit(_exact([0.0, 0.0, 1.0, 0.0]), SIGMA, np.zeros(4)).pose[2]) == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("truth, start, index, bound", [
    ([50.0, 0.0, 20.0, 0.0], [35.0, 0.0, 20.0, 0.0], 0, 40.0),      # rolled forward past 40 deg
    ([-70.0, 0.0, 20.0, 0.0], [-55.0, 0.0, 20.0, 0.0], 0, -60.0),   # rolled back past 60 deg
    ([0.0, 0.0, 20.0, 50.0], [0.0, 0.0, 20.0, 40.0], 3, 45.0),      # feet apart past 45 deg
    ([0.0, 0.0, 20.0, -15.0], [0.0, 0.0, 20.0, -8.0], 3, -10.0),    # the top foot under the other
])
def test_landmarks_beyond_the_bodys_bounds_pin_the_fit_at_the_bound(truth, start, index, bound):
    """Beyond the physical bounds it is no clamshell: the fit (warm-started near the bound, as
    from the last frame) stops at the bound whatever the landmarks say."""
    est = FITTER.fit(_exact(truth), SIGMA, np.radians(start))
    assert math.degrees(est.pose[index]) == pytest.approx(bound, abs=1e-9)
