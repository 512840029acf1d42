"""The setup fit's parts: the body from its parameters, the body's image size, a level camera's
orientation, the start cameras the fit begins from and the parameters' SDs from the Jacobian."""

import math

import numpy as np
import pytest

from clamcoach.measure.camera import rotation_vector
from clamcoach.measure.model import J
from clamcoach.measure.profiles import BLAZEPOSE, BODY_PARAMS
from clamcoach.measure.setup_fit import _param_sd, _start_cameras, body_size_px, look_at, rest_from_params
from tests.measure.helpers import camera_at, landmarks, prior_rest

PRIOR_MEANS = np.array([BLAZEPOSE.priors[n].mean for n in BODY_PARAMS])


def params(**changes):
    return np.array([changes.get(n, BLAZEPOSE.priors[n].mean) for n in BODY_PARAMS])


@pytest.mark.parametrize("hip_deg, drop_deg", [(40.0, 30.0), (90.0, -20.0), (0.0, 0.0)])
def test_the_bottom_thigh_has_its_length_whatever_its_drop_and_points_forward_by_the_hip_flexion(hip_deg, drop_deg):
    """Hip flexion 0: the thigh continues the trunk's line (-x); 90: it points to the front
    (-y). The drop tilts it below the table's plane without changing its length."""
    rest = rest_from_params(params(thigh=0.45, hip_flexion=math.radians(hip_deg), thigh_drop=math.radians(drop_deg)))
    knee = rest.bottom_knee
    assert np.linalg.norm(knee) == pytest.approx(0.45, rel=1e-12)
    assert knee[2] == pytest.approx(-0.45 * math.sin(math.radians(drop_deg)), abs=1e-12)
    assert math.degrees(math.atan2(-knee[1], -knee[0])) == pytest.approx(hip_deg, abs=1e-9)


def test_the_trunks_roll_is_the_pelvis_roll_plus_the_twist_and_is_the_shoulder_lines():
    rest = rest_from_params(params(roll0=math.radians(10.0), trunk_twist0=math.radians(5.0)))
    assert rest.roll0 == pytest.approx(math.radians(10.0), abs=1e-12)
    assert rest.trunk_roll0 == pytest.approx(math.radians(15.0), abs=1e-12)
    line = rest.top_shoulder - rest.bottom_shoulder          # a forward roll turns +z toward -y
    assert math.atan2(-line[1], line[2]) == pytest.approx(rest.trunk_roll0, abs=1e-12)
    hips = rest.top_hip
    assert math.atan2(-hips[1], hips[2]) == pytest.approx(rest.roll0, abs=1e-12)


@pytest.mark.parametrize("elev, azim", [(0.0, 0.0), (35.0, 20.0), (-5.0, 170.0), (75.0, -60.0)])
def test_a_camera_looking_at_the_body_is_level_with_the_image_down_pointing_down(elev, azim):
    """Off the vertical the camera's x axis is horizontal (no tilt of the horizon) and its y
    axis (image down) points down; its z axis is the line of sight."""
    e, a = math.radians(elev), math.radians(azim)
    target = np.array([0.2, 0.1, 0.15])
    centre = target + 2.0 * np.array([math.cos(e) * math.sin(a), -math.cos(e) * math.cos(a), math.sin(e)])
    R = look_at(centre, target)
    assert np.allclose(R @ R.T, np.eye(3), atol=1e-12) and np.linalg.det(R) == pytest.approx(1.0)
    assert np.allclose(R[2], (target - centre) / 2.0, atol=1e-12)
    assert R[0, 2] == pytest.approx(0.0, abs=1e-12)
    assert R[1, 2] < 0.0


@pytest.mark.parametrize("elev, azim", [(90.0, 0.0), (80.0, 0.0), (82.0, 30.0)])
def test_a_camera_looking_almost_straight_down_has_the_head_up_in_the_image(elev, azim):
    """Within 11.5 deg of the vertical, where "level" means little, the image's x axis is
    across the body and the head (+x) is up in the image."""
    e, a = math.radians(elev), math.radians(azim)
    centre = 2.0 * np.array([math.cos(e) * math.sin(a), -math.cos(e) * math.cos(a), math.sin(e)])
    R = look_at(centre, np.zeros(3))
    assert np.all(np.isfinite(R)) and np.allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert R[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert R[1, 0] < -0.9


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
    # Each start is turned about its axis so the body's long axis (+x from the bottom hip) points
    # the way the landmarks' trunk does (hips to shoulders); the sideways shift then skews the
    # perspective of a few (measured: median 0.04 deg, at most 6).
    trunk = (obs[J["bottom_shoulder"]] + obs[J["top_shoulder"]] - obs[J["bottom_hip"]] - obs[J["top_hip"]]) / 2
    off = []
    for start in starts:
        axis = np.diff(start.project(np.array([[0.0, 0.0, 0.0], [0.48, 0.0, 0.0]])), axis=0)[0]
        off.append(abs((math.degrees(math.atan2(axis[1], axis[0]) - math.atan2(trunk[1], trunk[0])) + 180) % 360 - 180))
    assert np.median(off) < 0.2 and max(off) < 10.0


def test_the_starts_look_at_the_body_from_four_rings_of_twelve_directions():
    """Elevations 5, 30, 55, 80 deg and azimuths every 30 deg (in any order: the fit ranks
    them): the directions of sight, which the turn about the axis and the sideways shift of
    each start leave as they are."""
    rest = prior_rest()
    cam = camera_at(35.0, 10.0, rest=rest)
    obs = landmarks(rest, cam)
    body = rest_from_params(PRIOR_MEANS)
    starts = _start_cameras(obs, body, cam.fx, cam.fy, cam.cx, cam.cy, body_size_px(obs), False)
    sight = np.array([-s.R[2] for s in starts])                 # from the body to the camera
    elev = np.degrees(np.arcsin(sight[:, 2]))
    azim = (np.degrees(np.arctan2(sight[:, 0], -sight[:, 1])) + 165.0) % 360.0 - 165.0   # 180, not -180
    grid = sorted((e, a) for e in (5.0, 30.0, 55.0, 80.0) for a in range(-150, 181, 30))
    assert np.array(sorted(zip(elev.round(6), azim.round(6)))) == pytest.approx(np.array(grid), abs=1e-9)


def test_the_parameters_sds_are_the_inverse_of_the_gauss_newton_information():
    """Two parameters seen with 2 and 0.5 px per unit: SDs 0.5 and 2. A third that nothing
    constrains gets an enormous SD (the 1e-9 regularisation's), not 0 or an error."""
    jac = np.array([[2.0, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.0]])
    sd = _param_sd(jac)
    assert sd[:2] == pytest.approx([0.5, 2.0], rel=1e-6)
    assert sd[2] == pytest.approx(1 / math.sqrt(1e-9), rel=1e-6)


def test_two_parameters_nothing_tells_apart_have_unknown_sds():
    """Identical, strong columns: J'J + 1e-9 I is singular in floating point."""
    jac = np.array([[1e5, 1e5], [1e5, 1e5]])
    sd = _param_sd(jac)
    assert sd.shape == (2,) and np.all(np.isnan(sd))


def test_rounding_never_makes_a_negative_variance():
    """Two nearly identical columns: the inverse's diagonal can come out negative by rounding
    (it does for some of these with OpenBLAS); the SDs are then 0, not the square root of a
    negative number (NaN, and a warning). Where J'J is singular they are unknown (NaN)."""
    for a in np.logspace(3.4, 3.7, 60):
        sd = _param_sd(np.array([[a, a], [a, a * (1 + 1e-13)]]))
        assert np.all(np.isnan(sd)) or np.all(sd >= 0.0)


# -- the batched residuals and Jacobian (one evaluation for every parameter's step) ------------

def _problem(elev: float, n_body: bool):
    from clamcoach.measure.landmarks import ATTACHED
    from clamcoach.measure.setup_fit import _residuals

    rest = prior_rest(hip_flexion=math.radians(50.0), roll0=math.radians(8.0))
    cam = camera_at(elev, 20.0)
    obs = landmarks(rest, cam) + 3.0
    w = np.full(len(obs), 0.2)
    w[ATTACHED] = 0.0
    intr = (cam.fx, cam.fy, cam.cx, cam.cy, False)
    cam_x = np.concatenate([rotation_vector(cam.R), cam.t])
    x = np.concatenate([cam_x, PRIOR_MEANS + 0.01]) if n_body else cam_x
    args = (obs, w, intr, n_body, PRIOR_MEANS, BLAZEPOSE)
    return _residuals, x, args


@pytest.mark.parametrize("elev", [5.0, 40.0, 80.0])
@pytest.mark.parametrize("n_body", [False, True])
def test_the_batched_jacobian_is_scipys_forward_difference_of_the_residuals(elev, n_body):
    from scipy.optimize._numdiff import approx_derivative

    from clamcoach.measure.setup_fit import _jacobian

    residuals, x, args = _problem(elev, n_body)
    expected = approx_derivative(residuals, x, method="2-point", args=args)
    assert np.allclose(_jacobian(x, *args), expected, rtol=1e-9, atol=1e-9)


def test_each_row_of_the_batched_residuals_is_that_vectors_residuals():
    from clamcoach.measure.setup_fit import _residuals_many

    residuals, x, args = _problem(35.0, True)
    rng = np.random.default_rng(3)
    X = x + rng.normal(0.0, 0.05, (4, len(x)))
    X[0, :3] = 0.0  # no rotation at all: the rotation vector's zero length
    batched = _residuals_many(X, *args)
    for row, xi in zip(batched, X):
        assert np.array_equal(row, _residuals_many(xi[None], *args)[0])


def test_each_batched_rest_body_is_that_vectors_alone():
    from clamcoach.measure.setup_fit import _rest_points_many

    B = np.stack([params(roll0=math.radians(r), trunk_twist0=math.radians(t), hip_flexion=math.radians(h))
                  for r, t, h in [(0, 0, 45), (15, -5, 60), (-20, 10, 30)]])
    for i, pts in enumerate(_rest_points_many(B)):
        assert np.array_equal(pts, _rest_points_many(B[i:i + 1])[0])
        assert np.linalg.norm(pts[J["bottom_knee"]]) == pytest.approx(B[i, BODY_PARAMS.index("thigh")], rel=1e-12)
