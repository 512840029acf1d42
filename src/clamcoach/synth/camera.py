"""Cameras for the synthetic sets: where they stand, their lens, and the view label.

A camera is placed relative to the body's centre by its elevation (degrees above the
horizontal, the same as how far it looks down), an azimuth (``CameraSpec.placement`` names the
nominal direction, ``yaw`` turns away from it about the vertical), a roll about its optical axis
(a tilted phone), and either

* a lens (``focal35``, the 35 mm-equivalent focal length, defined on the diagonal as in EXIF's
  ``FocalLengthIn35mmFilm``) and a distance, or a lens and how much of the frame the body fills
  (the distance then follows), or
* a distance and a fill (the field of view follows: how the first sets were made).

The ``view`` label is derived from the geometry so tables can be grouped (``view_label``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

VIEWS = ("front", "oblique", "overhead", "feet")
#: Nominal directions a camera is placed in, from the target, in the lying frame (deg about the
#: vertical, 0 = +X toward the head): in front of the belly (-Y) or at the feet end (-X).
PLACEMENTS = {"front": -90.0, "oblique": -90.0, "overhead": -90.0, "feet": 180.0}
#: The diagonal of a 36 x 24 mm frame: what "35 mm-equivalent" focal lengths are relative to.
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)
#: View bands (deg of elevation) and how close to the long axis "looking along the body" is.
FRONT_MAX_ELEVATION = 20.0
OVERHEAD_MIN_ELEVATION = 60.0
FEET_MAX_AZIMUTH_OFF = 40.0


def view_label(elevation_deg: float, azimuth_deg: float) -> str:
    """front (< 20 deg up), oblique (20-60), overhead (> 60), or feet (looking along the body
    from the feet end: within 40 deg of the long axis, not overhead). ``azimuth_deg`` is
    body-relative: 0 = facing the belly, +90 = at the feet end."""
    if elevation_deg > OVERHEAD_MIN_ELEVATION:
        return "overhead"
    if abs(azimuth_deg - 90.0) < FEET_MAX_AZIMUTH_OFF:
        return "feet"
    return "front" if elevation_deg < FRONT_MAX_ELEVATION else "oblique"


def focal_px_from_35mm(focal35_mm: float, width: int, height: int) -> float:
    """Focal length in pixels of a 35 mm-equivalent lens on a width x height image."""
    return focal35_mm * math.hypot(width, height) / FULL_FRAME_DIAGONAL_MM


def focal_35mm_from_px(focal_px: float, width: int, height: int) -> float:
    return focal_px * FULL_FRAME_DIAGONAL_MM / math.hypot(width, height)


@dataclass
class Camera:
    """A pinhole camera in the lying frame. ``pose`` is camera-to-world (OpenGL: looks down -z)."""

    view: str
    width: int
    height: int
    fps: float
    yfov_deg: float
    pose: np.ndarray
    distance_m: float
    height_m: float  # camera height above the floor
    height_above_mat_m: float
    pitch_deg: float  # looking down, deg below horizontal (= elevation above the target)
    yaw_deg: float  # about the vertical, deg, from the placement's nominal direction
    roll_deg: float = 0.0  # about the optical axis; + = the camera's x axis tilts up
    azimuth_deg: float = 0.0  # body-relative: 0 = facing the belly, +90 = at the feet end
    placement: str = "front"

    @property
    def focal(self) -> float:
        return 0.5 * self.height / math.tan(math.radians(self.yfov_deg) / 2)

    @property
    def hfov_deg(self) -> float:
        return 2 * math.degrees(math.atan(0.5 * self.width / self.focal))

    @property
    def focal35_mm(self) -> float:
        return focal_35mm_from_px(self.focal, self.width, self.height)

    def to_camera(self, pts: np.ndarray) -> np.ndarray:
        """Lying-frame points -> camera coordinates, OpenCV convention (x right, y down, z forward)."""
        inv = np.linalg.inv(self.pose)
        p = pts @ inv[:3, :3].T + inv[:3, 3]
        return p * np.array([1.0, -1.0, -1.0])

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 2) pixel coordinates (x right, y down) and (N,) depth in metres."""
        c = self.to_camera(pts)
        z = c[:, 2]
        f = self.focal
        x = self.width / 2 + f * c[:, 0] / z
        y = self.height / 2 + f * c[:, 1] / z
        return np.stack([x, y], axis=1), z

    def block(self) -> dict:
        f = self.focal
        return {
            "view": self.view, "height_m": round(self.height_m, 3),
            "height_above_mat_m": round(self.height_above_mat_m, 3),
            "pitch_deg": round(self.pitch_deg, 2), "yaw_deg": round(self.yaw_deg, 2),
            "distance_m": round(self.distance_m, 3), "fps": self.fps,
            "resolution": [self.width, self.height], "yfov_deg": round(self.yfov_deg, 3),
            "intrinsics": {"fx": round(f, 3), "fy": round(f, 3), "cx": self.width / 2, "cy": self.height / 2},
            "pose_camera_to_world": np.round(self.pose, 5).tolist(),
            "elevation_deg": round(self.pitch_deg, 2), "azimuth_deg": round(self.azimuth_deg, 2),
            "roll_deg": round(self.roll_deg, 2), "placement": self.placement,
            "hfov_deg": round(self.hfov_deg, 3), "focal_length_35mm_mm": round(self.focal35_mm, 2),
        }


def look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    f = target - eye
    f = f / np.linalg.norm(f)
    up = np.asarray(up, dtype=np.float64)
    if abs(f.dot(up)) > 0.98:
        up = np.array([1.0, 0.0, 0.0])
    r = np.cross(f, up)
    r /= np.linalg.norm(r)
    u = np.cross(r, f)
    P = np.eye(4)
    P[:3, 0], P[:3, 1], P[:3, 2], P[:3, 3] = r, u, -f, eye
    return P


@dataclass
class CameraSpec:
    """Where to put a camera, relative to the body's centre (random when built by ``sample``).

    ``view`` is the placement (the nominal direction, see ``PLACEMENTS``); the camera's view
    label is derived from the geometry. ``distance=None`` needs ``focal35``: the distance then
    follows from the lens and ``fill``.
    """

    view: str
    distance: float | None
    pitch: float  # deg below horizontal (elevation)
    yaw: float  # deg about the vertical, from the nominal direction
    fill: float = 0.8  # fraction of the frame the body spans
    roll: float = 0.0  # deg, camera roll (a tilted phone)
    focal35: float | None = None  # 35 mm-equivalent focal length, mm (None: fov from fill)

    @staticmethod
    def nominal(view: str) -> "CameraSpec":
        return {
            "front": CameraSpec("front", 2.4, 5.0, 0.0),
            "oblique": CameraSpec("oblique", 2.4, 35.0, 0.0),
            "overhead": CameraSpec("overhead", 2.0, 88.0, 0.0),
            "feet": CameraSpec("feet", 2.4, 25.0, 0.0),
        }[view]

    @staticmethod
    def sample(view: str, rng: np.random.Generator) -> "CameraSpec":
        if view == "front":
            return CameraSpec(view, rng.uniform(1.8, 3.2), rng.uniform(0.0, 12.0), rng.uniform(-20, 20),
                              rng.uniform(0.6, 0.85), rng.uniform(-3, 3))
        if view == "oblique":
            return CameraSpec(view, rng.uniform(1.8, 3.0), rng.uniform(28.0, 42.0), rng.uniform(-20, 20),
                              rng.uniform(0.6, 0.85), rng.uniform(-3, 3))
        if view == "overhead":
            return CameraSpec(view, rng.uniform(1.5, 2.2), rng.uniform(78.0, 89.0), rng.uniform(-15, 15),
                              rng.uniform(0.65, 0.9), 0.0)
        if view == "feet":
            return CameraSpec(view, rng.uniform(1.8, 3.0), rng.uniform(15.0, 35.0), rng.uniform(-20, 20),
                              rng.uniform(0.55, 0.8), rng.uniform(-3, 3))
        raise ValueError(f"unknown view {view!r}; choose from {', '.join(VIEWS)}")


def _camera_pose(spec: CameraSpec, target: np.ndarray, distance: float) -> np.ndarray:
    az = math.radians(PLACEMENTS[spec.view] + spec.yaw)
    el = math.radians(spec.pitch)
    d = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    eye = target + distance * d
    up = (0.0, 0.0, 1.0)
    if spec.pitch > 70:  # overhead: the body across the image (its long axis along the width)
        up = (math.tan(math.radians(spec.yaw)), 1.0, 0.0)
    pose = look_at(eye, target, up)
    if spec.roll:
        c, s = math.cos(math.radians(spec.roll)), math.sin(math.radians(spec.roll))
        Rz = np.eye(4)
        Rz[:2, :2] = [[c, -s], [s, c]]
        pose = pose @ Rz
    return pose


def _half_extent(pose: np.ndarray, body_pts: np.ndarray, aspect: float) -> float:
    """The body's half-extent in normalised image coordinates (tan of the half-angle, height units)."""
    inv = np.linalg.inv(pose)
    p = body_pts @ inv[:3, :3].T + inv[:3, 3]
    z = -p[:, 2]
    tx = np.max(np.abs(p[:, 0] / z))
    ty = np.max(np.abs(p[:, 1] / z))
    return max(ty, tx / aspect)


def make_camera(spec: CameraSpec, target: np.ndarray, body_pts: np.ndarray, width: int, height: int,
                fps: float, mat_top: float) -> Camera:
    """A camera looking at ``target`` from the spec's direction. Without a lens the field of view
    is set so the body (``body_pts``, lying frame) spans about ``spec.fill`` of the frame; with a
    lens and no distance, the distance is found so it does."""
    aspect = width / height
    if spec.focal35 is not None:
        half_y = 0.5 * height / focal_px_from_35mm(spec.focal35, width, height)
        distance = spec.distance
        if distance is None:
            distance = _distance_for_fill(spec, target, body_pts, aspect, half_y)
        pose = _camera_pose(spec, target, distance)
    else:
        if spec.distance is None:
            raise ValueError("a camera without a lens (focal35) needs a distance")
        distance = spec.distance
        pose = _camera_pose(spec, target, distance)
        half_y = _half_extent(pose, body_pts, aspect) / spec.fill
    yfov = 2 * math.degrees(math.atan(half_y))
    eye = pose[:3, 3]
    # body-relative azimuth: 0 = in front of the belly (-Y), +90 = at the feet end (-X)
    d = eye - target
    azimuth = math.degrees(math.atan2(-d[0], -d[1]))
    return Camera(view=view_label(spec.pitch, azimuth), width=width, height=height, fps=fps, yfov_deg=yfov,
                  pose=pose, distance_m=float(distance), height_m=float(eye[2]),
                  height_above_mat_m=float(eye[2] - mat_top), pitch_deg=spec.pitch, yaw_deg=spec.yaw,
                  roll_deg=spec.roll, azimuth_deg=azimuth, placement=spec.view)


def _distance_for_fill(spec: CameraSpec, target, body_pts, aspect: float, half_y: float) -> float:
    """Bisection on the distance: the body's extent shrinks monotonically as the camera backs off."""
    want = spec.fill * half_y
    lo, hi = 0.5, 12.0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if _half_extent(_camera_pose(spec, target, mid), body_pts, aspect) > want:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def mirror_camera(cam: Camera) -> Camera:
    """The same camera in the world mirrored by X -> -X (for the right side). Relative to the
    body nothing changes (azimuth, elevation); yaw and roll change sign."""
    S = np.diag([-1.0, 1.0, 1.0, 1.0])
    pose = S @ cam.pose @ S
    return Camera(**{**cam.__dict__, "pose": pose, "yaw_deg": -cam.yaw_deg, "roll_deg": -cam.roll_deg})
