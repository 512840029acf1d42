"""Body stage: one tracked person, top/bottom side by geometry, low-lag smoothing.

The pose model's left/right labels are unreliable on a side-lying person (they swap from
frame to frame). So every left/right pair is re-assigned by geometry: the point farther from
the table is the top one. "Away from the table" in the camera-aligned world frame (x right,
y down, z away from the camera) is some mix of image-up (-y) and toward-the-camera (-z) for
every camera that looks at a person from in front, above or the feet end, so the score
``-(y + z)`` ranks the two points of a pair correctly from all of them. Pairs too close to
call keep the assignment nearest the previous frame (continuity).

Which anatomical side is on top is decided by the body's own frame (thighs point forward),
accumulated over frames, so it settles once and does not flicker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clamcoach.filters import OneEuroFilter
from clamcoach.types import LM, LR_PAIRS, BodyFrame, PoseFrame, Side, lr_pair

#: Landmarks that must be seen for a frame to be usable at all.
CORE = (LM["left_shoulder"], LM["right_shoulder"], LM["left_hip"], LM["right_hip"],
        LM["left_knee"], LM["right_knee"], LM["left_ankle"], LM["right_ankle"])
_LEFT = np.array([a for a, _ in LR_PAIRS])
_RIGHT = np.array([b for _, b in LR_PAIRS])
#: Pairs decided together: a hip is decided with the other hip, and so on; the whole leg below
#: a decided knee follows the ankle's own decision (the legs can cross at the feet).
_PAIR_GROUPS = {
    "shoulder": ("shoulder", "elbow", "wrist", "pinky", "index", "thumb"),
    "hip": ("hip",),
    "knee": ("knee",),
    "ankle": ("ankle", "heel", "foot_index"),
    "face": ("eye_inner", "eye", "eye_outer", "ear", "mouth"),
}


@dataclass(frozen=True)
class BodyParams:
    min_visibility: float = 0.35     # mean visibility of CORE landmarks for a usable frame
    min_presence: float = 0.3
    tie_margin_m: float = 0.03       # a pair closer than this in "height" is decided by continuity
    image_min_cutoff_hz: float = 1.5
    image_beta: float = 0.02         # per px/s
    world_min_cutoff_hz: float = 1.5
    world_beta: float = 4.0          # per m/s
    side_votes_to_settle: float = 8.0


def in_frame(pose: PoseFrame, margin: float = 0.0) -> bool:
    """Are the core landmarks inside the image (the whole body in view)?"""
    xy = pose.image[list(CORE), :2]
    inside = (
        (xy[:, 0] >= -margin * pose.width) & (xy[:, 0] <= (1 + margin) * pose.width)
        & (xy[:, 1] >= -margin * pose.height) & (xy[:, 1] <= (1 + margin) * pose.height)
    )
    return bool(np.all(inside))


def select_person(poses: list[PoseFrame], previous_hip_px: np.ndarray | None) -> PoseFrame | None:
    """The exerciser among several people: the one nearest the tracked hips, else the one
    lying down (long axis most horizontal in the image) with the largest image size."""
    if not poses:
        return None
    if previous_hip_px is not None:
        d = [np.linalg.norm(_hip_px(p) - previous_hip_px) for p in poses]
        return poses[int(np.argmin(d))]

    def lying_score(p: PoseFrame) -> float:
        hip, sh = _hip_px(p), (p.image[LM["left_shoulder"], :2] + p.image[LM["right_shoulder"], :2]) / 2
        axis = sh - hip
        length = float(np.linalg.norm(axis)) + 1e-6
        horizontal = abs(axis[0]) / length
        return horizontal * length * p.presence

    return max(poses, key=lying_score)


def _hip_px(p: PoseFrame) -> np.ndarray:
    return (p.image[LM["left_hip"], :2] + p.image[LM["right_hip"], :2]) / 2


def _group_indices() -> dict[str, list[tuple[int, int]]]:
    groups: dict[str, list[tuple[int, int]]] = {}
    for key, names in _PAIR_GROUPS.items():
        groups[key] = [lr_pair(n) for n in names]
    return groups


_GROUPS = _group_indices()


class BodyTracker:
    """Online: ``push(pose) -> BodyFrame | None`` (None = a gap, kept as a gap)."""

    def __init__(self, params: BodyParams = BodyParams()) -> None:
        self.p = params
        self._img_filter = OneEuroFilter(min_cutoff_hz=params.image_min_cutoff_hz, beta=params.image_beta)
        self._world_filter = OneEuroFilter(min_cutoff_hz=params.world_min_cutoff_hz, beta=params.world_beta)
        self._prev_top: dict[str, np.ndarray] = {}   # group -> previous top points (image px)
        self._side_votes = 0.0                       # > 0: right on top, < 0: left on top
        self.last_hip_px: np.ndarray | None = None

    @property
    def top_side(self) -> Side | None:
        if abs(self._side_votes) < 1e-9:
            return None
        return Side.RIGHT if self._side_votes > 0 else Side.LEFT

    def usable(self, pose: PoseFrame | None) -> bool:
        if pose is None or pose.presence < self.p.min_presence:
            return False
        vis = pose.image[list(CORE), 2]
        return bool(np.nanmean(vis) >= self.p.min_visibility and np.all(np.isfinite(pose.world[list(CORE)])))

    def push(self, pose: PoseFrame | None) -> BodyFrame | None:
        if not self.usable(pose):
            return None
        assert pose is not None
        top_img, top_world, bot_img, bot_world = self._split_top_bottom(pose)
        if abs(self._side_votes) < self.p.side_votes_to_settle:
            self._vote_side(top_world, bot_world)
        side = self.top_side or Side.RIGHT
        image = pose.image.copy()
        world = pose.world.copy()
        top_idx, bot_idx = (_RIGHT, _LEFT) if side is Side.RIGHT else (_LEFT, _RIGHT)
        image[top_idx], image[bot_idx] = top_img, bot_img
        world[top_idx], world[bot_idx] = top_world, bot_world
        image[:, :2] = self._img_filter(image[:, :2], pose.t)
        world = self._world_filter(world, pose.t)
        self.last_hip_px = _hip_px_arr(image)
        vis = float(np.nanmean(pose.image[list(CORE), 2]))
        return BodyFrame(t=pose.t, image=image, world=world, width=pose.width,
                         height=pose.height, top=side, quality=min(1.0, vis * pose.presence))

    # -- top/bottom by geometry -------------------------------------------------------------
    def _split_top_bottom(self, pose: PoseFrame):
        n = len(LR_PAIRS)
        top_img = np.empty((n, 3))
        bot_img = np.empty((n, 3))
        top_world = np.empty((n, 3))
        bot_world = np.empty((n, 3))
        pair_pos = {pair: k for k, pair in enumerate(LR_PAIRS)}
        for group, pairs in _GROUPS.items():
            l_ref, r_ref = pairs[0]
            height_l = -(pose.world[l_ref, 1] + pose.world[l_ref, 2])
            height_r = -(pose.world[r_ref, 1] + pose.world[r_ref, 2])
            left_on_top = height_l > height_r
            prev = self._prev_top.get(group)
            if abs(height_l - height_r) < self.p.tie_margin_m and prev is not None:
                d_l = np.linalg.norm(pose.image[l_ref, :2] - prev)
                d_r = np.linalg.norm(pose.image[r_ref, :2] - prev)
                left_on_top = d_l < d_r
            for li, ri in pairs:
                k = pair_pos[(li, ri)]
                ti, bi = (li, ri) if left_on_top else (ri, li)
                top_img[k], bot_img[k] = pose.image[ti], pose.image[bi]
                top_world[k], bot_world[k] = pose.world[ti], pose.world[bi]
            self._prev_top[group] = top_img[pair_pos[(l_ref, r_ref)], :2].copy()
        return top_img, top_world, bot_img, bot_world

    def _vote_side(self, top_world: np.ndarray, bot_world: np.ndarray) -> None:
        """Anatomical side on top: with the long axis A (hips to shoulders) and forward F
        (where the thighs point), the person's right is F x A; the top hip's side follows."""
        k = {pair: i for i, pair in enumerate(LR_PAIRS)}
        hip, sh, knee = (k[lr_pair(n)] for n in ("hip", "shoulder", "knee"))
        hips = (top_world[hip] + bot_world[hip]) / 2
        axis = (top_world[sh] + bot_world[sh]) / 2 - hips
        up = top_world[hip] - bot_world[hip]
        thigh = (top_world[knee] - top_world[hip] + bot_world[knee] - bot_world[hip]) / 2
        a = axis / (np.linalg.norm(axis) + 1e-9)
        fwd = thigh - a * (thigh @ a)
        fwd /= np.linalg.norm(fwd) + 1e-9
        right = np.cross(fwd, a)
        self._side_votes += float(np.clip(up @ right / (np.linalg.norm(up) + 1e-9), -1, 1))


def _hip_px_arr(image: np.ndarray) -> np.ndarray:
    return (image[LM["left_hip"], :2] + image[LM["right_hip"], :2]) / 2
