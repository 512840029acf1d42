"""H.264 (libx264, yuv420p) mp4 writing with PyAV."""

from __future__ import annotations

from fractions import Fraction

import numpy as np


class Mp4Writer:
    def __init__(self, path: str, width: int, height: int, fps: float, crf: int = 23, preset: str = "medium"):
        import av

        if width % 2 or height % 2:
            raise ValueError(f"width and height must be even for yuv420p, got {width}x{height}")
        self.path = str(path)
        self.container = av.open(self.path, mode="w")
        rate = Fraction(fps).limit_denominator(1001)
        self.stream = self.container.add_stream("libx264", rate=rate)
        self.stream.width, self.stream.height = width, height
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"crf": str(crf), "preset": preset}
        self._av = av
        self.frames = 0

    def write(self, rgb: np.ndarray) -> None:
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb, dtype=np.uint8), format="rgb24")
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_frames(path: str, max_frames: int | None = None) -> list[np.ndarray]:
    """Decode an mp4 into RGB arrays (used by tests and the lesson builder)."""
    import av

    out = []
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            out.append(f.to_ndarray(format="rgb24"))
            if max_frames is not None and i + 1 >= max_frames:
                break
    return out
