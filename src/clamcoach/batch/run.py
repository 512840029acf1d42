"""A whole batch: read the input, skip what is done, run the rest on Ray, keep every result.

The driver (this module) is the only writer of the output folder and of the history: a
task returns its result, the driver writes ``<id>.json`` (and ``<id>.html``) atomically,
saves to the patient's history once, then writes the video's record. ``batch.json``, the
summary, is rewritten atomically every few seconds and at the end, so a killed batch leaves
the last complete one; the next run rebuilds it from the records.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clamcoach.batch.index import (
    PROGRAM_VERSION,
    ResultIndex,
    ResultKey,
    VideoRecord,
    now_iso,
    protocol_sha256,
)
from clamcoach.batch.jobs import VideoJob, read_jobs
from clamcoach.batch.progress import Progress
from clamcoach.batch.task import AnalysisOptions, TaskResult, TaskStatus, content_sha256
from clamcoach.errors import ClamcoachError, OutputError
from clamcoach.io.atomic import write_text_atomic
from clamcoach.protocol import Protocol, load_protocol

SUMMARY_SCHEMA = "clamcoach.batch/1"
SUMMARY_EVERY_S = 5.0
#: What ``clamcoach batch`` returns when it finished but some videos failed (see README).
SOME_FAILED_EXIT = 14


@dataclass(frozen=True)
class BatchOptions:
    source: Path
    out_dir: Path
    workers: int | None = None
    address: str | None = None
    patient_map: Path | None = None
    report: bool = False
    force: bool = False
    protocol_file: Path | None = None
    overrides: tuple[str, ...] = ()
    backend: str = "blazepose"
    max_side: int = 1280
    quiet: bool = False
    progress_bar: bool | None = None  # None: a bar only on a terminal


@dataclass
class BatchOutcome:
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    interrupted: bool = False
    error: str | None = None  # what stopped the whole batch, if anything did
    summary_path: Path | None = None
    records: dict[str, VideoRecord] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return SOME_FAILED_EXIT if self.failed else 0


class _Protocols:
    """The protocol of each patient (their prescription applied), looked up once."""

    def __init__(self, opts: BatchOptions, store: Any) -> None:
        self._opts = opts
        self._store = store
        self._cache: dict[str | None, Protocol] = {}

    def __call__(self, patient: str | None) -> Protocol:
        if patient not in self._cache:
            patch = self._store.protocol_patch(patient) if patient and self._store is not None else None
            self._cache[patient] = load_protocol(self._opts.protocol_file, self._opts.overrides, patch=patch)
        return self._cache[patient]


def run_batch(opts: BatchOptions) -> BatchOutcome:
    jobs = read_jobs(opts.source, patient_map=opts.patient_map)
    try:
        opts.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create --out {opts.out_dir}: {err.strerror or err}") from err
    index = ResultIndex(opts.out_dir)
    with index.locked():
        store = _open_store() if any(job.patient for job in jobs) else None
        try:
            return _Batch(opts, jobs, index, store).run()
        finally:
            if store is not None:
                store.close()


def _open_store() -> Any:
    try:
        from clamcoach.storage import open_store
    except ImportError as exc:
        from clamcoach.errors import OptionalDependencyMissing

        raise OptionalDependencyMissing(
            f"saving to a patient's history needs the 'storage' extra: pip install 'clamcoach[storage]' ({exc.name} is missing)"
        ) from exc
    return open_store()


class _Batch:
    def __init__(self, opts: BatchOptions, jobs: list[VideoJob], index: ResultIndex, store: Any) -> None:
        self.opts = opts
        self.jobs = jobs
        self.index = index
        self.store = store
        self.protocols = _Protocols(opts, store)
        self.outcome = BatchOutcome()
        self.started_at = now_iso()
        self.ray_info: dict[str, Any] = {"address": opts.address or "local", "workers": None, "start_s": None,
                                         "analysis_s": None}
        self._last_summary = 0.0
        self._reused_ids: set[str] = set()

    def outputs(self, job: VideoJob) -> list[str]:
        return [f"{job.id}.json"] + ([f"{job.id}.html"] if self.opts.report else [])

    def run(self) -> BatchOutcome:
        todo = [job for job in self.jobs if not self._already_done(job)]
        progress = Progress(len(todo), skipped=self.outcome.skipped, bar=self.opts.progress_bar,
                            quiet=self.opts.quiet)
        try:
            if todo:
                self._analyse(todo, progress)
        except KeyboardInterrupt:
            self.outcome.interrupted = True
            raise
        except ClamcoachError as exc:  # Ray could not start, the folder is not writable ...
            self.outcome.error = str(exc)
            raise
        finally:
            progress.close()
            self.outcome.summary_path = self._write_summary(final=True)
        return self.outcome

    def _already_done(self, job: VideoJob) -> bool:
        previous = self.index.load(job.id)
        if previous is None or self.opts.force or previous.status != "ok" or not job.path.is_file():
            return False
        try:
            key = self._key(content_sha256(job.path), job.patient)
        except OSError:
            return False
        if not self.index.is_done(previous, key, self.outputs(job)) or previous.patient != job.patient:
            return False
        self.outcome.skipped += 1
        self.outcome.records[job.id] = previous
        self._reused_ids.add(job.id)
        return True

    def _key(self, sha: str, patient: str | None) -> ResultKey:
        return ResultKey(sha, PROGRAM_VERSION, protocol_sha256(self.protocols(patient)))

    def _analyse(self, todo: list[VideoJob], progress: Progress) -> None:
        from clamcoach.batch.ray_driver import RayCluster, Submitted

        t0 = time.perf_counter()
        with RayCluster(workers=self.opts.workers, address=self.opts.address) as cluster:
            self.ray_info.update(workers=cluster.workers, start_s=round(time.perf_counter() - t0, 2))
            progress.start_line(cluster.workers, self.opts.address or "this machine", self.ray_info["start_s"])
            items = (Submitted(job, job.path, self._options(job)) for job in todo)
            results = cluster.run(items)
            t1 = time.perf_counter()
            try:
                for item, result in results:
                    record = self._keep(item.token, result)
                    self.outcome.records[record.id] = record
                    progress.update(record)
                    self.ray_info["analysis_s"] = round(time.perf_counter() - t1, 2)
                    self._write_summary()
            finally:
                results.close()

    def _options(self, job: VideoJob) -> AnalysisOptions:
        return AnalysisOptions(self.protocols(job.patient), backend=self.opts.backend,
                               max_side=self.opts.max_side, html=self.opts.report)

    def _keep(self, job: VideoJob, result: TaskResult) -> VideoRecord:
        """Write the outputs, save to the history, then the record (in that order)."""
        record = VideoRecord(job.id, str(job.path), result.status.value, result.exit_code, result.message,
                             result.seconds, patient=job.patient, finished_at=now_iso(),
                             worker_pid=result.worker_pid, worker_peak_mb=round(result.worker_peak_mb, 1))
        if result.status is TaskStatus.FAILED:
            self.outcome.failed += 1
            self.index.save(record)
            return record
        assert result.report is not None and result.report_json is not None and result.content_sha256
        summary = result.report.get("summary") or {}
        record.reps, record.clean_reps = summary.get("reps"), summary.get("clean_reps")
        record.findings = dict(Counter(summary.get("findings") or {}))
        record.key = self._key(result.content_sha256, job.patient)
        try:
            write_text_atomic(self.opts.out_dir / f"{job.id}.json", result.report_json)
            if result.html is not None:
                write_text_atomic(self.opts.out_dir / f"{job.id}.html", result.html)
            record.outputs = self.outputs(job)
            if job.patient:
                record.history_session = self._save_history(job, record.key, result)
        except ClamcoachError as exc:  # an output or the history failed: this video fails alone
            record.status, record.exit_code, record.message = "failed", exc.exit_code, str(exc)
            self.outcome.failed += 1
            self.index.save(record)
            return record
        self.outcome.ok += 1
        self.index.save(record)
        return record

    def _save_history(self, job: VideoJob, key: ResultKey, result: TaskResult) -> int:
        from clamcoach.batch.history import save_once

        assert job.patient is not None and result.report is not None
        return save_once(self.store, self.index, job.id, job.patient, key, result.report, result.series_frames)

    def _write_summary(self, *, final: bool = False) -> Path | None:
        now = time.monotonic()
        if not final and now - self._last_summary < SUMMARY_EVERY_S:
            return None
        self._last_summary = now
        videos = []
        for job in self.jobs:
            record = self.outcome.records.get(job.id)
            if record is None:
                videos.append({"id": job.id, "path": str(job.path), "patient": job.patient, "status": "pending"})
            else:
                videos.append({**record.to_dict(), "reused": job.id in self._reused_ids})
        counts = Counter(v["status"] for v in videos)
        summary = {
            "schema": SUMMARY_SCHEMA,
            "program_version": PROGRAM_VERSION,
            "input": str(self.opts.source),
            "state": self._state(final),
            "error": self.outcome.error,
            "started_at": self.started_at,
            "finished_at": now_iso() if final else None,
            "ray": self.ray_info,
            "counts": {"videos": len(self.jobs), "ok": counts["ok"], "failed": counts["failed"],
                       "pending": counts["pending"], "reused": self.outcome.skipped},
            "videos": videos,
        }
        return self.index.write_summary(summary)

    def _state(self, final: bool) -> str:
        if self.outcome.interrupted:
            return "interrupted"
        if self.outcome.error is not None:
            return "stopped"
        return "finished" if final else "running"
