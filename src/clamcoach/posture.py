"""Posture from the pose model's 3-D world landmarks: lying on the side, hand on the hip.

Coarse checks that need no body model: is the long axis horizontal (not sitting or standing),
and is the top wrist near the top hip. "Upright" is the long axis along the picture's
vertical with the trunk across the line of sight (a video stored a quarter turn off shows the
lying body so, head up or down: ``sideways`` turns it). A body lying along the line of sight,
seen from the feet end by a raised camera, also shows its head above its hips, but further
away: on the tuning clips from the feet end BlazePose's world trunk recedes by 0.59-0.78 of its
length (it compresses depth), someone upright in front of a camera by about 0; the threshold
is a 25-degree lean out of the picture's plane (sin 25 = 0.42), either way. Before this, two
evaluation sets from the feet end with the camera 34 and 50 degrees up were called upright
and measured nothing until 9 and 20 s in.

World landmarks are too poor on lying people to measure
angles with (see ../shared/knowledge/pose-backends.md): their hip line read 50-80 deg off the
table's normal from a low front camera on the tuning clips, so whether the person is on the
side rather than the back is left to the body model's fit (``measure.stage``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from clamcoach.types import LM, BodyFrame


@dataclass(frozen=True)
class PostureParams:
    upright_max: float = 0.85        # |long axis . image vertical| above this: sitting or standing ...
    receding_min: float = 0.42       # ... unless the head is this much further or nearer (lying, seen end-on)
    hand_on_hip_max: float = 0.45    # top wrist to top hip, over trunk length


@dataclass(frozen=True)
class Posture:
    upright: float          # 1: long axis along the image's vertical (head up or down)
    receding: float         # 1: long axis along the line of sight, head away from the camera; -1 toward
    hip_line_roll_deg: float
    hand_distance: float    # top wrist to top hip over trunk length
    side_lying: bool
    hand_on_hip: bool | None


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else v * math.nan


def posture(body: BodyFrame, p: PostureParams = PostureParams()) -> Posture:
    w = body.world
    top, bot = body.top.value, body.top.other.value
    hip_t, hip_b = w[LM[f"{top}_hip"]], w[LM[f"{bot}_hip"]]
    sh_c = (w[LM["left_shoulder"]] + w[LM["right_shoulder"]]) / 2
    hip_c = (hip_t + hip_b) / 2
    a = _unit(sh_c - hip_c)
    thigh_b = w[LM[f"{bot}_knee"]] - hip_b
    n = _unit(np.cross(a, thigh_b))
    if float(n @ (hip_t - hip_b)) < 0:
        n = -n
    line = hip_t - hip_b
    line_p = line - a * float(line @ a)
    f = _unit(np.cross(n, a))
    roll = math.degrees(math.atan2(float(line_p @ f), float(line_p @ n)))
    trunk = float(np.linalg.norm(sh_c - hip_c))
    hand = float(np.linalg.norm(w[LM[f"{top}_wrist"]] - hip_t)) / (trunk + 1e-9)
    upright, receding = abs(float(a[1])), float(a[2])  # the pose model's z points away
    lying = bool(upright < p.upright_max or abs(receding) >= p.receding_min)
    seen = math.isfinite(hand) and float(body.image[LM[f"{top}_wrist"], 2]) >= 0.3
    return Posture(upright=upright, receding=receding, hip_line_roll_deg=roll, hand_distance=hand, side_lying=lying,
                   hand_on_hip=bool(hand <= p.hand_on_hip_max) if seen else None)
