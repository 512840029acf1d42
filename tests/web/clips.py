"""Clips for Chromium's fake camera: y4m (raw I420) files written at test time into tmp.

A 640x480 y4m holds 460 kB a frame, so a 27 s clip is ~190 MB: never committed, made on the
fly from the rendered demo (or from stand-in colour frames).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np


def write_y4m(frames: Iterable[np.ndarray], path: Path, fps: int = 15) -> int:
    """Write RGB frames (all the same even size) as a y4m file; returns the frame count."""
    n = 0
    with open(path, "wb") as f:
        for rgb in frames:
            h, w = rgb.shape[:2]
            if n == 0:
                f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420).tobytes())
            n += 1
    return n


def video_frames(path: Path, size: tuple[int, int] = (640, 480)) -> Iterable[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")
            if (rgb.shape[1], rgb.shape[0]) != size:
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            yield rgb


def video_fps(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.streams.video[0].average_rate)
