"""Unlimited 2-D keypoints without rendering: the set generator's bodies and cameras, posed at
random and projected, for training the lifting network (``clamcoach.measure.lifting``).

Each drawn body lies down as in a set (its setup drawn from the same ranges as the tuning
sets), is seen by several cameras drawn from those ranges, and is posed in random frames: any
knee opening from closed to beyond the method's limit, roll-backs and small forward rolls, the
top ankle lifted or not, the trunk turned against the pelvis or not. What comes out are the true joint centres' projections in the order of
``clamcoach.measure.landmarks.POINTS``; the pose model's offsets and noise are added at training
time from what was measured on the tuning clips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clamcoach.measure.landmarks import POINTS

from .clamshell import FrameParams
from .ranges import SetRanges, draw_cameras, draw_set
from .render import SetRenderer, SetSpec

_PART_NAME = {"hip": "hip", "knee": "knee", "ankle": "ankle", "shoulder": "shoulder", "heel": "heel",
              "toe": "foot_index"}


@dataclass(frozen=True)
class KeypointSamples:
    """Frames of drawn bodies seen by drawn cameras; frame ``i`` belongs to ``reference[ref[i]]``."""

    reference: np.ndarray  # (m, 12, 2) px: the still setup (legs closed) of each body and camera
    frames: np.ndarray  # (n, 12, 2) px
    ref: np.ndarray  # (n,) int: the row of ``reference`` a frame goes with
    opening_deg: np.ndarray  # (n,)
    roll_change_deg: np.ndarray  # (n,) pelvis roll minus the setup's (forward positive)
    forward_roll_deg: np.ndarray  # (m,) the setup's pelvis roll
    elevation_deg: np.ndarray  # (m,)
    scale_px: np.ndarray  # (m,) image size: the longer side, px

    def save(self, path) -> None:
        np.savez_compressed(path, **self.__dict__)

    @staticmethod
    def load(path) -> "KeypointSamples":
        with np.load(path) as d:
            return KeypointSamples(**{k: d[k] for k in KeypointSamples.__dataclass_fields__})

    @staticmethod
    def concat(parts: list["KeypointSamples"]) -> "KeypointSamples":
        offsets = np.cumsum([0] + [len(p.reference) for p in parts[:-1]])
        return KeypointSamples(
            reference=np.concatenate([p.reference for p in parts]),
            frames=np.concatenate([p.frames for p in parts]),
            ref=np.concatenate([p.ref + o for p, o in zip(parts, offsets)]),
            opening_deg=np.concatenate([p.opening_deg for p in parts]),
            roll_change_deg=np.concatenate([p.roll_change_deg for p in parts]),
            forward_roll_deg=np.concatenate([p.forward_roll_deg for p in parts]),
            elevation_deg=np.concatenate([p.elevation_deg for p in parts]),
            scale_px=np.concatenate([p.scale_px for p in parts]))


def _point_names(lying_on: str) -> list[str]:
    top = "right" if lying_on == "left" else "left"
    names = []
    for name in POINTS:
        level, part = name.split("_", 1)
        side = top if level == "top" else lying_on
        names.append(f"{side}_{_PART_NAME[part]}")
    return names


def _frame_params(rng: np.random.Generator, forward_roll: float, shin_m: float, hand) -> FrameParams:
    opening = 0.0 if rng.random() < 0.3 else float(rng.uniform(0.0, 72.0))
    u = rng.random()
    roll_back = 0.0 if u < 0.5 else float(rng.uniform(-5.0, 0.0)) if u < 0.6 else float(rng.uniform(0.0, 25.0))
    lift = 0.0 if rng.random() < 0.8 else float(rng.uniform(0.0, 0.45)) * shin_m
    # the trunk turning on its own, so the pelvis roll is not read off the shoulders
    twist = 0.0 if rng.random() < 0.4 else float(rng.uniform(-18.0, 10.0))
    return FrameParams(roll=forward_roll - roll_back, opening=opening, ankle_lift=lift, hand=hand, trunk_twist=twist)


def sample_body(seed: int, ranges: SetRanges, n_frames: int = 150, n_cameras: int = 8) -> KeypointSamples:
    """One drawn body in its setup, ``n_frames`` random poses, seen by ``n_cameras`` cameras."""
    rng = np.random.default_rng([seed, 53])
    drawn = draw_set(ranges, seed)
    fields = {k: v for k, v in drawn.spec.items() if k not in ("cameras", "views")}
    cams = draw_cameras(rng, ranges, n_cameras)
    side = "left" if rng.random() < 0.5 else "right"
    forward_roll = float(rng.uniform(0.0, 22.0))
    spec = SetSpec(reps=1, seed=seed, side=side, cameras=cams, views=tuple(cams), forward_roll=forward_roll,
                   **fields)
    r = SetRenderer(spec)
    hand = spec.top_hand
    shin = float(r.poser.L2["R"])
    roll0 = r.setup.forward_roll
    _, posed0, v0, pts0 = r.pose_frame(0.0, FrameParams(roll=roll0, hand=hand))
    _, _, v_open, _ = r.pose_frame(0.0, FrameParams(roll=roll0, opening=60.0, hand=hand))
    cameras = r.cameras(spec.views, v0, v_open)
    names = _point_names(side)
    params = [_frame_params(rng, roll0, shin, hand) for _ in range(n_frames)]
    posed = [r.pose_frame(0.0, p) for p in params]
    P0 = np.array([pts0[n] for n in names])
    P = np.array([[pts[n] for n in names] for _, _, _, pts in posed])  # (n, 12, 3)
    roll_at_rest = posed0.gt["pelvis_roll_deg"]
    opening = np.array([ps.gt["opening_deg"] for _, ps, _, _ in posed])
    roll_change = np.array([ps.gt["pelvis_roll_deg"] - roll_at_rest for _, ps, _, _ in posed])
    refs, frames, ref_idx, elev, scale = [], [], [], [], []
    for k, (key, cam) in enumerate(cameras.items()):
        xy0, _ = cam.project(P0)
        xy, _ = cam.project(P.reshape(-1, 3))
        refs.append(xy0)
        frames.append(xy.reshape(n_frames, len(names), 2))
        ref_idx.append(np.full(n_frames, k))
        elev.append(cams[key].pitch)
        scale.append(max(cam.width, cam.height))
    return KeypointSamples(reference=np.array(refs), frames=np.concatenate(frames), ref=np.concatenate(ref_idx),
                           opening_deg=np.tile(opening, len(cameras)),
                           roll_change_deg=np.tile(roll_change, len(cameras)),
                           forward_roll_deg=np.full(len(cameras), roll_at_rest), elevation_deg=np.array(elev),
                           scale_px=np.array(scale, float))
