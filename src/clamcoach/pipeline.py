"""Frames in, steps out: the pose estimator in front of the engine.

``make_analyzer`` is the one place an analyser (estimator + engine) is made; the browser
session and ``analyze_video`` both use it and call ``LiveAnalyzer.process`` for every frame, so
analysing a file is a replay of live coaching.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from clamcoach.body import select_person
from clamcoach.engine import Analysis, Engine, Step
from clamcoach import sideways
from clamcoach.errors import NobodyLyingDown, NoPersonError
from clamcoach.io.memory import keep_frames_out_of_the_heap
from clamcoach.io.video import (
    MIN_DURATION_S,
    VideoFrame,
    VideoInfo,
    VideoReader,
    check_long_enough,
    open_video,
    played_duration_s,
)
from clamcoach.jsonio import rounded
from clamcoach.measure.profiles import BLAZEPOSE, LandmarkProfile
from clamcoach.notices import Notice, WarningCode
from clamcoach.pose import PoseEstimator, open_estimator
from clamcoach.pose.segments import available_cores, open_file_estimator, pose_threads
from clamcoach.protocol import Protocol
from clamcoach.provenance import pose_provenance
from clamcoach.series import FrameSeries
from clamcoach.types import PoseFrame

SNAPSHOT_MAX_SIDE = 640


class LiveAnalyzer:
    """Pose estimation plus the engine, one frame at a time."""

    def __init__(self, protocol: Protocol, estimator: PoseEstimator, *, engine: Engine | None = None) -> None:
        self.estimator = estimator
        self.engine = engine or Engine(protocol)
        self.snapshot: tuple[np.ndarray, np.ndarray] | None = None
        self._multi = hasattr(estimator, "estimate_all")

    def process(self, rgb: np.ndarray, t: float) -> Step:
        return self.consume(rgb, t, self.estimate(rgb, t))

    def estimate(self, rgb: np.ndarray, t: float) -> list[PoseFrame]:
        """The pose model's part of a frame: every person found. It reads no engine state, so
        file analysis runs it a frame ahead of :meth:`consume` on another thread."""
        if self._multi:
            return self.estimator.estimate_all(rgb, t)  # type: ignore[attr-defined]
        pose = self.estimator.estimate(rgb, t)
        return [] if pose is None else [pose]

    def consume(self, rgb: np.ndarray, t: float, poses: list[PoseFrame]) -> Step:
        """The engine's part of a frame: the person it follows, then one engine step."""
        pose = select_person(poses, self.engine.body.last_hip_px) if len(poses) > 1 else (poses[0] if poses else None)
        step = self.engine.push(pose, t)
        if self.snapshot is None and step.setup_ok and step.body is not None:
            self.snapshot = _snapshot(rgb, step.body.image)
        return step

    def finish(self) -> Analysis:
        analysis = self.engine.finish()
        measurement = {**analysis.measurement, "pose_model": pose_provenance(self.estimator)}
        return replace(analysis, snapshot=self.snapshot, measurement=measurement)


def make_analyzer(protocol: Protocol, estimator: PoseEstimator, *,
                  profile: LandmarkProfile = BLAZEPOSE, keep_landmarks: bool = True) -> LiveAnalyzer:
    """A fresh engine behind ``estimator``: one per set (live) or per file. The only factory,
    so the live page and file analysis cannot drift apart in how they build the engine.
    ``keep_landmarks``: keep every frame's image landmarks (file exports use them; a live set,
    which can run for half an hour, need not)."""
    return LiveAnalyzer(protocol, estimator,
                        engine=Engine(protocol, profile=profile, keep_landmarks=keep_landmarks))


def _snapshot(rgb: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A small copy of the frame (for the report's still) and its landmarks, scaled alike."""
    h, w = rgb.shape[:2]
    scale = min(1.0, SNAPSHOT_MAX_SIDE / max(h, w))
    lm = landmarks.copy()
    if scale < 1.0:
        import cv2

        rgb = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        lm[:, :2] *= scale
    return rgb.copy(), lm


@dataclass
class FileResult:
    analysis: Analysis
    info: VideoInfo
    frames_read: int
    stopped_early_at_s: float | None
    decode_error: str | None

    def source(self) -> dict:
        info = self.info
        return {
            "path": str(info.path),
            "fps": rounded(info.fps, 3),
            "frames": self.frames_read,
            "width": info.width,
            "height": info.height,
            "duration_s": rounded(info.duration_s, 3),
            "rotation": info.rotation,
            "stopped_early_at_s": self.stopped_early_at_s,
        }

    def report(self) -> dict:
        return self.analysis.to_dict(self.source())


def analyze_video(
    path: str | Path,
    protocol: Protocol,
    *,
    estimator: PoseEstimator | None = None,
    backend: str = "blazepose",
    progress: Callable[[int, int], None] | None = None,
    on_frame: Callable[[VideoFrame, Step], None] | None = None,
    max_side: int = 1280,
    require_person: bool = True,
    pose_workers: int | None = None,
    quarter_turns: int | None = None,
    min_duration_s: float = MIN_DURATION_S,
    reuse: PoseEstimator | None = None,
) -> FileResult:
    """Analyse a whole file with the live engine. Raises the input errors of ``open_video``,
    ``NoPersonError`` when nobody was found in any frame, and its ``NobodyLyingDown`` when
    nobody lay on their side.

    A long file's poses are estimated in segments on ``pose_workers`` cores (default all; see
    pose/segments.py). ``quarter_turns``: turn every frame this many quarter turns
    counter-clockwise; None finds out from the body whether a video was recorded sideways (see
    :mod:`clamcoach.sideways`) when the backend is ours to open, else 0. A clip shorter than
    ``min_duration_s`` raises ``TooShort`` (before any pose is estimated when the file states
    its length). ``reuse``: an open estimator of ``backend`` to reset and use for the probe and
    the analysis instead of opening one (the caller closes it); ``estimator`` is used as it is."""
    keep_frames_out_of_the_heap()
    reader = open_video(path, max_side=max_side)
    declared_s = played_duration_s(reader.info)
    check_long_enough(declared_s, min_s=min_duration_s)
    if estimator is None and reuse is None:
        # One model for the probe and the analysis: opening it costs 0.05-0.12 s (3-7 of the
        # demo's frames), paid once.
        cores = available_cores() if pose_workers is None else pose_workers
        reader.close()
        with open_estimator(backend, threads=pose_threads(cores)) as model:
            return analyze_video(path, protocol, backend=backend, progress=progress, on_frame=on_frame,
                                 max_side=max_side, require_person=require_person, pose_workers=pose_workers,
                                 quarter_turns=quarter_turns, min_duration_s=min_duration_s, reuse=model)
    probe: sideways.StoredProbe | None = None
    if quarter_turns is None and estimator is None:
        if on_frame is None:
            # The analysis' own first frames tell whether the person lies on their side as
            # stored; only if not is the video probed turned, and analysed again.
            probe, quarter_turns = sideways.StoredProbe(reader.info), 0
        else:  # what on_frame was shown cannot be taken back: decide first
            quarter_turns = detect_quarter_turns(reader, protocol, backend, estimator=reuse)
    quarter_turns = quarter_turns or 0
    if estimator is not None:
        est = estimator
    elif quarter_turns % 4:  # segments decode the file as stored (not turned): one tracker
        est = _reset(reuse)
    else:
        est = open_file_estimator(reader.info, backend=backend, workers=pose_workers,
                                  max_side=max_side, reuse=reuse)
    n = posed = upright = 0
    last_t = 0.0
    turn_it = False
    decoded = posed_frames = None
    try:
        live = make_analyzer(protocol, est)
        # Three stages on their own threads, each a frame or two ahead of the next: decoding,
        # the pose model (both release the GIL) and the engine here, so the engine's time hides
        # behind the model's where a core is free. The order of frames and results is unchanged.
        decoded = prefetched(reader)
        frames = sideways.turned_frames(decoded, quarter_turns)
        posed_frames = prefetched(((frame, live.estimate(frame.rgb, frame.t)) for frame in frames),
                                  handoff_s=POSE_HANDOFF_S)
        for frame, poses in posed_frames:
            step = live.consume(frame.rgb, frame.t, poses)
            n += 1
            last_t = frame.t
            if step.body is not None:
                posed += 1
                upright += sideways.upright_in_image(step.body.image)
            if on_frame is not None:
                on_frame(frame, step)
            if progress is not None:
                progress(n, reader.info.frames)
            if probe is not None and not probe.done:
                probe.see(frame, step.body)
                if probe.done and not probe.keeps():
                    turn_it = True
                    break
        turn_it = turn_it or (probe is not None and not probe.done and not probe.keeps())
        analysis = live.finish()
    finally:
        for stage in (posed_frames, decoded):
            if stage is not None:
                stage.close()  # stops its helper thread before the model or the file is closed
        reader.close()
        if est is not estimator and est is not reuse:
            est.close()  # a segmented wrapper around ``reuse``
    if turn_it:
        assert reuse is not None
        turns = sideways.find_turn(open_video(path, max_side=max_side), protocol, lambda: _borrowed(reuse))
        return analyze_video(path, protocol, backend=backend, progress=progress, max_side=max_side,
                             require_person=require_person, pose_workers=pose_workers, quarter_turns=turns,
                             min_duration_s=min_duration_s, reuse=reuse)
    if reader.stopped_early_at_s is not None:
        why = reader.decode_error
        analysis = analysis.with_notes(Notice(WarningCode.VIDEO_DAMAGED if why else WarningCode.VIDEO_STOPPED,
                                              dict(at_s=reader.stopped_early_at_s, why=why)))
    analysis = analysis.with_notes(*gap_notes(analysis.frames))
    if not math.isfinite(declared_s):  # the file did not say: judge by what was read
        check_long_enough(last_t + 1.0 / (reader.info.fps or 30.0), min_s=min_duration_s)
    if require_person and analysis.pose_coverage == 0.0:
        raise NoPersonError(f"nobody was found in {Path(path).name} ({n} frames)")
    # The engine's own side-lying check is only "not upright" (the body model decides the rest),
    # so a setup that never settled plus an upright body in the picture is what tells.
    if require_person and not math.isfinite(analysis.setup.t) and upright >= UPRIGHT_SHARE * posed:
        raise NobodyLyingDown(
            f"nobody is lying on their side in {Path(path).name}: the person in view is upright "
            f"(standing, sitting or walking) in {100 * upright / posed:.0f}% of the frames; "
            "the clamshell is done lying on your side, facing the camera")
    if quarter_turns % 4:
        analysis = analysis.with_notes(sideways.sideways_warning(quarter_turns))
    info = sideways.turned_info(reader.info, quarter_turns)
    return FileResult(analysis, info, n, reader.stopped_early_at_s, reader.decode_error)


#: A video is not of a clamshell at all when the setup never settled and at least UPRIGHT_SHARE
#: of the frames with a pose show the person upright in the picture. Measured: people walking
#: (sports2d, pose2sim) 44-72% upright; a level front view of a clamshell that never settled
#: (e5_front) 0%.
UPRIGHT_SHARE = 0.3


def detect_quarter_turns(reader: VideoReader, protocol: Protocol, backend: str = "blazepose", *,
                         cores: int | None = None, estimator: PoseEstimator | None = None) -> int:
    """How many quarter turns make this video's person lie on their side (0, 1 or 3), looked
    at with ``estimator`` (reset before each look, left open) or else estimators of ``backend``
    on ``cores`` cores (default: all)."""
    if estimator is not None:
        return sideways.find_orientation(reader, protocol, lambda: _borrowed(estimator))
    threads = pose_threads(available_cores() if cores is None else cores)
    return sideways.find_orientation(reader, protocol, lambda: open_estimator(backend, threads=threads))


@contextlib.contextmanager
def _borrowed(estimator: PoseEstimator) -> Iterator[PoseEstimator]:
    """``estimator`` reset, for a ``with`` block that must not close it."""
    yield _reset(estimator)


def _reset(estimator: PoseEstimator) -> PoseEstimator:
    reset = getattr(estimator, "reset", None)
    if reset is not None:
        reset()
    return estimator


#: After waiting for the pose model's result, the engine gives the model's thread this long to
#: take the interpreter lock and get back inside the model (which releases it) before the
#: engine's own step takes the lock for a millisecond or two. Without it the model's thread
#: waits for every step: `make bench` on the demo clip, end-to-end over pose-only 0.90 -> 0.96-1.00
#: (one run each of 0, 0.5, 1 and 2 ms: 0.91, 0.93, 1.00, 0.99).
POSE_HANDOFF_S = 0.001


def prefetched(frames, depth: int = 2, *, handoff_s: float = 0.0):
    """Take the next items of ``frames`` on a helper thread while the caller works on this one
    (decoding and the pose model release the GIL), so they cost no wall time where a core is
    free; at most ``depth`` items wait (memory stays flat). Errors raised making them are
    raised here, in the caller's thread. When the caller stops early, the helper stops after
    the item it is making and closes ``frames`` before this returns (a pose model is not closed
    under a thread still using it). ``handoff_s``: when the caller had to wait for an item (the
    helper is the slower), sleep this long before handing it over (``POSE_HANDOFF_S``)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    items = iter(frames)

    def offer(item) -> bool:
        """Put ``item`` in the queue unless the caller stopped first."""
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            offer(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=work, name="clamcoach-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            waited = q.empty()
            item = q.get()
            if waited and handoff_s > 0:
                time.sleep(handoff_s)
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()  # the helper checks ``stop`` between items: it ends after the one in hand


def gap_notes(frames: FrameSeries, min_gap_s: float = 0.5) -> list[Notice]:
    """Where the person was out of view (gaps in the pose), as a note (or none)."""
    gaps: list[tuple[float, float]] = []
    start = None
    missing = ~np.isfinite(frames.opening_deg) & ~frames.posed
    for t, gone in zip(frames.t.tolist(), missing.tolist()):
        if gone and start is None:
            start = t
        if not gone and start is not None:
            gaps.append((start, t))
            start = None
    if start is not None and len(frames):
        gaps.append((start, float(frames.t[-1])))
    long = [(a, b) for a, b in gaps if b - a >= min_gap_s]
    if not long:
        return []
    spans = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in long[:6])
    code = WarningCode.POSE_GAPS_MORE if len(long) > 6 else WarningCode.POSE_GAPS
    return [Notice(code, dict(spans=spans, more=len(long) - 6))]
