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
from clamcoach.measure.model import J, RestBody, rot_x
from clamcoach.measure.profiles import BODY_PARAMS, BLAZEPOSE, LandmarkProfile


#: Both legs' thighs (and shins) the same length, within this (metres).
SEGMENT_MATCH_SD_M = 0.02
#: Of the 48 starting viewpoints, this many are refined (camera only), and this many of those
#: fitted in full.
CAMERA_STARTS = 12
FULL_STARTS = 3


def rest_from_params(b: np.ndarray) -> RestBody:
    p = dict(zip(BODY_PARAMS, b))
    R0 = rot_x(np.array([p["roll0"]]))[0]
    Rs = rot_x(np.array([p["roll0"] + p["trunk_twist0"]]))[0]
    up = np.array([0.0, 0.0, 1.0])
    top_hip = R0 @ (2 * p["half_pelvis"] * up)
    sh_c = R0 @ np.array([p["trunk"], p["shoulder_dy"], p["half_pelvis"] + p["shoulder_dz"]])
    half = p["half_shoulders"] * (Rs @ up)
    h, k, e = p["hip_flexion"], p["knee_flexion"], p["thigh_drop"]
    thigh_dir = np.array([-math.cos(h) * math.cos(e), -math.sin(h) * math.cos(e), -math.sin(e)])
    shin_dir = np.array([-math.cos(h - k), -math.sin(h - k), 0.0])
    bk = p["thigh"] * thigh_dir
    ba = bk + p["shin"] * shin_dir
    tk = bk + np.array([p["knee_dx"], p["knee_dy"], p["knee_dz"]])
    ta = ba + np.array([p["ankle_dx"], p["ankle_dy"], p["ankle_dz"]])
    return RestBody(top_hip=top_hip, bottom_knee=bk, bottom_ankle=ba, top_knee=tk, top_ankle=ta,
                    bottom_shoulder=sh_c - half, top_shoulder=sh_c + half,
                    roll0=float(p["roll0"]), trunk_roll0=float(p["roll0"] + p["trunk_twist0"]))


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
    rvec, t = x[:3], x[3:6]
    b = x[6:] if n_body else fixed_body
    cam = Camera(rodrigues(rvec), t, *intr)
    rest = rest_from_params(b)
    pts = rest.points()
    proj = cam.project(pts)[ANCHOR]
    # Foot points are only tied to their ankles by offsets found later: at setup they
    # carry no information about the body, so they are left out (weight 0 below).
    r = ((obs - proj) * w[:, None]).ravel()
    priors = profile.priors
    pri = [(bi - priors[name].mean) / priors[name].sd for bi, name in zip(b, BODY_PARAMS)]
    # Both thighs and both shins the same length.
    pri.append((np.linalg.norm(rest.top_knee - rest.top_hip) - np.linalg.norm(rest.bottom_knee)) / SEGMENT_MATCH_SD_M)
    pri.append((np.linalg.norm(rest.top_ankle - rest.top_knee)
                - np.linalg.norm(rest.bottom_ankle - rest.bottom_knee)) / SEGMENT_MATCH_SD_M)
    thigh = max(float(b[BODY_PARAMS.index("thigh")]), 1e-3)
    for name, ratio, sd in profile.ratios:
        pri.append((b[BODY_PARAMS.index(name)] / thigh - ratio) / sd)
    # The camera is in front of the body (positive depth for every joint) and not below the
    # surface the body lies on.
    depth = ((pts * cam._M) @ cam.R.T + t)[:, 2]
    pri.extend(np.minimum(depth - 0.3, 0.0) * 100.0)
    pri.append(min(cam.centre_body[2] + 0.05, 0.0) * 100.0)
    return np.concatenate([r, np.array(pri)])


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
        res = least_squares(_residuals, x0, args=(obs, w, intr, False, b0, profile), loss="soft_l1",
                            f_scale=2.0, max_nfev=60, x_scale="jac")
        trials.append((res.cost, res.x))
    trials.sort(key=lambda c: c[0])
    best = None
    for _, xc in trials[:FULL_STARTS]:
        x0 = np.concatenate([xc, b0])
        res = least_squares(_residuals, x0, args=(obs, w, intr, True, b0, profile), loss="soft_l1",
                            f_scale=2.0, max_nfev=400, x_scale="jac")
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
    sd = _param_sd(best.jac)[6:]
    return SetupFit(camera=cam, rest=rest, offsets=offsets, params=x[6:], params_sd=sd,
                    rms_rel=rms, body_px=size)


def _param_sd(jac: np.ndarray) -> np.ndarray:
    JtJ = jac.T @ jac
    try:
        cov = np.linalg.inv(JtJ + 1e-9 * np.eye(len(JtJ)))
    except np.linalg.LinAlgError:
        return np.full(len(JtJ), math.nan)
    return np.sqrt(np.clip(np.diag(cov), 0.0, None))


assert N_POINTS == len(ANCHOR)
