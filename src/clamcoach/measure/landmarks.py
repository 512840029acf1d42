"""Which pose landmarks the body model is fitted to, read from a ``BodyFrame`` by top/bottom.

The eight joints of the model come first, in ``model.JOINTS`` order; heels and toes follow,
each tied to its ankle (they move with it, offset by a constant measured at setup), so they
add evidence on where the ankles are.
"""

from __future__ import annotations

import numpy as np

from clamcoach.measure.model import JOINTS, J
from clamcoach.types import LM, Side

#: Observed points: the model joints, then ankle-attached foot points.
POINTS: tuple[str, ...] = JOINTS + ("bottom_heel", "top_heel", "bottom_toe", "top_toe")
N_POINTS = len(POINTS)
#: The model joint each observed point is tied to.
ANCHOR: np.ndarray = np.array([J[n] for n in JOINTS] + [J["bottom_ankle"], J["top_ankle"]] * 2)
#: Points with a constant offset from their anchor's projection (the foot points).
ATTACHED: np.ndarray = np.arange(len(JOINTS), N_POINTS)

#: Landmark groups sharing one noise level.
GROUP_OF: tuple[str, ...] = ("hip", "hip", "knee", "knee", "ankle", "ankle", "shoulder", "shoulder",
                             "foot", "foot", "foot", "foot")
GROUPS: tuple[str, ...] = ("hip", "knee", "ankle", "shoulder", "foot")

_BLAZE_NAME = {"hip": "hip", "knee": "knee", "ankle": "ankle", "shoulder": "shoulder",
               "heel": "heel", "toe": "foot_index"}


def landmark_indices(top: Side) -> np.ndarray:
    """BlazePose indices of ``POINTS`` for a body whose ``top`` side is given."""
    out = []
    for name in POINTS:
        level, part = name.split("_", 1)
        side = top if level == "top" else top.other
        out.append(LM[f"{side.value}_{_BLAZE_NAME[part]}"])
    return np.array(out)


def observe(image: np.ndarray, top: Side) -> tuple[np.ndarray, np.ndarray]:
    """(points (12, 2) px, visibility (12,)) of a body frame's image landmarks."""
    idx = landmark_indices(top)
    pts = image[idx]
    return pts[:, :2].astype(float), np.nan_to_num(pts[:, 2].astype(float), nan=0.0)
