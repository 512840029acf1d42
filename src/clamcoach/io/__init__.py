"""Input and output at the edges: video frames in, files written atomically out."""

from __future__ import annotations

from clamcoach.io.atomic import atomic_path, check_writable, write_bytes_atomic, write_text_atomic
from clamcoach.io.video import VideoFrame, VideoInfo, VideoReader, open_video

__all__ = [
    "VideoFrame",
    "VideoInfo",
    "VideoReader",
    "atomic_path",
    "check_writable",
    "open_video",
    "write_bytes_atomic",
    "write_text_atomic",
]
