"""Which way up a recording is, from the body in it, and whether anyone lies on their side.

A phone video can be stored a quarter turn off with no rotation flag: the person lying on
the mat then appears upright, and the setup check says they are not lying down. A few frames
from the start are looked at as they are (by the analysis itself, ``StoredProbe``, or before it
when what it shows cannot be taken back, ``find_orientation``) and, only if nobody lies on
their side in them, turned a quarter turn each way: the orientation in which the body takes
the clamshell's setup (lying on the side, hips and knees bent, on the floor) wins, and the
video is analysed again turned. A standing or walking person turned over does not bend the hips and knees, so their
video is never turned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from clamcoach.body import BodyTracker
from clamcoach.engine import Engine
from clamcoach.io.video import VideoFrame, VideoInfo, VideoReader
from clamcoach.notices import Notice, WarningCode
from clamcoach.pose import PoseEstimator
from clamcoach.posture import posture
from clamcoach.protocol import Protocol
from clamcoach.types import BodyFrame, lr_pair

#: Frames looked at, spread over the first ``PROBE_S`` seconds.
PROBE_FRAMES = 24
PROBE_S = 8.0
#: Share of the probed frames that must show the person (as stored) and lying on the side.
MIN_SHARE = 0.5
#: A turn also needs the hips to stay put (measured over the probe, in torso lengths: people
#: walking 0.7-10, the clamshell's setup 0.02-0.04) and the knees bent as the setup asks
#: (the demo turned sideways: 51-56 deg; a person standing has nearly straight knees).
MAX_HIP_TRAVEL = 0.3
MIN_KNEE_FLEXION_DEG = 35.0


@dataclass(frozen=True, slots=True)
class Orientation:
    quarter_turns: int  # counter-clockwise turns applied to every frame (0, 1 or 3)
    settled: bool  # the engine's setup check settled (lying on the side, still) within the probe
    knee_flexion_deg: float  # the settled setup's knee bend (NaN when it did not settle)
    hip_travel: float  # how far the hips moved over the probe, in torso lengths
    lying_share: float  # ... that showed someone lying on their side at all
    posed: int  # probed frames with a pose
    #: How far the table's upward normal points up in the picture at the settled setup (the
    #: body model's camera): 1 straight up, -1 upside down (NaN when it did not settle). A turn
    #: the wrong way round also lies the person on their side, but upside down.
    floor_down: float = float("nan")


def upright_in_image(image: np.ndarray) -> bool:
    """Shoulders above the hips, the torso within 30 degrees of the image's vertical: standing,
    sitting or walking (or seen from the feet end, where the setup still settles)."""
    (ls, rs), (lh, rh) = lr_pair("shoulder"), lr_pair("hip")
    torso = (image[ls, :2] + image[rs, :2]) / 2 - (image[lh, :2] + image[rh, :2]) / 2
    length = float(np.linalg.norm(torso))
    return bool(length > 0 and -torso[1] > np.cos(np.radians(30)) * length)


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


def _probe_step(info: VideoInfo) -> int:
    """Every how many frames the probe looks: PROBE_FRAMES spread over the first PROBE_S s."""
    fps = info.fps if info.fps > 0 else 30.0
    return max(1, round(min(PROBE_S, info.duration_s if info.duration_s > 0 else PROBE_S) * fps / PROBE_FRAMES))


def _probe_frames(reader: VideoReader) -> list[VideoFrame]:
    """Up to PROBE_FRAMES frames, evenly spread over the first PROBE_S seconds."""
    step = _probe_step(reader.info)
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
    posed = lying = 0
    hips: list[np.ndarray] = []
    torsos: list[float] = []
    (ls, rs), (lh, rh) = lr_pair("shoulder"), lr_pair("hip")
    for frame in frames:
        pose = estimator.estimate(turn_rgb(frame.rgb, quarter_turns), frame.t)
        step = engine.push(pose, frame.t)
        if step.body is None:
            continue
        posed += 1
        lying += bool(step.setup_checks.get("side_lying"))
        image = step.body.image
        hips.append((image[lh, :2] + image[rh, :2]) / 2)
        torsos.append(float(np.linalg.norm((image[ls, :2] + image[rs, :2]) / 2 - hips[-1])))
    share = (lambda n: n / posed if posed else 0.0)
    torso = float(np.median(torsos)) if torsos else 0.0
    travel = float(np.ptp(np.array(hips), axis=0).max()) / torso if hips and torso > 0 else float("inf")
    result = engine.setup.result
    knee = result.measures.knee_flexion_deg if result is not None else float("nan")
    floor_down = float("nan")
    if engine.measure.setup is not None:
        p0, p1 = engine.measure.setup.camera.project(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.3]]))
        floor_down = float((p0[1] - p1[1]) / (np.linalg.norm(p1 - p0) + 1e-9))
    return Orientation(quarter_turns, result is not None, knee, travel, share(lying), posed, floor_down)


@dataclass(frozen=True, slots=True)
class StoredView:
    """The probe as stored: how many frames showed the person, and how many lying on the side."""
    posed: int
    lying: int

    def keeps(self, probed: int) -> bool:
        """No turn is tried: the person lies on the side as stored, or is found in too few frames
        for a turn to be more than a guess (a view from the feet end, say)."""
        return self.posed < MIN_SHARE * probed or self.lying >= MIN_SHARE * self.posed


def _as_stored(frames: list[VideoFrame], estimator: PoseEstimator) -> StoredView:
    """Posture alone (no body model, no setup fit: they cost more than the pose model on the
    probe), stopping as soon as enough frames show someone lying on their side."""
    tracker = BodyTracker()
    posed = lying = 0
    enough = MIN_SHARE * len(frames)
    for frame in frames:
        body = tracker.push(estimator.estimate(frame.rgb, frame.t))
        if body is None:
            continue
        posed += 1
        lying += posture(body).side_lying
        if lying >= enough:  # lying / posed >= MIN_SHARE now and whatever the rest show
            break
    return StoredView(posed, lying)


def find_orientation(reader: VideoReader, protocol: Protocol,
                     open_estimator: Callable[[], PoseEstimator]) -> int:
    """The quarter turns that make the person lie on their side (0 when they already do,
    when the person is hardly found as stored, or when no turn settles the setup either)."""
    frames = _probe_frames(reader)
    with open_estimator() as estimator:
        stored = _as_stored(frames, estimator)
    if stored.keeps(len(frames)):
        return 0
    return _best_turn(frames, protocol, open_estimator)


def find_turn(reader: VideoReader, protocol: Protocol, open_estimator: Callable[[], PoseEstimator]) -> int:
    """The quarter turn (1 or 3) that makes the person lie on their side, or 0 when none does:
    for a video whose frames as stored were already seen not to (``StoredProbe``)."""
    return _best_turn(_probe_frames(reader), protocol, open_estimator)


def _best_turn(frames: list[VideoFrame], protocol: Protocol, open_estimator: Callable[[], PoseEstimator]) -> int:
    candidates = []
    for quarter_turns in (1, 3):
        with open_estimator() as estimator:
            found = _score(frames, quarter_turns, protocol, estimator)
        if found.settled and found.lying_share >= MIN_SHARE and found.hip_travel <= MAX_HIP_TRAVEL \
                and found.knee_flexion_deg >= MIN_KNEE_FLEXION_DEG and not found.floor_down < 0.0:
            candidates.append(found)
    best = max(candidates, key=lambda o: (o.floor_down, o.lying_share), default=None)
    return best.quarter_turns if best is not None else 0


class StoredProbe:
    """The probe as stored, fed by the analysis' own frames instead of a pass of its own (which
    cost 4% of the demo clip's analysis): the same frames (every ``_probe_step``-th in
    the first PROBE_S seconds, at most PROBE_FRAMES) and the same answer as ``_as_stored``, the
    bodies coming from the analysis' tracker."""

    def __init__(self, info: VideoInfo) -> None:
        self._step = _probe_step(info)
        fps = info.fps if info.fps > 0 else 30.0
        span = min(PROBE_S, info.duration_s) if info.duration_s > 0 else PROBE_S
        #: the frames ``_probe_frames`` would pick (the file's stated length may be a little off:
        #: the probe also ends at the first frame after PROBE_S)
        self._planned = min(PROBE_FRAMES, int(span * fps) // self._step + 1)
        self._probed = self.posed = self.lying = 0
        self.done = False

    def see(self, frame: VideoFrame, body: BodyFrame | None) -> None:
        """One frame of the analysis, with the body the engine followed in it (or None)."""
        if self.done:
            return
        if frame.t > PROBE_S or self._probed >= PROBE_FRAMES:
            self.done = True
            return
        if frame.index % self._step:
            return
        self._probed += 1
        if body is not None:
            self.posed += 1
            self.lying += posture(body).side_lying
        # as ``_as_stored``: enough lying frames decide whatever the rest would show
        self.done = self.lying >= MIN_SHARE * self._planned or self._probed >= self._planned

    def keeps(self) -> bool:
        """No turn is tried (see ``StoredView.keeps``); meaningful once ``done``."""
        return StoredView(self.posed, self.lying).keeps(self._probed)


def sideways_warning(quarter_turns: int) -> Notice:
    return Notice(WarningCode.SIDEWAYS_COUNTER_CLOCKWISE if quarter_turns == 1 else WarningCode.SIDEWAYS_CLOCKWISE)
