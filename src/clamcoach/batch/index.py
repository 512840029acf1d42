"""The batch's memory between runs: one small record per video in ``DIR/.clamcoach/``.

A record is written (atomically) only after the video's outputs are in place, so a record
that says "ok" always has its ``<id>.json`` beside it. A video is done, and skipped by the
next run, when its record is "ok" for the same content hash, program version and protocol
hash (:class:`ResultKey`) and its outputs exist. One batch at a time may use a folder (a
lock file), so two drivers never write the same outputs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from clamcoach.errors import OutputError, UsageError
from clamcoach.io.atomic import write_text_atomic
from clamcoach.protocol import Protocol
from clamcoach.provenance import PROGRAM, protocol_hash

STATE_DIR = ".clamcoach"
#: The program a result came from: the reports' ``provenance.program``, one source for both.
PROGRAM_VERSION = PROGRAM


#: A hash of everything the protocol says (thresholds, cues, prescription): the reports'
#: ``provenance.protocol_sha256``, the one function. A record keyed with another hash of the
#: same protocol (before the two were one) only fails to match, so its video is analysed again.
protocol_sha256 = protocol_hash


@dataclass(frozen=True, slots=True)
class ResultKey:
    """What makes a result reusable, and a history save the same save."""

    content_sha256: str
    program_version: str
    protocol_sha256: str


@dataclass
class VideoRecord:
    """One video's outcome, as ``batch.json`` lists it."""

    id: str
    path: str
    status: str                      # "ok" | "failed"
    exit_code: int
    message: str
    seconds: float
    patient: str | None = None
    reps: int | None = None
    clean_reps: int | None = None
    findings: dict[str, int] = field(default_factory=dict)
    key: ResultKey | None = None
    outputs: list[str] = field(default_factory=list)
    history_session: int | None = None
    finished_at: str = ""
    worker_pid: int | None = None          # the process that analysed it (and its peak memory)
    worker_peak_mb: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoRecord:
        key = data.get("key")
        return cls(**{**data, "key": ResultKey(**key) if key else None})


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ResultIndex:
    """The records of one output folder."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.state_dir = self.out_dir / STATE_DIR

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock for the whole batch (released if the process dies)."""
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            handle = open(self.state_dir / "lock", "a+")
        except OSError as err:
            raise OutputError(f"cannot write to {self.out_dir}: {err.strerror or err}") from err
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UsageError(f"another batch is writing to {self.out_dir}") from None
            self._remove_stale_temporaries()
            yield

    def _remove_stale_temporaries(self) -> None:
        """A driver killed in the middle of an atomic write leaves its temporary file (never a
        half-written result); with the lock held no one else is writing, so they can go."""
        for folder in (self.out_dir, self.state_dir):
            for stale in folder.glob(".*.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()

    def _path(self, video_id: str) -> Path:
        return self.state_dir / f"{video_id}.json"

    def load(self, video_id: str) -> VideoRecord | None:
        try:
            return VideoRecord.from_dict(json.loads(self._path(video_id).read_text("utf-8")))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError, OSError):
            return None  # unreadable: treated as not done, the video is analysed again

    def save(self, record: VideoRecord) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)  # atomic writes never make folders
        write_text_atomic(self._path(record.id), json.dumps(record.to_dict(), indent=1) + "\n")

    def is_done(self, record: VideoRecord | None, key: ResultKey, outputs: list[str]) -> bool:
        """Is ``record`` an "ok" result for ``key`` with every one of ``outputs`` in place?"""
        return (record is not None and record.status == "ok" and record.key == key
                and set(outputs) <= set(record.outputs)
                and all((self.out_dir / name).is_file() for name in outputs))

    def write_summary(self, summary: dict[str, Any]) -> Path:
        path = self.out_dir / "batch.json"
        write_text_atomic(path, json.dumps(summary, indent=1) + "\n")
        return path
