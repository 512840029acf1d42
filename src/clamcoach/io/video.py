"""Read a video file as a stream of upright RGB frames with their real timestamps.

One frame at a time (memory stays flat with video length). Rotation metadata (phone videos)
is applied so frames look as the phone showed them; very large frames are downscaled while
decoding. PyAV errors are mapped into :mod:`clamcoach.errors` here:

- missing file -> ``InputNotFound``; not a video -> ``NotAVideo``; no decodable frame ->
  ``EmptyVideo`` (all raised by :func:`open_video`, before any frame is yielded);
- a truncated or damaged file yields what decodes, then stops, recording
  ``reader.stopped_early_at_s`` and a one-line ``reader.decode_error``;
- a file that grows or changes while it is read (a recording still being copied) raises
  ``InputChanged`` once its frames run out;
- :func:`check_long_enough` raises ``TooShort`` for a clip too short to hold one rep.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Self

import av
import numpy as np

from clamcoach.errors import (EmptyVideo, InputChanged, InputError, InputNotFound, NotAVideo, TooShort,
                              UsageError)

# Demuxers that open still images or text as a one-frame "video"; none is a recording.
_NOT_VIDEO_FORMATS = frozenset({"image2", "tty", "apng"})
# A corrupt packet is skipped; this many in a row means the rest is unreadable.
_MAX_CONSECUTIVE_BAD_PACKETS = 8
# Ending this much before the duration the container declares means the file was cut.
_TRUNCATION_SLACK_S = 0.5
#: One rep (up, hold, down) takes about this long; a shorter clip cannot be judged.
MIN_DURATION_S = 3.0


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What the file says about itself; ``width``/``height`` are of the frames we yield
    (upright, after downscaling), ``source_width``/``source_height`` as stored."""

    path: Path
    fps: float
    frames: int  # an estimate: containers may not know, and VFR makes fps * duration approximate
    width: int
    height: int
    duration_s: float
    rotation: int  # degrees counter-clockwise applied to make frames upright (0, 90, 180, 270)
    source_width: int
    source_height: int
    codec: str


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One decoded frame: ``t`` in seconds from the first frame, ``rgb`` (H, W, 3) uint8."""

    t: float
    index: int
    rgb: np.ndarray


class VideoReader:
    """Iterate :class:`VideoFrame` s. Each iteration decodes the file from the start."""

    def __init__(self, path: Path, info: VideoInfo, *, max_side: int) -> None:
        self.path = path
        self.info = info
        self.max_side = max_side
        #: Where decoding stopped before the end of a damaged file (seconds), else None.
        self.stopped_early_at_s: float | None = None
        #: A one-line reason when the file is damaged (also set if packets were skipped).
        self.decode_error: str | None = None
        #: Corrupt packets skipped while decoding.
        self.skipped_packets = 0
        self._container: av.container.InputContainer | None = None
        # Size and time when opened: a file that changes after this is still being written.
        self._opened_state = _file_state(path)

    def __iter__(self) -> Iterator[VideoFrame]:
        self.close()
        self.stopped_early_at_s = None
        self.decode_error = None
        self.skipped_packets = 0
        before = self._opened_state
        container = _open_container(self.path)
        self._container = container
        try:
            yield from self._frames(container)
        finally:
            self.close()
        after = _file_state(self.path)
        if after != before:
            raise InputChanged(
                f"{self.path.name} changed while it was read ({before[0]} bytes, then "
                f"{after[0]}): it is probably still being copied or recorded; wait until it "
                "is complete and try again")

    def _frames(self, container: av.container.InputContainer) -> Iterator[VideoFrame]:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        out_w, out_h = _scaled_size(self.info.source_width, self.info.source_height, self.max_side)
        clock = _Clock(stream)
        status = _DecodeStatus()
        last_t: float | None = None
        for index, frame in enumerate(_decode_tolerantly(container, stream, status)):
            t = clock.seconds(frame)
            yield VideoFrame(t=t, index=index, rgb=_to_upright_rgb(frame, out_w, out_h))
            last_t = t
        self._record_damage(status, last_t)

    def _record_damage(self, status: _DecodeStatus, last_t: float | None) -> None:
        self.skipped_packets = status.skipped_packets
        end_s = last_t if last_t is not None else 0.0
        declared = self.info.duration_s
        frame_s = 1.0 / self.info.fps if self.info.fps > 0 else 0.0
        if status.stop_reason is not None:
            self.stopped_early_at_s = end_s
            self.decode_error = status.stop_reason
        elif math.isfinite(declared) and end_s + frame_s < declared - _TRUNCATION_SLACK_S:
            # Demuxers often meet a cut-off file as a clean end of stream; the declared
            # duration is what shows frames are missing.
            self.stopped_early_at_s = end_s
            self.decode_error = (
                f"decoding ended at {end_s:.2f} s but the file says it lasts {declared:.2f} s"
                " (truncated or damaged)"
            )
        elif status.skipped_packets:
            self.decode_error = f"{status.skipped_packets} corrupt packet(s) skipped: {status.skip_reason}"

    def frames_from(self, start_s: float) -> Iterator[VideoFrame]:
        """The frames with ``t >= start_s``, decoded from the keyframe before it (a seek), with
        the same ``t`` and pixels as iterating from the start; ``index`` is -1 (not known
        after a seek). Damage is handled as in iteration, without recording it."""
        container = _open_container(self.path)
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            first = next(iter(_decode_tolerantly(container, stream, _DecodeStatus())), None)
            if first is None:
                return
            origin = first.pts
            out_w, out_h = _scaled_size(self.info.source_width, self.info.source_height, self.max_side)
            time_base = stream.time_base or Fraction(1, 90000)
            if origin is not None:
                container.seek(origin + int(start_s / time_base), backward=True, any_frame=False, stream=stream)
            else:  # no timestamps to seek by: decode from the start again
                container.close()
                container = _open_container(self.path)
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
            clock = _Clock(stream, origin=origin)
            for frame in _decode_tolerantly(container, stream, _DecodeStatus()):
                t = clock.seconds(frame)
                if t >= start_s:
                    yield VideoFrame(t=t, index=-1, rgb=_to_upright_rgb(frame, out_w, out_h))
        finally:
            container.close()

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_video(path: str | os.PathLike[str], *, max_side: int = 1280) -> VideoReader:
    """Open ``path`` and check that at least one frame decodes.

    Raises ``InputNotFound``, ``NotAVideo`` or ``EmptyVideo``. Frames are scaled so their
    longer side is at most ``max_side`` (never enlarged).
    """
    if max_side < 16:
        raise UsageError(f"max_side must be at least 16, got {max_side}")
    p = Path(path)
    if not p.exists():
        raise InputNotFound(f"no such file: {p}")
    if not p.is_file():
        raise NotAVideo(f"not a file: {p}")
    container = _open_container(p)
    try:
        info = _probe(p, container, max_side)
    finally:
        container.close()
    return VideoReader(p, info, max_side=max_side)


def check_long_enough(duration_s: float, *, min_s: float = MIN_DURATION_S) -> None:
    """Raise ``TooShort`` when ``duration_s`` (finite) is below what one rep needs."""
    if math.isfinite(duration_s) and duration_s < min_s:
        raise TooShort(f"too short to judge: {duration_s:.1f} s, at least one rep needs about "
                       f"{min_s:.0f} s")


def played_duration_s(info: VideoInfo) -> float:
    """The clip's length as played: the declared duration, else frames over the rate."""
    if math.isfinite(info.duration_s) and info.duration_s > 0:
        return info.duration_s
    if info.frames and info.fps > 0:
        return info.frames / info.fps
    return math.nan


def _file_state(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


def _open_container(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path), mode="r")
    except PermissionError as err:
        raise InputError(f"cannot read {path}: permission denied") from err
    except FileNotFoundError as err:
        raise InputNotFound(f"no such file: {path}") from err
    except av.error.EOFError as err:
        # The format was recognised but the file ends before any frame: a container
        # written with no frames, or cut off right after its header.
        raise EmptyVideo(f"{path} ends before its first frame (no frames, or cut short)") from err
    except (av.FFmpegError, OSError, UnicodeDecodeError) as err:
        raise NotAVideo(f"{path} is not a video we can read: {_why_unreadable(path, err)}") from err
    fmt = container.format.name
    problem = None
    if not container.streams.video:
        problem = "has no video stream"
    elif set(fmt.split(",")) & _NOT_VIDEO_FORMATS or fmt.endswith("_pipe"):
        problem = f"is a still image or text, not a video (format {fmt})"
    if problem:
        container.close()
        raise NotAVideo(f"{path} {problem}")
    return container


def _probe(path: Path, container: av.container.InputContainer, max_side: int) -> VideoInfo:
    stream = container.streams.video[0]
    first = next(iter(_decode_tolerantly(container, stream, _DecodeStatus())), None)
    if first is None:
        raise EmptyVideo(f"{path} has a video stream but no frame could be decoded")
    rotation = _rotation_of(first)
    src_w, src_h = first.width, first.height
    out_w, out_h = _scaled_size(src_w, src_h, max_side)
    if rotation in (90, 270):
        out_w, out_h = out_h, out_w
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    duration_s = _duration_s(container, stream)
    frames = stream.frames or (round(duration_s * fps) if fps > 0 and math.isfinite(duration_s) else 0)
    return VideoInfo(
        path=path, fps=fps, frames=int(frames), width=out_w, height=out_h,
        duration_s=duration_s, rotation=rotation, source_width=src_w, source_height=src_h,
        codec=stream.codec_context.name,
    )


def _duration_s(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    """The video stream's own duration when the file states it (the container's may include
    a longer audio track)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    tagged = _parse_clock(stream.metadata.get("DURATION", ""))  # Matroska per-stream tag
    if tagged is not None:
        return tagged
    if container.duration is not None:
        return container.duration / av.time_base
    return math.nan


def _parse_clock(text: str) -> float | None:
    """Seconds from ``"HH:MM:SS.fraction"``, or None."""
    parts = text.strip().split(":")
    if len(parts) != 3:
        return None
    try:
        hours, minutes, seconds = int(parts[0]), int(parts[1]), float(parts[2])
    except ValueError:
        return None
    return hours * 3600 + minutes * 60 + seconds


@dataclass(slots=True)
class _DecodeStatus:
    skipped_packets: int = 0
    skip_reason: str | None = None
    stop_reason: str | None = None


def _decode_tolerantly(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    status: _DecodeStatus,
) -> Iterator[av.VideoFrame]:
    """Decode frames, skipping corrupt packets; stop at a read error or a run of bad packets."""
    bad_in_a_row = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError as err:
                status.skipped_packets += 1
                status.skip_reason = _one_line(err)
                bad_in_a_row += 1
                if bad_in_a_row >= _MAX_CONSECUTIVE_BAD_PACKETS:
                    status.stop_reason = f"too many corrupt packets in a row: {status.skip_reason}"
                    return
                continue
            bad_in_a_row = 0
            yield from frames
    except (av.FFmpegError, OSError) as err:
        # The container itself cannot be read further (cut short, or damaged structure).
        status.stop_reason = f"reading stopped: {_one_line(err)}"


class _Clock:
    """Frame time in seconds from the first frame, from the real pts (variable frame rate)."""

    def __init__(self, stream: av.video.stream.VideoStream, origin: int | None = None) -> None:
        self._time_base: Fraction = stream.time_base or Fraction(1, 90000)
        rate = stream.average_rate or stream.guessed_rate
        self._frame_s = 1.0 / float(rate) if rate else 1.0 / 30.0
        self._origin: int | None = origin  # the first frame's pts (given when reading after a seek)
        self._last: float | None = None

    def seconds(self, frame: av.VideoFrame) -> float:
        if frame.pts is None:  # no timestamp: assume one nominal frame after the previous
            t = 0.0 if self._last is None else self._last + self._frame_s
        else:
            if self._origin is None:
                self._origin = frame.pts
            t = float((frame.pts - self._origin) * self._time_base)
        self._last = t
        return t


def _rotation_of(frame: av.VideoFrame) -> int:
    # PyAV reports the display matrix as degrees counter-clockwise in [-180, 180].
    return round((frame.rotation or 0) / 90.0) % 4 * 90


def _scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    longer = max(width, height)
    if longer <= max_side:
        return width, height
    scale = max_side / longer
    # Even sizes keep chroma planes aligned for the scaler; never below 2 px.
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


SCALING_THREADS = 1


def _to_upright_rgb(frame: av.VideoFrame, out_w: int, out_h: int) -> np.ndarray:
    quarter_turns = _rotation_of(frame) // 90  # read before reformat, which drops side data
    # One scaling thread: swscale's own threads hand every frame's slices back and forth, and
    # when the other cores are busy (a batch, the pose model) each hand-off waits for the
    # scheduler. Measured on a 640x480 clip beside a busy core: 2.3 s for 443 frames with
    # automatic threads, 0.08 s with one; the pixels are identical.
    if (frame.width, frame.height) != (out_w, out_h):
        frame = frame.reformat(width=out_w, height=out_h, format="rgb24", interpolation="AREA",
                               threads=SCALING_THREADS)
    rgb = frame.to_ndarray(format="rgb24", threads=SCALING_THREADS)
    if quarter_turns:
        rgb = np.ascontiguousarray(np.rot90(rgb, k=quarter_turns))
    return rgb


def _why_unreadable(path: Path, err: BaseException) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        head = b""
    if not head:
        return "the file is empty"
    if head[4:8] == b"ftyp":
        # An MP4/MOV whose index (moov box) was to be written at the end, cut before it.
        return "an MP4/MOV file cut short or damaged before its index; no frame can be located"
    return getattr(err, "strerror", None) or _one_line(err)


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
