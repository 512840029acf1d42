"""Which way up a recording is, from the body in it, and whether anyone lies on their side.

A phone video can be stored a quarter turn off with no rotation flag: the person lying on
the mat then appears upright, and the setup check says they are not lying down. Before the
analysis, a few frames from the start are run through the live engine as they are and, only
if nobody lies on their side in them, turned a quarter turn each way: the orientation in which
the body takes the clamshell's setup (lying on the side, hips and knees bent, on the floor)
wins. A standing or walking person turned over does not bend the hips and knees, so their
video is never turned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from clamcoach.engine import Engine
from clamcoach.io.video import VideoFrame, VideoInfo, VideoReader
from clamcoach.pose import PoseEstimator
from clamcoach.protocol import Protocol

#: Frames looked at, spread over the first ``PROBE_S`` seconds.
PROBE_FRAMES = 24
PROBE_S = 8.0
#: Share of the frames with a pose that must show the setup for an orientation to count.
MIN_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Orientation:
    quarter_turns: int  # counter-clockwise turns applied to every frame (0, 1 or 3)
    setup_share: float  # share of probed frames with a pose that showed the clamshell setup
    lying_share: float  # ... that showed someone lying on their side at all
    posed: int  # probed frames with a pose


def turn_rgb(rgb: np.ndarray, quarter_turns: int) -> np.ndarray:
    return rgb if quarter_turns % 4 == 0 else np.ascontiguousarray(np.rot90(rgb, k=quarter_turns))


def turned_frames(frames: Iterable[VideoFrame], quarter_turns: int) -> Iterator[VideoFrame]:
    for frame in frames:
        yield frame if quarter_turns % 4 == 0 else replace(frame, rgb=turn_rgb(frame.rgb, quarter_turns))


def turned_info(info: VideoInfo, quarter_turns: int) -> VideoInfo:
    if quarter_turns % 2 == 0:
        return info
    return replace(info, width=info.height, height=info.width,
                   rotation=(info.rotation + 90 * quarter_turns) % 360)


def _probe_frames(reader: VideoReader) -> list[VideoFrame]:
    """Up to PROBE_FRAMES frames, evenly spread over the first PROBE_S seconds."""
    fps = reader.info.fps if reader.info.fps > 0 else 30.0
    step = max(1, round(min(PROBE_S, reader.info.duration_s if reader.info.duration_s > 0 else PROBE_S)
                        * fps / PROBE_FRAMES))
    picked: list[VideoFrame] = []
    for frame in reader:
        if frame.t > PROBE_S or len(picked) >= PROBE_FRAMES:
            break
        if frame.index % step == 0:
            picked.append(frame)
    reader.close()
    return picked


def _score(frames: list[VideoFrame], quarter_turns: int, protocol: Protocol,
           estimator: PoseEstimator) -> Orientation:
    engine = Engine(protocol)
    posed = setup = lying = 0
    for frame in frames:
        pose = estimator.estimate(turn_rgb(frame.rgb, quarter_turns), frame.t)
        step = engine.push(pose, frame.t)
        if step.body is None:
            continue
        posed += 1
        on_side = bool(step.setup_checks.get("side_lying"))
        lying += on_side
        setup += on_side and bool(step.setup_checks.get("hips_knees_bent"))
    share = (lambda n: n / posed if posed else 0.0)
    return Orientation(quarter_turns, share(setup), share(lying), posed)


def find_orientation(reader: VideoReader, protocol: Protocol,
                     open_estimator: Callable[[], PoseEstimator]) -> Orientation:
    """The quarter turns that make the person lie on their side (0 when they already do,
    when nobody is found, or when no turn shows the clamshell's setup either)."""
    frames = _probe_frames(reader)
    with open_estimator() as estimator:
        upright = _score(frames, 0, protocol, estimator)
    if upright.posed == 0 or upright.lying_share >= MIN_SHARE:
        return upright
    best = upright
    for quarter_turns in (1, 3):
        with open_estimator() as estimator:
            found = _score(frames, quarter_turns, protocol, estimator)
        if found.setup_share >= MIN_SHARE and found.setup_share > best.setup_share:
            best = found
    return best


def sideways_warning(quarter_turns: int) -> str:
    way = "counter-clockwise" if quarter_turns == 1 else "clockwise"
    return (f"The video was recorded sideways (no rotation flag): it was analysed turned a "
            f"quarter turn {way}, so that you lie on your side in it.")
