"""One long video on all cores: pose estimation on time segments in parallel, merged in order.

A pose tracker's output depends on every frame before it (measured on the demo clip: a
tracker started 60 frames late still differs by 1-10 px after 300 frames), so no split can
reproduce an unsplit run bit for bit. What is reproduced exactly is the *split* run: the
segments depend only on the video's length, never on the number of cores, and each one
starts a fresh tracker ``warmup_s`` before its first kept frame (frames decoded after a seek
to the keyframe before). One core computes the segments one after another in this process,
N cores compute them in N worker processes; the PoseFrames, and so the engine's findings,
are identical (``tests/pose/test_segments.py``). Videos shorter than two segments are not split
at all: their analysis is exactly what it was before this module.

The engine still runs in the caller, frame by frame, in time order:
:class:`SegmentedPoseEstimator` is a :class:`~clamcoach.pose.base.PoseEstimator` that
answers each ``estimate_all(rgb, t)`` with the poses computed ahead for the frame at ``t``.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import math
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clamcoach.io.video import VideoInfo, open_video
from clamcoach.pose.base import DEFAULT_THREADS, PoseEstimator, open_estimator
from clamcoach.types import PoseFrame

log = logging.getLogger(__name__)

#: A segment is at least this long (and under twice this): shorter clips are not split.
SEGMENT_S: float = 30.0
#: Each segment's fresh tracker first sees this much of the video before its segment.
WARMUP_S: float = 1.0


@dataclass(frozen=True, slots=True)
class Segment:
    """Keep the poses of frames with ``start_s <= t < end_s``; the tracker starts at ``warmup_from_s``."""

    index: int
    start_s: float
    end_s: float
    warmup_from_s: float


@dataclass(frozen=True, slots=True)
class SegmentPoses:
    """Every kept frame's time and the poses found in it (most confident first)."""

    segment: Segment
    times: tuple[float, ...]
    poses: tuple[tuple[PoseFrame, ...], ...]


def plan_segments(duration_s: float, /, *, segment_s: float = SEGMENT_S,
                  warmup_s: float = WARMUP_S) -> list[Segment]:
    """Equal segments of at least ``segment_s`` covering ``[0, inf)``, from the length alone.

    One segment (no split) when the length is unknown or under two segments."""
    if segment_s <= 0 or warmup_s < 0:
        raise ValueError(f"segment_s must be > 0 and warmup_s >= 0, got {segment_s}, {warmup_s}")
    count = int(duration_s // segment_s) if math.isfinite(duration_s) and duration_s > 0 else 1
    if count < 2:
        return [Segment(0, 0.0, math.inf, 0.0)]
    step = duration_s / count
    bounds = [k * step for k in range(count)] + [math.inf]
    return [
        Segment(k, bounds[k], bounds[k + 1], max(0.0, bounds[k] - warmup_s) if k else 0.0)
        for k in range(count)
    ]


def pose_segment(path: str | Path, segment: Segment, estimator: PoseEstimator, *,
                 max_side: int) -> SegmentPoses:
    """Run a fresh tracker (``estimator`` reset) from the segment's warm-up to its end."""
    fresh = _reset(estimator)
    times: list[float] = []
    poses: list[tuple[PoseFrame, ...]] = []
    frames = open_video(path, max_side=max_side).frames_from(segment.warmup_from_s)
    try:
        for frame in frames:
            if frame.t >= segment.end_s:
                break
            found = tuple(fresh.estimate_all(frame.rgb, frame.t))
            if frame.t >= segment.start_s:
                times.append(frame.t)
                poses.append(found)
    finally:
        frames.close()
    return SegmentPoses(segment, tuple(times), tuple(poses))


def _reset(estimator: PoseEstimator) -> PoseEstimator:
    reset = getattr(estimator, "reset", None)
    if reset is None:
        raise TypeError(f"pose backend {estimator.name!r} has no reset(): it cannot run in segments")
    reset()
    return estimator


# ---- worker processes --------------------------------------------------------------------

_WORKER_ESTIMATOR: PoseEstimator | None = None


def _worker_start(backend: str, threads: int) -> None:
    """Open the model once per worker process (then reset for every segment)."""
    global _WORKER_ESTIMATOR
    _WORKER_ESTIMATOR = open_estimator(backend, threads=threads)


def _worker_pose_segment(path: str, segment: Segment, max_side: int) -> SegmentPoses:
    assert _WORKER_ESTIMATOR is not None, "worker started without its estimator"
    return pose_segment(path, segment, _WORKER_ESTIMATOR, max_side=max_side)


def available_cores() -> int:
    """The cores this process may run on (what ``--workers`` defaults to)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads_per_estimator(cores: int, estimators: int) -> int:
    """Each of ``estimators`` pose models running at once on ``cores`` gets its share (at
    least one thread): more threads than cores slow every one of them down."""
    return max(1, cores // max(1, estimators))


# ---- the estimator the engine sees --------------------------------------------------------


class SegmentedPoseEstimator(PoseEstimator):
    """Poses of a whole file computed ahead in segments, handed out frame by frame.

    ``estimate_all(rgb, t)`` must be called for the file's frames in order (as
    ``analyze_video`` does); ``rgb`` is not used. At most ``workers + 1`` segments are
    computed or waiting at a time, so memory stays flat with video length. Should a frame's
    time not match the computed ones (a file whose seeks disagree with its decoding), the
    rest is estimated here with one tracker, and a warning is logged.
    """

    name = "segments"

    def __init__(self, path: str | Path, plan: list[Segment], *, backend: str = "blazepose",
                 workers: int = 1, max_side: int = 1280, local: PoseEstimator | None = None) -> None:
        self.path = str(path)
        self.plan = plan
        self.backend = backend
        self.max_side = max_side
        self.workers = max(1, min(workers, len(plan)))
        #: ``workers`` cores shared by the estimators running at once (one, or one per process).
        self.threads = threads_per_estimator(max(1, workers), self.workers)
        self._todo = collections.deque(plan)
        self._waiting: collections.deque[tuple[Segment, concurrent.futures.Future[SegmentPoses] | None]] = collections.deque()
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._local = local  # the estimator for segments computed here (the caller's, if given)
        self._owns_local = local is None
        self._current: Iterator[tuple[float, tuple[PoseFrame, ...]]] = iter(())
        self._current_end = -math.inf
        self._pending: tuple[float, tuple[PoseFrame, ...]] | None = None
        self._fallback: PoseEstimator | None = None
        if self.workers > 1:
            context = multiprocessing.get_context("spawn")  # no fork of a process with threads
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context,
                initializer=_worker_start, initargs=(backend, self.threads))
        self._fill()

    # The PoseEstimator contract -------------------------------------------------------------

    def estimate(self, rgb: np.ndarray, t: float) -> PoseFrame | None:
        poses = self.estimate_all(rgb, t)
        return poses[0] if poses else None

    def estimate_all(self, rgb: np.ndarray, t: float) -> list[PoseFrame]:
        if self._fallback is not None:
            return self._fallback.estimate_all(rgb, t)
        found = self._lookup(t)
        if found is None:
            log.warning("segmented pose estimation lost step at %.3f s (seeking in %s disagrees "
                        "with decoding it); the rest runs on one tracker", t, Path(self.path).name)
            self._fallback = open_estimator(self.backend, threads=self.threads)
            self._shutdown()
            return self._fallback.estimate_all(rgb, t)
        return list(found)

    def close(self) -> None:
        self._shutdown()
        for est in (self._local if self._owns_local else None, self._fallback):
            if est is not None:
                est.close()
        self._local = self._fallback = None

    # Segments in, frames out ---------------------------------------------------------------

    def _lookup(self, t: float) -> tuple[PoseFrame, ...] | None:
        while t >= self._current_end:
            if not self._next_segment():
                return None
        while True:
            item = self._pending if self._pending is not None else next(self._current, None)
            self._pending = None
            if item is None or item[0] > t:
                self._pending = item
                return None
            if item[0] == t:
                return item[1]
            # item[0] < t: a frame the segment has and the caller skipped; not expected

    def _next_segment(self) -> bool:
        if not self._waiting:
            return False
        segment, future = self._waiting.popleft()
        result = self._result(segment, future)
        self._fill()
        self._current = iter(zip(result.times, result.poses))
        self._current_end = result.segment.end_s
        self._pending = None
        return True

    def _result(self, segment: Segment, future: concurrent.futures.Future[SegmentPoses] | None) -> SegmentPoses:
        if future is not None:
            try:
                return future.result()
            except concurrent.futures.process.BrokenProcessPool:
                # A worker died (killed, out of memory): this process computes the rest; a
                # segment's poses do not depend on where it runs, so nothing changes.
                log.warning("a pose worker process died; %s continues on one core", Path(self.path).name)
                self._todo.extendleft(reversed([s for s, _ in self._waiting]))
                self._waiting.clear()
                self._shutdown()
        if self._local is None:
            self._local = open_estimator(self.backend, threads=self.threads)
        return pose_segment(self.path, segment, self._local, max_side=self.max_side)

    def _fill(self) -> None:
        """Keep ``workers + 1`` segments submitted to the pool, or the next one queued here
        (computed when it is needed)."""
        if self._pool is None:
            if not self._waiting and self._todo:
                self._waiting.append((self._todo.popleft(), None))
            return
        while self._todo and len(self._waiting) < self.workers + 1:
            segment = self._todo.popleft()
            self._waiting.append((segment, self._pool.submit(_worker_pose_segment, self.path, segment, self.max_side)))

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def open_file_estimator(info: VideoInfo, *, backend: str = "blazepose", workers: int | None = None,
                        max_side: int = 1280, segment_s: float = SEGMENT_S,
                        warmup_s: float = WARMUP_S, reuse: PoseEstimator | None = None) -> PoseEstimator:
    """The pose estimator for analysing the file ``info`` describes: one tracker for a clip
    shorter than two segments, else segments on ``workers`` cores (default: all).

    ``reuse``: an open estimator of ``backend`` to reset and use instead of opening one (a
    batch worker keeps one per process); the caller still owns and closes it."""
    plan = plan_segments(info.duration_s, segment_s=segment_s, warmup_s=warmup_s)
    cores = available_cores() if workers is None else workers
    if len(plan) == 1:
        return _reset(reuse) if reuse is not None else open_estimator(backend, threads=pose_threads(cores))
    return SegmentedPoseEstimator(info.path, plan, backend=backend, max_side=max_side, local=reuse,
                                  workers=cores)


def pose_threads(cores: int) -> int:
    """The threads of one estimator alone on ``cores`` cores: no more than it gains from."""
    return min(DEFAULT_THREADS, max(1, cores))
