"""Raw geometric features of one body frame, in the body's own frame. Pure functions.

Body frame (from world landmarks, metres): ``a`` runs from mid-hip to mid-shoulder (the long
axis); ``n`` is the table's normal, taken as the normal of the plane of the long axis and the
bottom thigh (both lie along the mat), oriented toward the top hip; ``f`` (forward) completes
the frame on the side the thighs point to. None of it depends on the camera's placement or on
the model's left/right labels, only on which side is on top (decided by the body stage).
"""

from __future__ import annotations

import math

import numpy as np

from clamcoach.types import LM, BodyFrame, Side

FEATURES: tuple[str, ...] = (
    "hip_flex", "knee_flex", "opening_hinge", "opening_2d", "knee_gap_m", "ankle_gap_m",
    "shin_m", "roll3d_hip", "roll3d_sh", "phi_hip", "lam_hip", "phi_sh", "lam_sh",
    "pitch", "axis_depth", "hand_dist", "hip_flex_2d", "knee_flex_2d", "open_hip_2d",
    "knee_gap_2d", "ankle_frac_2d", "thigh_2d", "ankle_frac_3d", "upright",
    "hip_flex_2d_bottom", "knee_flex_2d_bottom", "thigh_ratio_2d",
)


# Plain-Python 3-vector helpers: numpy's general cross/norm cost ~10 us a call, too much on
# the per-frame path for vectors this small.
def _norm(v: np.ndarray) -> float:
    x, y, z = float(v[0]), float(v[1]), float(v[2])
    return math.sqrt(x * x + y * y + z * z)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a0, a1, a2 = float(a[0]), float(a[1]), float(a[2])
    b0, b1, b2 = float(b[0]), float(b[1]), float(b[2])
    return np.array((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0))


def _unit(v: np.ndarray) -> np.ndarray:
    n = _norm(v)
    return v / n if n > 1e-9 else v * np.nan


def _reject(v: np.ndarray, *axes: np.ndarray) -> np.ndarray:
    for a in axes:
        v = v - a * (v @ a)
    return v


def signed_angle(u: np.ndarray, v: np.ndarray, normal: np.ndarray) -> float:
    """Angle from u to v (degrees) about ``normal`` (right-hand rule)."""
    return math.degrees(math.atan2(float(_cross(u, v) @ normal), float(u @ v)))


def angle_between(u: np.ndarray, v: np.ndarray) -> float:
    """Angle between two 2-D or 3-D vectors, degrees."""
    c = float(u @ v) / (math.sqrt(float(u @ u) * float(v @ v)) + 1e-12)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def side_points(arr: np.ndarray, side: Side, name: str) -> np.ndarray:
    return arr[LM[f"{side.value}_{name}"]]


def body_axes(world: np.ndarray, top: Side) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, n, f): long axis, table normal toward the top side, forward."""
    bot = top.other
    hip_t, hip_b = side_points(world, top, "hip"), side_points(world, bot, "hip")
    sh_c = (world[LM["left_shoulder"]] + world[LM["right_shoulder"]]) / 2
    hip_c = (hip_t + hip_b) / 2
    a = _unit(sh_c - hip_c)
    thigh_b = side_points(world, bot, "knee") - hip_b
    n = _unit(_cross(a, thigh_b))
    if n @ (hip_t - hip_b) < 0:
        n = -n
    f = _unit(_cross(n, a))
    if f @ thigh_b < 0:
        f = -f
    return a, n, f


def features(body: BodyFrame) -> dict[str, float]:
    """Every raw feature the measures are built from (degrees, metres, ratios)."""
    w, img, top = body.world, body.image, body.top
    bot = top.other
    a, n, f = body_axes(w, top)
    P = {s: {k: side_points(w, s, k) for k in ("hip", "knee", "ankle", "shoulder", "wrist")}
         for s in (top, bot)}
    out: dict[str, float] = {}

    hip_flex, knee_flex = [], []
    for s in (top, bot):
        thigh = P[s]["knee"] - P[s]["hip"]
        hip_flex.append(math.degrees(math.atan2(float(thigh @ f), float(thigh @ -a))))
        shin = P[s]["ankle"] - P[s]["knee"]
        knee_flex.append(180.0 - angle_between(-thigh, shin))
    out["hip_flex"] = (hip_flex[0] + hip_flex[1]) / 2
    out["knee_flex"] = (knee_flex[0] + knee_flex[1]) / 2

    # Opening: the top knee's turn about its own hip-ankle line (the feet are the hinge),
    # measured from the forward direction toward the top side.
    axis = _unit(P[top]["ankle"] - P[top]["hip"])
    v = _reject(P[top]["knee"] - P[top]["hip"], axis)
    f_p = _unit(_reject(f, axis))
    n_p = _unit(_cross(axis, f_p))
    if n_p @ n < 0:
        n_p = -n_p
    out["opening_hinge"] = math.degrees(math.atan2(float(v @ n_p), float(v @ f_p)))

    # 2-D: angle at the mid-ankle between the two knees in the image.
    ank2 = (img[LM["left_ankle"], :2] + img[LM["right_ankle"], :2]) / 2
    kt2 = side_points(img, top, "knee")[:2] - ank2
    kb2 = side_points(img, bot, "knee")[:2] - ank2
    out["opening_2d"] = angle_between(kt2, kb2)

    out["knee_gap_m"] = _norm(P[top]["knee"] - P[bot]["knee"])
    out["ankle_gap_m"] = _norm(P[top]["ankle"] - P[bot]["ankle"])
    out["shin_m"] = (_norm(P[top]["ankle"] - P[top]["knee"]) + _norm(P[bot]["ankle"] - P[bot]["knee"])) / 2
    out["ankle_frac_3d"] = out["ankle_gap_m"] / (out["shin_m"] + 1e-9)

    for name, key in (("hip", "hip"), ("sh", "shoulder")):
        line = P[top][key] - P[bot][key]
        line_p = _reject(line, a)
        out[f"roll3d_{name}"] = math.degrees(math.atan2(float(line_p @ f), float(line_p @ n)))
        phi, lam = _image_line(img, top, key)
        out[f"phi_{name}"], out[f"lam_{name}"] = phi, lam

    out.update(_image_features(img, top))

    # Camera pitch from the table normal in camera axes (y down, z away): n ~ (0, -cos p, -sin p).
    out["pitch"] = math.degrees(math.atan2(float(-n[2]), float(-n[1])))
    out["axis_depth"] = abs(float(a[2]))
    out["upright"] = abs(float(a[1]))  # near 1: the long axis is image-vertical (sitting, standing)
    trunk = _norm((P[top]["shoulder"] + P[bot]["shoulder"]) / 2 - (P[top]["hip"] + P[bot]["hip"]) / 2)
    out["hand_dist"] = _norm(P[top]["wrist"] - P[top]["hip"]) / (trunk + 1e-9)
    return out


def _image_line(img: np.ndarray, top: Side, key: str) -> tuple[float, float]:
    """The bottom-to-top line of a pair in the image, against the body's image long axis:
    phi, its tilt (degrees) from the perpendicular of the long axis, signed toward the head;
    lam, its perpendicular length over the image trunk length."""
    bot = top.other
    hip_c = (img[LM["left_hip"], :2] + img[LM["right_hip"], :2]) / 2
    sh_c = (img[LM["left_shoulder"], :2] + img[LM["right_shoulder"], :2]) / 2
    axis = sh_c - hip_c
    trunk = math.hypot(*axis) + 1e-9
    a = axis / trunk
    perp = np.array([-a[1], a[0]])
    line = side_points(img, top, key)[:2] - side_points(img, bot, key)[:2]
    if line @ perp < 0:
        perp = -perp
    along, across = float(line @ a), float(line @ perp)
    return math.degrees(math.atan2(along, across)), across / trunk


def _image_features(img: np.ndarray, top: Side) -> dict[str, float]:
    """Angles and lengths in the image (pixels are where the model is most accurate; depth is
    where it is least). Lengths are over the image trunk length, so they are scale-free."""
    bot = top.other
    p = {s: {k: side_points(img, s, k)[:2] for k in ("hip", "knee", "ankle")} for s in (top, bot)}
    hip_c = (p[top]["hip"] + p[bot]["hip"]) / 2
    sh_c = (img[LM["left_shoulder"], :2] + img[LM["right_shoulder"], :2]) / 2
    trunk = sh_c - hip_c
    trunk_len = math.hypot(*trunk) + 1e-9
    hip_flex, knee_flex, shins, thighs = [], [], [], []
    for s in (top, bot):
        thigh = p[s]["knee"] - p[s]["hip"]
        shin = p[s]["ankle"] - p[s]["knee"]
        hip_flex.append(angle_between(-trunk, thigh))
        knee_flex.append(180.0 - angle_between(-thigh, shin))
        shins.append(math.hypot(*shin))
        thighs.append(math.hypot(*thigh))
    return {
        "hip_flex_2d": (hip_flex[0] + hip_flex[1]) / 2,
        "knee_flex_2d": (knee_flex[0] + knee_flex[1]) / 2,
        "hip_flex_2d_bottom": hip_flex[1],
        "knee_flex_2d_bottom": knee_flex[1],
        "thigh_ratio_2d": thighs[0] / (thighs[1] + 1e-9),   # the top thigh shortens as it turns up
        "open_hip_2d": angle_between(p[top]["knee"] - hip_c, p[bot]["knee"] - hip_c),
        "knee_gap_2d": math.hypot(*(p[top]["knee"] - p[bot]["knee"])) / trunk_len,
        "ankle_frac_2d": math.hypot(*(p[top]["ankle"] - p[bot]["ankle"])) / ((shins[0] + shins[1]) / 2 + 1e-9),
        "thigh_2d": (thighs[0] + thighs[1]) / 2 / trunk_len,
    }
