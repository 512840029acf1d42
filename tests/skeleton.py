"""Exact synthetic landmarks of a side-lying clamshell, with answers known in closed form.

Body frame: X toward the head, Y forward (where the belly faces), Z up (away from the table),
origin at mid-hip. A camera placed in front (and raised by ``pitch``) turns the body frame into
BlazePose-like world landmarks (camera-aligned axes: x right, y down, z away) and pixel
landmarks (pinhole projection).

    hip flexion h: thighs point (-cos h, sin h, 0)
    knee flexion k: shins point (-cos(h-k), sin(h-k), 0)
    opening o: the top knee turns by o about its own hip-ankle line, toward +Z
    pelvis roll r (forward positive): the trunk and pelvis turn about X so the top hip leans
    toward +Y by r
    feet apart e: the top leg turns about the top hip's Y axis, lifting the ankle by e degrees
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from clamcoach.types import LM, N_LANDMARKS, PoseFrame

THIGH, SHIN, HALF_HIP, HALF_SH, TRUNK = 0.42, 0.40, 0.09, 0.18, 0.50


def rot(axis: np.ndarray, deg: float) -> np.ndarray:
    """Rodrigues rotation matrix about ``axis`` by ``deg`` (right-hand rule)."""
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    th = math.radians(deg)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(th) * K + (1 - math.cos(th)) * K @ K


@dataclass(frozen=True)
class Pose:
    hip: float = 45.0
    knee: float = 45.0
    opening: float = 0.0
    roll: float = 10.0
    trunk_roll: float | None = None   # defaults to the pelvis roll
    base_roll: float | None = None    # the set-up roll the legs were stacked at (default: roll)
    feet_apart: float = 0.0
    hand_on_hip: bool = True


def body_points(p: Pose) -> dict[str, np.ndarray]:
    """Named points (top_*, bottom_*, nose ...) in the body frame."""
    X, Y, Z = np.eye(3)
    R_pelvis = rot(X, -p.roll)
    R_base = rot(X, -p.base_roll if p.base_roll is not None else -p.roll)
    R_trunk = rot(X, -(p.trunk_roll if p.trunk_roll is not None else p.roll))
    h, k = math.radians(p.hip), math.radians(p.knee)
    d_thigh = np.array([-math.cos(h), math.sin(h), 0.0])
    d_shin = np.array([-math.cos(h - k), math.sin(h - k), 0.0])
    pts: dict[str, np.ndarray] = {}
    # The roll pivots about the bottom hip, which stays on the mat; the legs stay stacked
    # (knee centres 11 cm apart, ankles 7 cm), so the top thigh follows the rolled top hip.
    hip_bot = -HALF_HIP * Z
    hip_top = hip_bot + R_pelvis @ (2 * HALF_HIP * Z)
    knee_b = hip_bot + THIGH * d_thigh
    ankle_b = knee_b + SHIN * d_shin
    pts["bottom_hip"], pts["bottom_knee"], pts["bottom_ankle"] = hip_bot, knee_b, ankle_b
    pts["top_hip"], pts["top_ankle"] = hip_top, ankle_b + 0.07 * Z
    # The top leg keeps its lengths (those of the stack before any roll): the knee lies on the
    # circle about the top hip-ankle line, closed at the point nearest "on the bottom knee",
    # and the opening turns it from there toward +Z.
    hip0 = hip_bot + R_base @ (2 * HALF_HIP * Z)
    knee0 = knee_b + 0.11 * Z
    l1, l2 = np.linalg.norm(knee0 - hip0), np.linalg.norm(pts["top_ankle"] - knee0)
    hip, ankle = pts["top_hip"], pts["top_ankle"]
    d_vec = ankle - hip
    d = np.linalg.norm(d_vec)
    a = d_vec / d
    along = (l1 ** 2 - l2 ** 2 + d ** 2) / (2 * d)
    r = math.sqrt(max(l1 ** 2 - along ** 2, 0.0))
    centre = hip + a * along
    e1 = (knee0 - centre) - a * float((knee0 - centre) @ a)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(a, e1)
    if e2[2] < 0:
        e2 = -e2
    o = math.radians(p.opening)
    pts["top_knee"] = centre + r * (math.cos(o) * e1 + math.sin(o) * e2)
    knee = pts["top_knee"]
    if p.feet_apart:
        R_ab = rot(Y, -p.feet_apart)  # lifts the ankle (toward +Z) about the hip
        if (R_ab @ (ankle - hip))[2] < (ankle - hip)[2]:
            R_ab = rot(Y, p.feet_apart)
        pts["top_knee"] = hip + R_ab @ (pts["top_knee"] - hip)
        pts["top_ankle"] = hip + R_ab @ (ankle - hip)
    for side in ("top", "bottom"):
        a, kn = pts[f"{side}_ankle"], pts[f"{side}_knee"]
        shin = (a - kn) / np.linalg.norm(a - kn)
        pts[f"{side}_heel"] = a + 0.05 * shin - 0.04 * Y
        pts[f"{side}_foot_index"] = a + 0.15 * Y + 0.02 * shin
    sh_c = hip_bot + R_trunk @ (TRUNK * X + HALF_HIP * Z)
    pts["top_shoulder"] = sh_c + R_trunk @ (HALF_SH * Z)
    pts["bottom_shoulder"] = sh_c + R_trunk @ (-HALF_SH * Z)
    pts["bottom_elbow"] = pts["bottom_shoulder"] + 0.28 * X
    pts["bottom_wrist"] = pts["bottom_elbow"] + 0.1 * X + 0.15 * Y
    if p.hand_on_hip:
        pts["top_wrist"] = pts["top_hip"] + 0.04 * Z + 0.03 * X
        pts["top_elbow"] = (pts["top_shoulder"] + pts["top_wrist"]) / 2 - 0.12 * Y
    else:
        pts["top_elbow"] = pts["top_shoulder"] + 0.25 * Y - 0.05 * Z
        pts["top_wrist"] = pts["top_elbow"] + 0.25 * Y - 0.1 * Z
    for side in ("top", "bottom"):
        for f in ("pinky", "index", "thumb"):
            pts[f"{side}_{f}"] = pts[f"{side}_wrist"] + 0.06 * Y
    head = sh_c + 0.22 * X
    pts["nose"] = head + 0.08 * Y
    for side, s in (("top", 1), ("bottom", -1)):
        for f, off in (("eye_inner", 0.02), ("eye", 0.03), ("eye_outer", 0.04), ("ear", 0.07), ("mouth", 0.025)):
            dx = -0.03 if f == "mouth" else 0.02
            pts[f"{side}_{f}"] = head + dx * X + 0.06 * Y + s * off * Z
    return pts


@dataclass(frozen=True)
class Camera:
    pitch: float = 35.0      # degrees down from level
    yaw: float = 0.0         # degrees about the vertical
    distance: float = 2.2
    focal_px: float = 700.0
    width: int = 960
    height: int = 720


def camera_axes(cam: Camera) -> tuple[np.ndarray, np.ndarray]:
    """(R, C): rows of R are the camera's x (right), y (down), z (view) axes in the body
    frame; C is the camera's position."""
    Z = np.array([0.0, 0, 1])
    p = math.radians(cam.pitch)
    C = cam.distance * np.array([0.0, math.cos(p), math.sin(p)])
    C = rot(Z, cam.yaw) @ C + np.array([-0.15, 0, 0])
    zc = -C / np.linalg.norm(C)
    up = Z if abs(cam.pitch) < 89.0 else np.array([-1.0, 0, 0])
    yc = -(up - (up @ zc) * zc)
    yc /= np.linalg.norm(yc)
    xc = np.cross(yc, zc)
    return np.stack([xc, yc, zc]), C


def pose_frame(p: Pose, cam: Camera = Camera(), *, t: float = 0.0, top: str = "left",
               swap: bool = False, scale: float = 1.0, visibility: float = 0.99) -> PoseFrame:
    """A PoseFrame as BlazePose would give it (labels true unless ``swap``)."""
    pts = body_points(p)
    if top == "right":
        pts = {k: v * np.array([-1.0, 1, 1]) for k, v in pts.items()}  # head the other way
    R, C = camera_axes(cam)
    hip_c = (pts["top_hip"] + pts["bottom_hip"]) / 2
    world = np.full((N_LANDMARKS, 3), np.nan)
    image = np.full((N_LANDMARKS, 3), np.nan)
    for name, idx in LM.items():
        if name == "nose":
            key = "nose"
        elif name.startswith("mouth_"):
            key = ("top_" if name.endswith(top) else "bottom_") + "mouth"
        else:
            side, _, part = name.partition("_")
            key = ("top_" if side == top else "bottom_") + part
        P = pts[key]
        world[idx] = scale * (R @ (P - hip_c))
        cam_p = R @ (P - C)
        image[idx] = (cam.focal_px * cam_p[0] / cam_p[2] + cam.width / 2,
                      cam.focal_px * cam_p[1] / cam_p[2] + cam.height / 2, visibility)
    if swap:
        from clamcoach.types import LR_PAIRS

        for a, b in LR_PAIRS:
            world[[a, b]] = world[[b, a]]
            image[[a, b]] = image[[b, a]]
    return PoseFrame(t=t, image=image, world=world, width=cam.width, height=cam.height)


def min_jerk(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return 10 * x**3 - 15 * x**4 + 6 * x**5


def clam_set(n_reps: int = 3, *, opening: float = 30.0, up: float = 1.5, hold: float = 2.0,
             down: float = 1.5, rest: float = 1.0, lead_in: float = 2.0, fps: float = 30.0,
             roll_back: dict[int, float] | None = None, feet_apart: dict[int, float] | None = None,
             openings: dict[int, float] | None = None, base: Pose = Pose()):
    """Yield (t, Pose) for a set: lead-in rest, then reps (1-based indices for mistakes)."""
    roll_back = roll_back or {}
    feet_apart = feet_apart or {}
    openings = openings or {}
    rep_len = up + hold + down + rest
    total = lead_in + n_reps * rep_len + 1.0
    n = int(total * fps)
    for i in range(n):
        t = i / fps
        u = t - lead_in
        k = int(u // rep_len) if u >= 0 else -1
        level = 0.0
        if 0 <= k < n_reps:
            s = u - k * rep_len
            if s < up:
                level = min_jerk(s / up)
            elif s < up + hold:
                level = 1.0
            elif s < up + hold + down:
                level = 1.0 - min_jerk((s - up - hold) / down)
        rep = k + 1
        pose = Pose(
            hip=base.hip, knee=base.knee, hand_on_hip=base.hand_on_hip,
            opening=level * openings.get(rep, opening),
            roll=base.roll - level * roll_back.get(rep, 0.0), base_roll=base.roll,
            feet_apart=level * feet_apart.get(rep, 0.0),
        )
        yield t, pose
