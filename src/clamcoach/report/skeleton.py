"""Draw the tracked body on a picture (OpenCV primitives on an RGB uint8 array).

Shared by the HTML report's setup still and the annotated video. The lifting (top) leg is
drawn in its own colour, since that is the leg the method is about.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from clamcoach.types import LM

MIN_VISIBILITY = 0.2

# RGB colours.
TOP = (255, 140, 0)
BOTTOM = (70, 160, 255)
TRUNK = (240, 240, 240)
ARM = (180, 220, 120)

_TRUNK = [("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
          ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip")]
_ARM = ["shoulder", "elbow", "wrist"]
_LEG = ["hip", "knee", "ankle", "heel", "foot_index"]


def _chain(side: str, parts: list[str]) -> list[tuple[str, str]]:
    return [(f"{side}_{a}", f"{side}_{b}") for a, b in zip(parts, parts[1:])]


def segments(top: str | None) -> list[tuple[str, str, tuple[int, int, int]]]:
    """(from, to, colour) for every bone drawn; ``top`` is "left", "right" or None."""
    out = [(a, b, TRUNK) for a, b in _TRUNK]
    for side in ("left", "right"):
        out += [(a, b, ARM) for a, b in _chain(side, _ARM)]
        colour = TOP if side == top else BOTTOM if top else TRUNK
        out += [(a, b, colour) for a, b in _chain(side, _LEG)]
    return out


def _point(lm: np.ndarray, name: str) -> tuple[int, int] | None:
    x, y, vis = lm[LM[name]]
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    if math.isfinite(vis) and vis < MIN_VISIBILITY:
        return None
    return int(round(x)), int(round(y))


def draw_skeleton(
    rgb: np.ndarray, landmarks: np.ndarray | None, top: str | None = None, thickness: int | None = None
) -> np.ndarray:
    """Draw onto ``rgb`` in place (and return it). Missing or unseen points are skipped."""
    if landmarks is None:
        return rgb
    lm = np.asarray(landmarks, dtype=float)
    if lm.shape != (33, 3):
        raise ValueError(f"landmarks must be 33x3, got {lm.shape}")
    h, w = rgb.shape[:2]
    t = thickness or max(2, round(min(h, w) / 180))
    for a, b, colour in segments(top):
        pa, pb = _point(lm, a), _point(lm, b)
        if pa and pb:
            cv2.line(rgb, pa, pb, (0, 0, 0), t + 2, cv2.LINE_AA)  # dark outline: visible on any floor
            cv2.line(rgb, pa, pb, colour, t, cv2.LINE_AA)
    for name in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        for side in ("left", "right"):
            p = _point(lm, f"{side}_{name}")
            if p:
                colour = TOP if side == top and name in ("hip", "knee", "ankle") else TRUNK
                cv2.circle(rgb, p, t + 2, (0, 0, 0), -1, cv2.LINE_AA)
                cv2.circle(rgb, p, t + 1, colour, -1, cv2.LINE_AA)
    nose = _point(lm, "nose")
    if nose:
        cv2.circle(rgb, nose, 2 * t + 2, TRUNK, t, cv2.LINE_AA)
    return rgb


def encode_png(rgb: np.ndarray, max_width: int = 960) -> bytes:
    """PNG bytes of ``rgb``, shrunk to at most ``max_width`` pixels wide."""
    h, w = rgb.shape[:2]
    if w > max_width:
        rgb = cv2.resize(rgb, (max_width, round(h * max_width / w)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("could not encode the image as PNG")
    return buf.tobytes()
