"""A small articulated model of a side-lying body doing clamshells. Pure numpy.

Body frame (metres): origin at the bottom hip joint centre, ``x`` along the trunk toward the
head, ``z`` up (the table's normal), ``y = z x x`` (toward the back; the front faces ``-y``).
Joints are named by top/bottom, never left/right: a body lying on its right side is, by
bilateral symmetry, the same model with the labels swapped, and the camera pose absorbs the
turn. So one model serves both sides.

At rest (the setup) the model is a set of points (``RestBody``). Per frame four numbers move
it (``Pose``), the degrees of freedom of the exercise:

- ``roll``: the pelvis turns about the long axis through the bottom hip (forward positive:
  belly toward the table). The bottom leg stays on the table.
- ``trunk_twist``: the shoulders turn a little more or less than the pelvis.
- ``opening``: the top knee turns about the top hip-ankle line, the feet being the hinge
  (0 = as at rest, positive = up).
- ``abduction``: the whole top leg turns up about the top hip (feet apart), radians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Model joints, in this order everywhere in ``measure``.
JOINTS: tuple[str, ...] = (
    "bottom_hip", "top_hip", "bottom_knee", "top_knee",
    "bottom_ankle", "top_ankle", "bottom_shoulder", "top_shoulder",
)
J = {name: i for i, name in enumerate(JOINTS)}
N_JOINTS = len(JOINTS)

#: The per-frame degrees of freedom, in the order of a pose vector.
DOF: tuple[str, ...] = ("roll", "trunk_twist", "opening", "abduction")
N_DOF = len(DOF)


@dataclass(frozen=True)
class RestBody:
    """The body at the setup, in the body frame (metres). ``roll0`` is the setup's forward
    roll of the pelvis (radians) and ``trunk_roll0`` the shoulders'; the points are those of
    the setup, so a pose of zeros reproduces them."""

    top_hip: np.ndarray
    bottom_knee: np.ndarray
    bottom_ankle: np.ndarray
    top_knee: np.ndarray
    top_ankle: np.ndarray
    bottom_shoulder: np.ndarray
    top_shoulder: np.ndarray
    roll0: float
    trunk_roll0: float

    @property
    def thigh(self) -> float:
        return float(np.linalg.norm(self.top_knee - self.top_hip))

    @property
    def shin(self) -> float:
        return float(np.linalg.norm(self.top_ankle - self.top_knee))

    def points(self) -> np.ndarray:
        """(8, 3) joints at rest, in ``JOINTS`` order."""
        return np.stack([np.zeros(3), self.top_hip, self.bottom_knee, self.top_knee,
                         self.bottom_ankle, self.top_ankle, self.bottom_shoulder, self.top_shoulder])


def rot_x(angles: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotations about x; positive turns +z toward -y (a forward roll)."""
    c, s = np.cos(angles), np.sin(angles)
    n = len(angles)
    R = np.zeros((n, 3, 3))
    R[:, 0, 0] = 1.0
    R[:, 1, 1] = c
    R[:, 1, 2] = -s
    R[:, 2, 1] = s
    R[:, 2, 2] = c
    return R


class BodyModel:
    """Joints of the rest body moved by poses: ``joints(poses) -> (n, 8, 3)``.

    The top knee is found by two-bone geometry from the (rolled) top hip to the (lifted) top
    ankle with the setup's thigh and shin lengths; ``opening`` is its angle on that circle from
    the point nearest the rest knee, so a roll-back does not add to the opening.
    """

    def __init__(self, rest: RestBody) -> None:
        self.rest = rest
        self.l1 = rest.thigh
        self.l2 = rest.shin
        self._p0 = rest.points()
        # Which way round the knee's circle is "up" (away from the table), decided once.
        a = _unit(rest.top_ankle - rest.top_hip)
        e1 = _unit(_reject(rest.top_knee - rest.top_hip, a))
        self._sign = 1.0 if float(np.cross(a, e1)[2]) >= 0 else -1.0
        # Abduction turns the top leg about the horizontal line through the top hip that is
        # square to the leg, the way that lifts the ankle.
        axis = np.cross(np.array([0.0, 0.0, 1.0]), rest.top_ankle - rest.top_hip)
        axis = _unit(axis)
        lifted = _rodrigues(axis, 0.1) @ (rest.top_ankle - rest.top_hip)
        self._abd_axis = axis if lifted[2] > (rest.top_ankle - rest.top_hip)[2] else -axis
        self._ankle_rel = rest.top_ankle - rest.top_hip
        self._knee_rel = rest.top_knee - rest.top_hip

    def joints(self, poses: np.ndarray) -> np.ndarray:
        poses = np.atleast_2d(np.asarray(poses, float))
        n = len(poses)
        rest = self.rest
        out = np.empty((n, N_JOINTS, 3))
        R = rot_x(poses[:, 0])
        Rs = rot_x(poses[:, 0] + poses[:, 1])
        out[:, J["bottom_hip"]] = 0.0
        out[:, J["top_hip"]] = R @ rest.top_hip
        out[:, J["bottom_knee"]] = rest.bottom_knee
        out[:, J["bottom_ankle"]] = rest.bottom_ankle
        out[:, J["bottom_shoulder"]] = Rs @ rest.bottom_shoulder
        out[:, J["top_shoulder"]] = Rs @ rest.top_shoulder
        # The leg turns up about the rest top hip (abduction), then the hip rolls with the pelvis
        # while the ankle stays put (the feet are the hinge).
        Ra = _rodrigues_many(self._abd_axis, poses[:, 3])
        ankle = rest.top_hip + Ra @ self._ankle_rel
        ref = rest.top_hip + Ra @ self._knee_rel
        out[:, J["top_ankle"]] = ankle
        out[:, J["top_knee"]] = self._knee(out[:, J["top_hip"]], ankle, poses[:, 2], ref)
        return out

    def knee_opening(self, poses: np.ndarray) -> np.ndarray:
        """The knee's opening as a therapist sees it (radians, per pose): its angle on its
        circle about the top hip-ankle line from the point nearest the rest knee (knees
        together). With the feet together this is the ``opening`` degree of freedom; with the
        feet apart it also counts the knee's rise that the leg's abduction carries, which the fit
        cannot tell apart from an opening (both raise the knee)."""
        X = self.joints(poses)
        hip, knee, ankle = X[:, J["top_hip"]], X[:, J["top_knee"]], X[:, J["top_ankle"]]
        a = ankle - hip
        a /= np.linalg.norm(a, axis=1)[:, None]
        ref = self.rest.top_knee - hip
        e1 = ref - a * np.sum(ref * a, axis=1)[:, None]
        e1 /= np.linalg.norm(e1, axis=1)[:, None]
        e2 = self._sign * cross(a, e1)
        k = knee - hip
        return np.arctan2(np.sum(k * e2, axis=1), np.sum(k * e1, axis=1))

    def _knee(self, hip: np.ndarray, ankle: np.ndarray, opening: np.ndarray, ref_knee: np.ndarray) -> np.ndarray:
        d_vec = ankle - hip
        d = np.linalg.norm(d_vec, axis=1)
        d = np.clip(d, abs(self.l1 - self.l2) + 1e-4, self.l1 + self.l2 - 1e-4)
        a = d_vec / d[:, None]
        along = (self.l1 ** 2 - self.l2 ** 2 + d ** 2) / (2 * d)
        r = np.sqrt(np.maximum(self.l1 ** 2 - along ** 2, 1e-12))
        centre = hip + a * along[:, None]
        ref = ref_knee - centre
        e1 = ref - a * np.sum(ref * a, axis=1)[:, None]
        e1 /= np.linalg.norm(e1, axis=1)[:, None]
        e2 = self._sign * cross(a, e1)
        return centre + r[:, None] * (np.cos(opening)[:, None] * e1 + np.sin(opening)[:, None] * e2)


# -- measures read off the model -------------------------------------------------------------

def hip_flexion_deg(hip: np.ndarray, knee: np.ndarray, lateral: np.ndarray, roll: float) -> float:
    """The thigh's angle from the pelvis' downward long axis, in the pelvis' sagittal plane
    (orthogonal to the hip line ``lateral``), positive forward (as the ground truth defines it)."""
    down = np.array([-1.0, 0.0, 0.0])
    front = rot_x(np.array([roll]))[0] @ np.array([0.0, -1.0, 0.0])
    v = _reject(knee - hip, _unit(lateral))
    return math.degrees(math.atan2(float(v @ front), float(v @ down)))


def knee_flexion_deg(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> float:
    """180 minus the inside angle hip-knee-ankle."""
    u, v = hip - knee, ankle - knee
    c = float(u @ v) / (float(np.linalg.norm(u) * np.linalg.norm(v)) + 1e-12)
    return 180.0 - math.degrees(math.acos(max(-1.0, min(1.0, c))))


def _rodrigues(axis: np.ndarray, angle: float) -> np.ndarray:
    return _rodrigues_many(axis, np.array([angle]))[0]


def _rodrigues_many(axis: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotations about one unit ``axis`` by each angle."""
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    s, c = np.sin(angles)[:, None, None], np.cos(angles)[:, None, None]
    return np.eye(3) + s * K + (1 - c) * (K @ K)


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.cross`` of (..., 3) vectors without its axis handling, which cost more than the
    product in the per-frame fit."""
    return np.stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                     a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                     a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], axis=-1)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) + 1e-12)


def _reject(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    return v - axis * float(v @ axis)
