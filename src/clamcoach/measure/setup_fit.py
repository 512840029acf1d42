"""The setup's estimate: where the camera is, the person's body, each landmark's offset.

Fitted once, on the median landmarks of the still setup (legs closed), by robust least
squares with priors: an average adult's proportions (the lengths are known to about 10%, their
ratios better), the method's setup (hips and knees bent, rolled a little forward, knees and
ankles stacked) and nothing about the camera but its focal length. Many starting viewpoints
around the body are tried, since the cost has a minimum per side the camera might be on.

What the fit cannot explain at rest becomes each landmark's constant offset (the pose model
puts hips and shoulders on the body's surface, not at the joint centres): the per-frame fit
then measures movement *from* the setup, where those offsets cancel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from clamcoach.measure.camera import Camera, rodrigues, rotation_vector
from clamcoach.measure.landmarks import ANCHOR, ATTACHED, N_POINTS
from clamcoach.measure.model import J, RestBody
from clamcoach.measure.profiles import BODY_PARAMS, BLAZEPOSE, LandmarkProfile


#: Both legs' thighs (and shins) the same length, within this (metres).
SEGMENT_MATCH_SD_M = 0.02
#: Of the 48 starting viewpoints, this many are refined (camera only), and this many of those
#: fitted in full.
CAMERA_STARTS = 12
FULL_STARTS = 3


def rest_from_params(b: np.ndarray) -> RestBody:
    pts = _rest_points_many(np.asarray(b, float)[None])[0]
    p = dict(zip(BODY_PARAMS, b))
    return RestBody(top_hip=pts[J["top_hip"]], bottom_knee=pts[J["bottom_knee"]],
                    bottom_ankle=pts[J["bottom_ankle"]], top_knee=pts[J["top_knee"]],
                    top_ankle=pts[J["top_ankle"]], bottom_shoulder=pts[J["bottom_shoulder"]],
                    top_shoulder=pts[J["top_shoulder"]],
                    roll0=float(p["roll0"]), trunk_roll0=float(p["roll0"] + p["trunk_twist0"]))


_P = {name: i for i, name in enumerate(BODY_PARAMS)}


def _rest_points_many(B: np.ndarray) -> np.ndarray:
    """(k, 8, 3) rest joints (``JOINTS`` order) of k body-parameter vectors (k, BODY_PARAMS),
    all at once: the setup fit's Jacobian evaluates a vector per parameter."""
    def col(name: str) -> np.ndarray:
        return B[:, _P[name]]

    roll, twist = col("roll0"), col("roll0") + col("trunk_twist0")
    hp = col("half_pelvis")
    out = np.zeros((len(B), 8, 3))
    # the hip line turned by the roll about x: (0, 0, 2 hp) -> (0, -2 hp sin, 2 hp cos)
    out[:, J["top_hip"], 1] = -2 * hp * np.sin(roll)
    out[:, J["top_hip"], 2] = 2 * hp * np.cos(roll)
    sy, sz = col("shoulder_dy"), hp + col("shoulder_dz")
    centre = np.stack([col("trunk"), np.cos(roll) * sy - np.sin(roll) * sz,
                       np.sin(roll) * sy + np.cos(roll) * sz], axis=1)
    half = col("half_shoulders")[:, None] * np.stack([np.zeros(len(B)), -np.sin(twist), np.cos(twist)], axis=1)
    h, k, e = col("hip_flexion"), col("knee_flexion"), col("thigh_drop")
    thigh_dir = np.stack([-np.cos(h) * np.cos(e), -np.sin(h) * np.cos(e), -np.sin(e)], axis=1)
    shin_dir = np.stack([-np.cos(h - k), -np.sin(h - k), np.zeros(len(B))], axis=1)
    bk = col("thigh")[:, None] * thigh_dir
    ba = bk + col("shin")[:, None] * shin_dir
    out[:, J["bottom_knee"]] = bk
    out[:, J["bottom_ankle"]] = ba
    out[:, J["top_knee"]] = bk + B[:, [_P["knee_dx"], _P["knee_dy"], _P["knee_dz"]]]
    out[:, J["top_ankle"]] = ba + B[:, [_P["ankle_dx"], _P["ankle_dy"], _P["ankle_dz"]]]
    out[:, J["bottom_shoulder"]] = centre - half
    out[:, J["top_shoulder"]] = centre + half
    return out


@dataclass(frozen=True)
class SetupFit:
    camera: Camera
    rest: RestBody
    #: (12, 2) px: what the fit could not explain at rest, per observed point; subtracted
    #: from every later frame's landmarks.
    offsets: np.ndarray
    #: Body parameters and their standard deviations from the fit (``BODY_PARAMS`` order).
    params: np.ndarray
    params_sd: np.ndarray
    #: Root-mean-square reprojection error at rest over the body's image size.
    rms_rel: float
    body_px: float
    #: The fit's robust cost at its optimum (reprojection and priors), to compare fits of the
    #: same landmarks under different priors.
    cost: float = math.nan
    #: The covariance of everything fitted: the camera's rotation vector and translation (6),
    #: then the body's parameters (``BODY_PARAMS``); None when not known.
    covariance: np.ndarray | None = None

    def param(self, name: str) -> tuple[float, float]:
        i = BODY_PARAMS.index(name)
        return float(self.params[i]), float(self.params_sd[i])


def body_size_px(obs: np.ndarray) -> float:
    """The body's image size: trunk plus the bottom leg (pixels), the scale noise is given in."""
    hip_c = (obs[J["bottom_hip"]] + obs[J["top_hip"]]) / 2
    sh_c = (obs[J["bottom_shoulder"]] + obs[J["top_shoulder"]]) / 2
    leg = np.linalg.norm(obs[J["bottom_knee"]] - obs[J["bottom_hip"]]) + \
        np.linalg.norm(obs[J["bottom_ankle"]] - obs[J["bottom_knee"]])
    return float(np.linalg.norm(sh_c - hip_c) + leg)


def look_at(centre: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotation (body -> camera) of a camera at ``centre`` looking at ``target``, level."""
    z = target - centre
    z /= np.linalg.norm(z)
    up = np.array([0.0, 0.0, 1.0]) if abs(z[2]) < 0.98 else np.array([1.0, 0.0, 0.0])
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z])


def _start_cameras(obs: np.ndarray, body: RestBody, fx: float, fy: float, cx: float, cy: float,
                   size_px: float, mirrored: bool) -> list[Camera]:
    """Cameras all round the body, at the distance its image size implies, each turned about
    its axis so the body's long axis points the way it does in the image."""
    pts = body.points()
    target = pts.mean(axis=0)
    body_m = np.linalg.norm(pts[J["bottom_knee"]]) + np.linalg.norm(pts[J["bottom_ankle"]] - pts[J["bottom_knee"]]) + 0.48
    dist = fx * body_m / max(size_px, 1.0)
    seen = (obs[J["bottom_shoulder"]] + obs[J["top_shoulder"]]) / 2 - (obs[J["bottom_hip"]] + obs[J["top_hip"]]) / 2
    seen_angle = math.atan2(seen[1], seen[0])
    M = np.array([1.0, -1.0, 1.0]) if mirrored else np.ones(3)
    out = []
    for elev in (5.0, 30.0, 55.0, 80.0):
        for azim in range(-150, 181, 30):
            e, a = math.radians(elev), math.radians(azim)
            centre = target + dist * np.array([math.cos(e) * math.sin(a), -math.cos(e) * math.cos(a), math.sin(e)])
            R = look_at(centre * M, target * M)
            cam = Camera(R=R, t=-R @ (centre * M), fx=fx, fy=fy, cx=cx, cy=cy, mirrored=mirrored)
            head = cam.project(np.stack([pts[0] + np.array([0.0, 0, 0]), pts[0] + np.array([0.48, 0, 0])]))
            v = head[1] - head[0]
            turn = seen_angle - math.atan2(v[1], v[0])
            c, s = math.cos(turn), math.sin(turn)
            Rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
            R2 = Rz @ R
            # Keep the body where the image has it: move the camera sideways to centre it.
            cam = Camera(R=R2, t=-R2 @ (centre * M), fx=fx, fy=fy, cx=cx, cy=cy, mirrored=mirrored)
            shift = (obs[:8].mean(axis=0) - cam.project(pts).mean(axis=0))
            t = cam.t + np.array([shift[0] * dist / fx, shift[1] * dist / fy, 0.0])
            out.append(cam.with_pose(R2, t))
    return out


def _residuals(x: np.ndarray, obs: np.ndarray, w: np.ndarray, intr: tuple, n_body: bool,
               fixed_body: np.ndarray, profile: LandmarkProfile) -> np.ndarray:
    return _residuals_many(x[None], obs, w, intr, n_body, fixed_body, profile)[0]


def _jacobian(x: np.ndarray, obs: np.ndarray, w: np.ndarray, intr: tuple, n_body: bool,
              fixed_body: np.ndarray, profile: LandmarkProfile) -> np.ndarray:
    """Forward differences of ``_residuals`` with scipy's '2-point' steps, every parameter's
    step in one batched evaluation (the setup fit took half a second one vector at a time, a
    stall in the live page)."""
    h = np.sqrt(np.finfo(float).eps) * np.where(x >= 0, 1.0, -1.0) * np.maximum(1.0, np.abs(x))
    dx = (x + h) - x
    X = np.vstack([x, x + np.diag(dx)])
    F = _residuals_many(X, obs, w, intr, n_body, fixed_body, profile)
    return ((F[1:] - F[0]) / dx[:, None]).T


def _residuals_many(X: np.ndarray, obs: np.ndarray, w: np.ndarray, intr: tuple, n_body: bool,
                    fixed_body: np.ndarray, profile: LandmarkProfile) -> np.ndarray:
    """(k, m) residuals of k parameter vectors (camera rotation vector, translation, then the
    body's parameters when ``n_body``)."""
    k = len(X)
    R, t = _rodrigues_many(X[:, :3]), X[:, 3:6]
    B = X[:, 6:] if n_body else np.broadcast_to(fixed_body, (k, len(fixed_body)))
    fx, fy, cx, cy, mirrored = intr
    pts = _rest_points_many(B)
    Xc = np.einsum("kij,knj->kni", R, pts * _mirror(mirrored)) + t[:, None, :]
    z = np.maximum(Xc[..., 2], 1e-6)
    proj = np.stack([fx * Xc[..., 0] / z + cx, fy * Xc[..., 1] / z + cy], axis=-1)[:, ANCHOR]
    # Foot points are only tied to their ankles by offsets found later: at setup they
    # carry no information about the body, so they are left out (weight 0 in ``w``).
    r = ((obs - proj) * w[:, None]).reshape(k, -1)
    priors = profile.priors
    mean = np.array([priors[name].mean for name in BODY_PARAMS])
    sd = np.array([priors[name].sd for name in BODY_PARAMS])
    pri = [(B - mean) / sd]
    seg = lambda a, b: np.linalg.norm(pts[:, J[a]] - pts[:, J[b]], axis=1)  # noqa: E731
    # Both thighs and both shins the same length.
    pri.append(((seg("top_knee", "top_hip") - seg("bottom_knee", "bottom_hip")) / SEGMENT_MATCH_SD_M)[:, None])
    pri.append(((seg("top_ankle", "top_knee") - seg("bottom_ankle", "bottom_knee")) / SEGMENT_MATCH_SD_M)[:, None])
    thigh = np.maximum(B[:, _P["thigh"]], 1e-3)
    pri.append(np.stack([(B[:, _P[name]] / thigh - ratio) / rsd for name, ratio, rsd in profile.ratios], axis=1))
    # The camera is in front of the body (positive depth for every joint) and not below the
    # surface the body lies on.
    pri.append(np.minimum(Xc[..., 2] - 0.3, 0.0) * 100.0)
    height = -np.einsum("ki,ki->k", R[:, :, 2], t)  # the camera centre's z in the body frame
    pri.append((np.minimum(height + 0.05, 0.0) * 100.0)[:, None])
    return np.concatenate([r] + pri, axis=1)


def _mirror(mirrored: bool) -> np.ndarray:
    return np.array([1.0, -1.0, 1.0]) if mirrored else np.ones(3)


def _rodrigues_many(rvecs: np.ndarray) -> np.ndarray:
    """(k, 3, 3) rotation matrices of rotation vectors (k, 3), as ``camera.rodrigues``."""
    theta = np.linalg.norm(rvecs, axis=1)
    small = theta < 1e-12
    k = rvecs / np.where(small, 1.0, theta)[:, None]
    K = np.zeros((len(rvecs), 3, 3))
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    K[:, 1, 0], K[:, 2, 0], K[:, 2, 1] = k[:, 2], -k[:, 1], k[:, 0]
    s, c = np.sin(theta)[:, None, None], np.cos(theta)[:, None, None]
    R = np.eye(3) + s * K + (1 - c) * (K @ K)
    R[small] = np.eye(3)
    return R


def fit_setup(obs: np.ndarray, vis: np.ndarray, *, fx: float, fy: float, cx: float, cy: float,
              sigma_rel: np.ndarray, mirrored: bool = False, profile: LandmarkProfile = BLAZEPOSE,
              min_visibility: float = 0.3) -> SetupFit:
    """Fit camera and body to the setup's median landmarks ``obs`` (12, 2) px.

    ``sigma_rel`` (12,): each observed point's noise as a share of the body's image size.
    """
    size = body_size_px(obs)
    w = 1.0 / (sigma_rel * size)
    w = np.where(vis >= min_visibility, w, 0.0)
    w[ATTACHED] = 0.0
    obs = np.nan_to_num(obs)
    intr = (fx, fy, cx, cy, mirrored)
    b0 = np.array([profile.priors[n].mean for n in BODY_PARAMS])
    rest0 = rest_from_params(b0)
    # Score every start as it is, refine the camera alone from the most promising, then fit
    # camera and body together from the best few (the cost has a minimum per side the camera
    # might be on, so one start is not enough; all of them in full would take seconds).
    starts = []
    for cam in _start_cameras(obs, rest0, fx, fy, cx, cy, size, mirrored):
        x0 = np.concatenate([rotation_vector(cam.R), cam.t])
        r = _residuals(x0, obs, w, intr, False, b0, profile)
        starts.append((float(np.sum(np.log1p(r ** 2 / 4.0))), x0))
    starts.sort(key=lambda c: c[0])
    trials = []
    for _, x0 in starts[:CAMERA_STARTS]:
        res = least_squares(_residuals, x0, args=(obs, w, intr, False, b0, profile), jac=_jacobian,
                            loss="soft_l1", f_scale=2.0, max_nfev=60, x_scale="jac")
        trials.append((res.cost, res.x))
    trials.sort(key=lambda c: c[0])
    best = None
    for _, xc in trials[:FULL_STARTS]:
        x0 = np.concatenate([xc, b0])
        res = least_squares(_residuals, x0, args=(obs, w, intr, True, b0, profile), jac=_jacobian,
                            loss="soft_l1", f_scale=2.0, max_nfev=400, x_scale="jac")
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    x = best.x
    cam = Camera(rodrigues(x[:3]), x[3:6], *intr)
    rest = rest_from_params(x[6:])
    proj = cam.project(rest.points())[ANCHOR]
    offsets = obs - proj
    # Foot points: constant offsets from their ankle's projection.
    offsets[ATTACHED] = obs[ATTACHED] - proj[ATTACHED]
    core = np.arange(8)
    rms = float(np.sqrt(np.mean(np.sum((obs[core] - proj[core]) ** 2, axis=1)))) / size
    cov = _covariance(best.jac)
    sd = _param_sd(best.jac)[6:]
    return SetupFit(camera=cam, rest=rest, offsets=offsets, params=x[6:], params_sd=sd,
                    rms_rel=rms, body_px=size, cost=float(best.cost), covariance=cov)


def fitted_vector(fit: SetupFit) -> np.ndarray:
    """Everything the setup fitted, in the order of ``SetupFit.covariance``."""
    return np.concatenate([rotation_vector(fit.camera.R), fit.camera.t, fit.params])


def camera_and_rest(fit: SetupFit, x: np.ndarray) -> tuple[Camera, RestBody]:
    """The camera and rest body of a fitted vector (``fitted_vector``'s order), the setup's
    intrinsics kept: a variant of the setup within its uncertainty."""
    c = fit.camera
    return Camera(rodrigues(x[:3]), x[3:6], c.fx, c.fy, c.cx, c.cy, c.mirrored), rest_from_params(x[6:])


def _param_sd(jac: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(np.diag(_covariance(jac)), 0.0, None))


def _covariance(jac: np.ndarray) -> np.ndarray:
    JtJ = jac.T @ jac
    try:
        return np.linalg.inv(JtJ + 1e-9 * np.eye(len(JtJ)))
    except np.linalg.LinAlgError:
        return np.full(JtJ.shape, math.nan)


assert N_POINTS == len(ANCHOR)
