"""A stand-in pose estimator for the web tests: the frame's colour says what pose to report.

The real engine runs behind it (``LiveAnalyzer`` -> ``Engine``), so the tests exercise the
transport and the session logic with exact, known movements and no pose model:

    green = opening * 3, red = roll-back * 8, blue = 255 means "nobody in view".

``colour_for`` makes such frames; ``StandInEstimator`` reads them back (within a degree,
through JPEG and the browser's YUV conversions).
"""

from __future__ import annotations

import time
from typing import Iterator

import cv2
import numpy as np

from skeleton import Camera, Pose, clam_set, pose_frame

G_PER_DEG = 3.0
R_PER_DEG = 8.0
BASE_ROLL = 10.0


def colour_for(pose: Pose | None) -> tuple[int, int, int]:
    """(R, G, B) encoding ``pose`` (None: nobody in view)."""
    if pose is None:
        return (0, 0, 255)
    back = max(0.0, BASE_ROLL - pose.roll)
    return (int(round(back * R_PER_DEG)), int(round(pose.opening * G_PER_DEG)), 0)


def frame_rgb(pose: Pose | None, w: int = 160, h: int = 120) -> np.ndarray:
    img = np.empty((h, w, 3), np.uint8)
    img[:] = colour_for(pose)
    return img


def jpeg(pose: Pose | None, w: int = 160, h: int = 120) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(frame_rgb(pose, w, h), cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def script(n_reps: int = 3, fps: float = 15.0, **kw) -> Iterator[tuple[float, Pose]]:
    """(t, Pose) of a set, as ``skeleton.clam_set`` (quick defaults for tests)."""
    kw.setdefault("up", 1.2)   # clear of the 1 s "too fast" limit
    kw.setdefault("hold", 1.5)
    kw.setdefault("down", 1.2)
    kw.setdefault("rest", 0.8)
    kw.setdefault("lead_in", 1.5)
    return clam_set(n_reps, fps=fps, **kw)


class StandInEstimator:
    name = "stand-in"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls = 0
        self.closed = False

    def estimate(self, rgb: np.ndarray, t: float):
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        h, w = rgb.shape[:2]
        r, g, b = (float(v) for v in rgb[h // 4: 3 * h // 4, w // 4: 3 * w // 4].reshape(-1, 3).mean(axis=0))
        if b > 128:
            return None
        pose = Pose(opening=g / G_PER_DEG, roll=BASE_ROLL - r / R_PER_DEG)
        return pose_frame(pose, Camera(pitch=35), t=t)

    def close(self) -> None:
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
