"""One video's analysis as a self-contained task: no Ray, no database, no output files.

``analyze_one(video, options)`` runs exactly what ``clamcoach analyze`` runs (same engine,
same pose model, same segmenting of a long video) and returns everything the caller may
want to keep in a :class:`TaskResult`, or the failure with the exit code and one-line
message ``analyze`` would give. Ray runs it as a task (``clamcoach batch``); the workspace
can call it directly for an upload. The pose model is opened once per process and reset
(a fresh tracker) for every video, so a worker loads the model files once, not per video.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable

from clamcoach.errors import ClamcoachError
from clamcoach.pose.base import PoseEstimator
from clamcoach.protocol import Protocol
from clamcoach.series import FrameSeries

_HASH_CHUNK = 1 << 20


class TaskStatus(str, Enum):
    OK = "ok"
    FAILED = "failed"


@dataclass(frozen=True)
class AnalysisOptions:
    """How to analyse: what ``analyze`` takes as options (the protocol already resolved)."""

    protocol: Protocol
    backend: str = "blazepose"
    max_side: int = 1280
    html: bool = False          # also render the HTML report
    pose_workers: int = 1       # cores for one long video (a batch gives each video one core)


@dataclass
class TaskResult:
    """What one task returns; ``report_json`` is byte for byte what ``analyze --json`` writes."""

    status: TaskStatus
    exit_code: int
    message: str
    seconds: float
    content_sha256: str | None = None
    report: dict[str, Any] | None = None
    report_json: str | None = None
    html: str | None = None
    #: The per-frame measures without landmarks (what the history keeps a thinned copy of).
    series_frames: FrameSeries | None = None  # without landmarks
    worker_pid: int = field(default_factory=os.getpid)
    worker_peak_mb: float = 0.0


_ESTIMATORS: dict[tuple[str, int], PoseEstimator] = {}


def _estimator(backend: str, cores: int) -> PoseEstimator:
    """This process's estimator for ``backend`` on ``cores`` cores, opened on first use."""
    from clamcoach.pose import open_estimator
    from clamcoach.pose.segments import pose_threads

    key = (backend, cores)
    if key not in _ESTIMATORS:
        _ESTIMATORS[key] = open_estimator(backend, threads=pose_threads(cores))
    return _ESTIMATORS[key]


def content_sha256(path: str | os.PathLike[str]) -> str:
    """The file's SHA-256 (hex): the identity of a video for resuming and for the history."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def analyze_one(video: str | os.PathLike[str], options: AnalysisOptions, *,
                progress: Callable[[int, int], None] | None = None) -> TaskResult:
    """Analyse ``video``; never raises for a bad video (the failure is in the result).
    ``progress(done, total)``: frames analysed so far (the workspace's upload bar)."""
    start = time.perf_counter()
    try:
        result = _analyze(Path(video), options, progress)
    except ClamcoachError as exc:
        result = TaskResult(TaskStatus.FAILED, exc.exit_code, str(exc), 0.0)
    except OSError as exc:  # unreadable while hashing: what analyze calls an input error
        result = TaskResult(TaskStatus.FAILED, 4, f"cannot read {video}: {exc.strerror or exc}", 0.0)
    result.seconds = round(time.perf_counter() - start, 3)
    result.worker_peak_mb = _peak_rss_mb()
    return result


def _analyze(path: Path, options: AnalysisOptions,
             progress: Callable[[int, int], None] | None = None) -> TaskResult:
    from clamcoach.jsonio import report_json
    from clamcoach.io.video import check_long_enough, open_video, played_duration_s
    from clamcoach.pipeline import analyze_video

    reader = open_video(path, max_side=options.max_side)  # input errors before hashing
    try:
        check_long_enough(played_duration_s(reader.info))
    finally:
        reader.close()
    sha = content_sha256(path)
    # As `analyze` does (a video recorded sideways is turned), with this process's model.
    analysed = analyze_video(path, options.protocol, reuse=_estimator(options.backend, options.pose_workers),
                             backend=options.backend, max_side=options.max_side, progress=progress,
                             pose_workers=options.pose_workers)
    report = analysed.report()
    # As `analyze` writes it: checked against the protocol's prescription (no patient here).
    from clamcoach.prescription_check import check_prescription, report_fields

    report.update(report_fields(check_prescription(options.protocol, analysed.analysis), None, None))
    html = None
    if options.html:
        from clamcoach.report.html import render_report

        html = render_report(report, analysed.analysis.frames, analysed.analysis.snapshot)
    series = analysed.analysis.frames.without_landmarks()
    return TaskResult(TaskStatus.OK, 0, "ok", 0.0, content_sha256=sha, report=report,
                      report_json=report_json(report), html=html, series_frames=series)


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far (VmHWM), in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
