"""The setup's uncertainty carried into the opening's SD (measure/gain_spread.py)."""

import dataclasses
import math

import numpy as np
import pytest

from clamcoach.body import BodyTracker
from clamcoach.measure.gain_spread import MAX_GAIN_SPREAD, opening_gain_sd_rel
from clamcoach.measure.profiles import BODY_PARAMS, JOINT_CENTRES
from clamcoach.measure.stage import MeasureParams, MeasureStage, RollReading
from skeleton import Camera, Pose, pose_frame


def _set_up(cam: Camera, **params) -> MeasureStage:
    stage = MeasureStage(profile=JOINT_CENTRES, focal_px=cam.focal_px,
                         params=MeasureParams(roll_reading=RollReading.FIT, **params))
    tracker = BodyTracker()
    for k in range(12):
        stage.push(tracker.push(pose_frame(Pose(), cam, t=k / 10)))
    assert stage.setup is not None
    return stage


def _spread(stage: MeasureStage, cov: np.ndarray | None) -> float:
    fit = dataclasses.replace(stage.setup, covariance=cov)
    return opening_gain_sd_rel(fit, stage._fitter, stage.noise_px())


def _only(stage: MeasureStage, name: str, sd: float) -> np.ndarray:
    cov = np.zeros_like(stage.setup.covariance)
    i = 6 + BODY_PARAMS.index(name)
    cov[i, i] = sd ** 2
    return cov


@pytest.fixture(scope="module")
def from_above() -> MeasureStage:
    return _set_up(Camera(pitch=80))


def test_a_setup_known_exactly_adds_nothing_and_one_not_known_says_the_gain_is_unknown(from_above):
    assert _spread(from_above, np.zeros_like(from_above.setup.covariance)) == 0.0
    assert _spread(from_above, None) == MAX_GAIN_SPREAD
    nan = from_above.setup.covariance.copy()
    nan[0, 0] = math.nan
    assert _spread(from_above, nan) == MAX_GAIN_SPREAD


def test_from_above_how_high_the_knee_rests_sets_the_gain(from_above):
    """From 80 deg up the knee's rest height is along the line of sight: 4 cm of doubt in it (a
    pillow's worth less) moves the opening read for 30 deg by a tenth or more; the same doubt in
    how far forward it rests (across the picture) moves it far less."""
    height = _spread(from_above, _only(from_above, "knee_dz", 0.04))
    across = _spread(from_above, _only(from_above, "knee_dx", 0.04))
    assert height > 0.1
    assert across < height / 2


def test_the_spread_grows_with_the_setups_doubt(from_above):
    """Linear for small doubts: half the SD, half the spread (within the central differences'
    curvature)."""
    cov = from_above.setup.covariance
    full, half = _spread(from_above, cov / 25), _spread(from_above, cov / 100)
    assert full > 0
    assert half == pytest.approx(full / 2, rel=0.15)


def test_correlated_doubts_add_as_one_and_independent_ones_in_quadrature(from_above):
    """The knee's and the ankle's rest heights, each 1 cm in doubt: independent, their effects
    add in quadrature; fully correlated (moving together), as one number: |d_knee + d_ankle|."""
    i, j = 6 + BODY_PARAMS.index("knee_dz"), 6 + BODY_PARAMS.index("ankle_dz")
    d_i = _spread(from_above, _only(from_above, "knee_dz", 0.01))
    d_j = _spread(from_above, _only(from_above, "ankle_dz", 0.01))
    cov = _only(from_above, "knee_dz", 0.01) + _only(from_above, "ankle_dz", 0.01)
    assert _spread(from_above, cov) == pytest.approx(math.hypot(d_i, d_j), rel=1e-6)
    cov[i, j] = cov[j, i] = 0.01 ** 2
    together = _spread(from_above, cov)
    assert together == pytest.approx(d_i + d_j, rel=1e-6) or together == pytest.approx(abs(d_i - d_j), rel=1e-6)
    assert together != pytest.approx(math.hypot(d_i, d_j), rel=0.05)


def test_the_openings_sd_carries_the_spread():
    """At a 30-deg opening the SD is the frame fit's and the gain's (the profile's share and the
    setup's spread) together; without the spread, the profile's alone."""
    cam = Camera(pitch=80)
    with_spread, without = _set_up(cam), _set_up(cam, setup_gain_spread=False)
    tracker = BodyTracker()
    for k in range(12):
        tracker.push(pose_frame(Pose(), cam, t=k / 10))
    opened = tracker.push(pose_frame(Pose(opening=30.0), cam, t=1.3))
    kin, kin0 = with_spread.push(opened), without.push(opened)
    spread = opening_gain_sd_rel(with_spread.setup, with_spread._fitter, with_spread.noise_px())
    assert spread > 0.05
    fit_part = math.sqrt(max(kin0.sd.opening_deg ** 2 - (JOINT_CENTRES.opening_gain_sd_rel * kin0.opening_deg) ** 2, 0))
    assert kin.opening_deg == pytest.approx(kin0.opening_deg, abs=1e-9)
    assert kin.sd.opening_deg == pytest.approx(
        math.hypot(fit_part, math.hypot(JOINT_CENTRES.opening_gain_sd_rel, spread) * kin.opening_deg), rel=1e-6)
    assert kin.sd.opening_deg > kin0.sd.opening_deg + 1.0
