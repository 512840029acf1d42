"""A pinhole camera seen from the body: intrinsics, and the body frame's pose in camera axes.

Camera axes as OpenCV's: x right, y down, z forward (away from the camera). Pixels from the
top-left corner. No lens distortion: phone and webcam video is already undistorted enough at
the accuracy the landmarks have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Without a focal length in the video's metadata: the horizontal field of view assumed.
#: Phones' main cameras are 24-28 mm equivalent (65-74 deg), webcams 60-78 deg; the probe in
#: ../shared/knowledge found a 60 deg guess changed almost nothing against the true focal.
DEFAULT_HFOV_DEG = 65.0


def focal_from_hfov(width: int, hfov_deg: float) -> float:
    return width / 2.0 / math.tan(math.radians(hfov_deg) / 2.0)


def focal_from_35mm(width: int, height: int, f35_mm: float) -> float:
    """Pixels from a 35 mm-equivalent focal length (defined on the 36 x 24 mm frame's
    diagonal, 43.27 mm)."""
    return f35_mm / 43.27 * math.hypot(width, height)


def rodrigues(rvec: np.ndarray) -> np.ndarray:
    """Rotation matrix of a rotation vector (axis times angle, radians)."""
    theta = float(np.linalg.norm(rvec))
    if theta < 1e-12:
        return np.eye(3)
    k = rvec / theta
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(theta) * K + (1 - math.cos(theta)) * (K @ K)


def rotation_vector(R: np.ndarray) -> np.ndarray:
    """Inverse of ``rodrigues``."""
    c = max(-1.0, min(1.0, (float(np.trace(R)) - 1.0) / 2.0))
    theta = math.acos(c)
    if theta < 1e-9:
        return np.zeros(3)
    if math.pi - theta < 1e-6:
        # Near 180 deg: axis from the symmetric part.
        w, v = np.linalg.eigh((R + R.T) / 2)
        return v[:, int(np.argmax(w))] * theta
    axis = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]]) / (2 * math.sin(theta))
    return axis * theta


@dataclass(frozen=True)
class Camera:
    """``x_cam = R @ (M x_body) + t``; then the pinhole.

    ``mirrored``: M flips the body frame's y. The body model is drawn for a person lying on
    their left side; one lying on their right is its mirror image (top/bottom labels kept), which
    no turn of the camera can reproduce, so the mirror is part of the camera's view of the body.
    """

    R: np.ndarray
    t: np.ndarray
    fx: float
    fy: float
    cx: float
    cy: float
    mirrored: bool = False

    @property
    def _M(self) -> np.ndarray:
        return np.array([1.0, -1.0, 1.0]) if self.mirrored else np.ones(3)

    def project(self, X: np.ndarray) -> np.ndarray:
        """(..., 3) body-frame points -> (..., 2) pixels."""
        Xc = (X * self._M) @ self.R.T + self.t
        z = np.maximum(Xc[..., 2], 1e-6)
        return np.stack([self.fx * Xc[..., 0] / z + self.cx, self.fy * Xc[..., 1] / z + self.cy], axis=-1)

    @property
    def centre_body(self) -> np.ndarray:
        """The camera's position in the body frame."""
        return (-self.R.T @ self.t) * self._M

    def elevation_deg(self, target: np.ndarray | None = None) -> float:
        """How far above the table plane the camera looks down at ``target`` (default: the
        body frame's origin), degrees."""
        target = np.zeros(3) if target is None else target
        d = self.centre_body - target
        return math.degrees(math.atan2(float(d[2]), math.hypot(float(d[0]), float(d[1]))))

    def azimuth_deg(self, target: np.ndarray | None = None) -> float:
        """Where the camera stands around the body, seen from above: 0 = straight in front of
        the belly, +90 = at the head end, -90 = at the feet end, 180 = behind the back."""
        target = np.zeros(3) if target is None else target
        d = self.centre_body - target
        return math.degrees(math.atan2(float(d[0]), float(-d[1])))

    def with_pose(self, R: np.ndarray, t: np.ndarray) -> "Camera":
        return Camera(R=R, t=t, fx=self.fx, fy=self.fy, cx=self.cx, cy=self.cy, mirrored=self.mirrored)
