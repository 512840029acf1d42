"""Frame messages from the page: parse the binary envelope, decode the JPEG, in memory only.

A frame arrives as one binary WebSocket message::

    uint32 big-endian N | N bytes of UTF-8 JSON header | JPEG bytes

with the header ``{"type": "frame", "id": int, "t": capture time in ms, "epoch": int}``.
``epoch`` changes when the page switches source (camera, another video file), so the server
knows the capture clock restarted. Nothing here writes a frame anywhere.
"""

from __future__ import annotations

import io
import json
import math
import struct
import warnings
from dataclasses import dataclass

import numpy as np

from clamcoach.errors import ClamcoachError

MAX_HEADER = 4096
#: Capture times beyond this (about 30 years, in ms) are not a clock: refused.
MAX_TIME_MS = 1e12
#: Frames larger than this on their longer side are scaled down before the pose model:
#: the page sends 640x480, so this only guards against a misbehaving client.
MAX_SIDE = 1280
#: ... and anything claiming more than this is refused undecoded.
MAX_DECODE_SIDE = 4096


class FrameError(ClamcoachError, ValueError):
    """A frame message that cannot be used; the text is sent back to the page."""


@dataclass(frozen=True)
class Frame:
    id: int
    t_ms: float
    epoch: int
    jpeg: bytes
    received: float  # server monotonic time, s


def parse_frame(data: bytes, received: float) -> Frame:
    if len(data) < 4:
        raise FrameError("frame message too short")
    (n,) = struct.unpack(">I", data[:4])
    if n == 0 or n > MAX_HEADER or 4 + n > len(data):
        raise FrameError("frame header length is invalid")
    try:
        header = json.loads(data[4:4 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameError(f"frame header is not JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("type") != "frame":
        raise FrameError("frame header must be an object with type 'frame'")
    fid, t_ms, epoch = header.get("id"), header.get("t"), header.get("epoch", 0)
    if not isinstance(fid, int) or isinstance(fid, bool) or fid < 0:
        raise FrameError("frame id must be a non-negative integer")
    if not isinstance(t_ms, (int, float)) or isinstance(t_ms, bool) or not _finite(t_ms):
        raise FrameError("frame time 't' must be a finite number of milliseconds")
    if not isinstance(epoch, int) or isinstance(epoch, bool):
        raise FrameError("frame epoch must be an integer")
    jpeg = data[4 + n:]
    if not jpeg:
        raise FrameError("frame has no image")
    return Frame(id=fid, t_ms=float(t_ms), epoch=epoch, jpeg=bytes(jpeg), received=received)


def _finite(x: int | float) -> bool:
    try:
        return math.isfinite(x) and abs(x) <= MAX_TIME_MS
    except OverflowError:  # a JSON integer too large for a float
        return False


def _check_size(data: bytes) -> None:
    """Refuse an image whose header claims more than MAX_DECODE_SIDE, before decoding it: a
    few kilobytes of JPEG can claim gigabytes of pixels (Pillow reads only the header)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
                kind = img.format
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise FrameError(f"the image is too large: frames are at most {MAX_DECODE_SIDE} on a side") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise FrameError("the image could not be decoded") from None
    if kind not in ("JPEG", "PNG"):
        raise FrameError(f"frames must be JPEG or PNG, not {kind}")
    if max(w, h) > MAX_DECODE_SIDE:
        raise FrameError(f"the image is {w}x{h}: frames are at most {MAX_DECODE_SIDE} on a side")


def decode_jpeg(jpeg: bytes) -> np.ndarray:
    """RGB uint8 (H, W, 3) from JPEG (or PNG) bytes, scaled down to ``MAX_SIDE`` at most."""
    import cv2

    _check_size(jpeg)
    buf = np.frombuffer(jpeg, dtype=np.uint8)
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None or bgr.ndim != 3 or bgr.shape[0] < 16 or bgr.shape[1] < 16:
        raise FrameError("the image could not be decoded")
    h, w = bgr.shape[:2]
    if max(h, w) > MAX_SIDE:
        s = MAX_SIDE / max(h, w)
        bgr = cv2.resize(bgr, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def pack_frame(fid: int, t_ms: float, jpeg: bytes, epoch: int = 0) -> bytes:
    """The page's envelope, for Python clients (tests, the latency benchmark)."""
    header = json.dumps({"type": "frame", "id": fid, "t": t_ms, "epoch": epoch}).encode()
    return struct.pack(">I", len(header)) + header + jpeg
