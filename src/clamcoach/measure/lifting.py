"""The second design, for comparison with the body fit: a small network that lifts one frame's
2-D landmarks, read beside the still setup's, straight to the knee opening, the pelvis roll's
change since the setup and the setup's forward roll, each with an SD.

It is trained (``benchmarks/train_lifting.py``) on unlimited synthetic keypoints: the set
generator's bodies and cameras posed at random and projected, with BlazePose's offsets from the
joints and its frame-to-frame noise as measured on the tuning clips added afresh in every
batch. ``make bench-accuracy`` reads it beside the body fit, frame by frame, on every set.

Both inputs are first put in a frame of the setup's own: centred on the setup's landmarks,
scaled by their spread, turned so the shoulders-to-ankles line is the x axis and mirrored so the
knees lie on the positive side. A similarity of the image (where the body sits, how large, a
tilted phone) or a mirror image changes nothing the network sees; the camera's elevation and
yaw are left in the shape, where the network reads them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clamcoach.measure.landmarks import POINTS

WEIGHTS = Path(__file__).with_name("lifting_net.npz")

_IDX = {name: i for i, name in enumerate(POINTS)}
_SHOULDERS = [_IDX["bottom_shoulder"], _IDX["top_shoulder"]]
_ANKLES = [_IDX["bottom_ankle"], _IDX["top_ankle"]]
_KNEES = [_IDX["bottom_knee"], _IDX["top_knee"]]
_HIPS = [_IDX["bottom_hip"], _IDX["top_hip"]]
N_FEATURES = 3 * 2 * len(POINTS)


def canonical(reference: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``reference`` (..., 12, 2) and ``frames`` (..., n, 12, 2) px in the reference's own frame
    (see the module's note); leading dimensions of the two broadcast (one reference per row)."""
    ref = np.asarray(reference, float)
    fr = np.asarray(frames, float)
    centre = ref.mean(axis=-2, keepdims=True)
    spread = np.sqrt(((ref - centre) ** 2).sum(-1).mean(-1))[..., None, None]
    axis = ref[..., _ANKLES, :].mean(-2) - ref[..., _SHOULDERS, :].mean(-2)
    axis = axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-9)
    across = np.stack([-axis[..., 1], axis[..., 0]], axis=-1)

    def turn(p: np.ndarray, c, s, ax, ac) -> np.ndarray:
        q = (p - c) / s
        return np.stack([(q * ax[..., None, :]).sum(-1), (q * ac[..., None, :]).sum(-1)], axis=-1)

    ref_c = turn(ref, centre, spread, axis, across)
    knee_side = ref_c[..., _KNEES, 1].mean(-1) - 0.5 * (ref_c[..., _HIPS, 1].mean(-1) + ref_c[..., _ANKLES, 1].mean(-1))
    flip = np.where(knee_side < 0, -1.0, 1.0)[..., None]
    ref_c[..., 1] *= flip
    extra = fr.ndim - ref.ndim  # frames carry one more axis (n) than the reference
    e = (slice(None),) * (ref.ndim - 2) + (None,) * extra
    fr_c = turn(fr, centre[e], spread[e], axis[e], across[e])
    fr_c[..., 1] *= flip[e]
    return ref_c, fr_c


def features(reference: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """(..., n, 72): the setup, the frame and their difference, in the setup's frame."""
    ref_c, fr_c = canonical(reference, frames)
    ref_b = np.broadcast_to(ref_c[..., None, :, :] if fr_c.ndim > ref_c.ndim else ref_c, fr_c.shape)
    flat = lambda a: a.reshape(*a.shape[:-2], -1)  # noqa: E731
    return np.concatenate([flat(ref_b), flat(fr_c), flat(fr_c - ref_b)], axis=-1)


def setup_reference(points: np.ndarray) -> np.ndarray:
    """The still setup's landmarks (12, 2) from its frames (k, 12, 2): the per-point median."""
    return np.nanmedian(np.asarray(points, float), axis=0)


@dataclass(frozen=True)
class Lifted:
    """What the network reads, per frame (deg)."""

    opening_deg: np.ndarray
    opening_sd_deg: np.ndarray
    roll_change_deg: np.ndarray  # pelvis roll minus the setup's, forward positive
    roll_change_sd_deg: np.ndarray
    forward_roll_deg: np.ndarray  # the setup's, read with each frame
    forward_roll_sd_deg: np.ndarray


#: What the network's outputs are in: degrees per unit, in the order of ``Lifted``'s measures.
TARGET_SCALE = np.array([30.0, 10.0, 10.0])


class LiftingNet:
    """A multi-layer perceptron (SiLU) evaluated in numpy: no torch at run time."""

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray]], mean: np.ndarray, std: np.ndarray,
                 sd_scale: np.ndarray | None = None):
        self.layers = layers
        self.mean, self.std = mean, std
        #: per measure, how much wider BlazePose's real errors are than the synthetic noise the
        #: network learnt its SDs from (fitted on tuning clips by train_lifting.calibrate)
        self.sd_scale = np.ones(3) if sd_scale is None else sd_scale

    @classmethod
    def load(cls, path: Path | None = None) -> "LiftingNet":
        with np.load(path or WEIGHTS) as d:
            n = sum(1 for k in d.files if k.startswith("W"))
            layers = [(d[f"W{i}"].astype(np.float64), d[f"b{i}"].astype(np.float64)) for i in range(n)]
            scale = d["sd_scale"].astype(np.float64) if "sd_scale" in d.files else None
            return cls(layers, d["feature_mean"].astype(np.float64), d["feature_std"].astype(np.float64), scale)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Outputs (..., 6): three means then three log-SDs, in ``TARGET_SCALE`` units."""
        h = (x - self.mean) / self.std
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = h / (1.0 + np.exp(-h))
        return h

    def lift(self, reference: np.ndarray, frames: np.ndarray) -> Lifted:
        """Read frames (n, 12, 2) px against the setup's landmarks (12, 2) px."""
        out = self.raw(features(reference, frames))
        mu = out[..., :3] * TARGET_SCALE
        sd = np.exp(np.clip(out[..., 3:], -6.0, 4.0)) * TARGET_SCALE * self.sd_scale
        return Lifted(mu[..., 0], sd[..., 0], mu[..., 1], sd[..., 1], mu[..., 2], sd[..., 2])


@functools.cache
def shipped_network() -> LiftingNet:
    """The network shipped with clamcoach (loaded once per process)."""
    return LiftingNet.load()


@functools.cache
def weights_id() -> str:
    """The shipped weights' identity for provenance (sha1 of the file, 16 hex digits)."""
    import hashlib

    return hashlib.sha1(WEIGHTS.read_bytes()).hexdigest()[:16]
