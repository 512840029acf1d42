"""The local outbox: sessions waiting to be saved to the history, so none is ever lost.

Every save goes through it: the session is first written to the outbox (one JSON file, written
atomically), then every waiting session is saved, each in its own transaction, and its file
removed. If the database cannot be reached (a PostgreSQL server down, a locked disk), the
files stay and the next save (or ``clamcoach history --sync``) saves them.

Exactly once: before saving, the patient's history is checked for a session with the same
recording time and source (a file whose save committed but which a crash left behind is then
only removed), and a lock file keeps two processes from syncing at the same time.

The outbox folder is ``$CLAMCOACH_OUTBOX_DIR``, else ``outbox`` in the user's data folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from clamcoach.errors import StorageError
from clamcoach.io.atomic import write_text_atomic
from clamcoach.jsonio import json_safe
from clamcoach.series import FrameSeries
from clamcoach.storage import records

ENV_DIR = "CLAMCOACH_OUTBOX_DIR"
SCHEMA = "clamcoach.outbox/1"


def outbox_dir() -> Path:
    explicit = os.environ.get(ENV_DIR)
    if explicit:
        return Path(explicit).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("clamcoach")) / "outbox"


@dataclass(frozen=True)
class Pending:
    """One session waiting in the outbox."""

    path: Path
    patient: str
    recorded_at: datetime
    source_name: str | None


@dataclass
class SyncResult:
    saved: list[int] = field(default_factory=list)  # session ids saved by this sync
    already_saved: int = 0  # files whose session a crashed run had saved already
    waiting: int = 0  # still in the outbox
    error: str | None = None  # why the rest could not be saved

    def messages(self) -> list[str]:
        if self.error is None:
            return []
        return [f"the session was not saved to the history ({self.error}); it is kept in the "
                f"outbox ({self.waiting} waiting) and will be saved by the next run or "
                "`clamcoach history --sync`"]


def _series_columns(frames: FrameSeries | None) -> dict[str, list] | None:
    """The per-frame numbers the history keeps (thinned as it thins them), JSON-safe."""
    return None if frames is None else records.thin_series(frames).data


def _series_of(entry: Mapping[str, Any]) -> FrameSeries | None:
    """An entry's series back; an entry of the previous version holds it as a list of rows."""
    data = entry.get("frames")
    if data is None:
        return None
    if isinstance(data, list):
        names = list(data[0]) if data else ["t"]
        data = {name: [row.get(name) for row in data] for name in names}
    return FrameSeries.from_dict(data)


def put(patient: str, report: Mapping[str, Any], frames: FrameSeries | None, *,
        kind: str, video_path: str | None, recorded_at: datetime | None = None,
        directory: Path | None = None) -> Path:
    """Write one session to the outbox (atomically); return its file."""
    folder = directory or outbox_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError(f"cannot create the outbox {folder}: {err.strerror or err}") from err
    when = records.utc(recorded_at)
    entry = {
        "schema": SCHEMA,
        "patient": patient,
        "kind": kind,
        "video_path": video_path,
        "recorded_at": when.isoformat(),
        "report": json_safe(report),
        "frames": _series_columns(frames),
    }
    # The time first, so waiting sessions are saved in the order they were recorded.
    name = f"{when.strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:12]}.json"
    return write_text_atomic(folder / name, json.dumps(entry, allow_nan=False) + "\n")


def pending(directory: Path | None = None) -> list[Path]:
    folder = directory or outbox_dir()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _already_saved(store: Any, entry: Mapping[str, Any], when: datetime) -> bool:
    from clamcoach.storage.repository import UnknownPatient

    try:
        sessions = store.history(entry["patient"])
    except UnknownPatient:
        return False
    name = Path(str((entry["report"].get("source") or {}).get("path") or "")).name or None
    for s in sessions:
        if datetime.fromisoformat(s["recorded_at"]) == when and s.get("source_name") == name \
                and s.get("kind") == entry["kind"]:
            return True
    return False


#: Saves one waiting session with the store, as recorded at the given time; returns its id.
Saver = Callable[[Any, datetime], int]


def sync(url: str | None = None, *, directory: Path | None = None,
         savers: Mapping[Path, Saver] | None = None) -> SyncResult:
    """Save every waiting session, oldest first, each exactly once. A database that cannot
    be reached is not an error here: the result says so and the sessions keep waiting.

    ``savers``: how to save particular entries (by their file) instead of ``save_analysis``,
    e.g. with a prescription check; a saver must save with the time it is given."""
    from clamcoach.storage.repository import open_store

    folder = directory or outbox_dir()
    result = SyncResult()
    if not pending(folder):
        return result
    with _locked(folder):
        files = pending(folder)
        try:
            with open_store(url) as store:
                for path in files:
                    entry = json.loads(path.read_text(encoding="utf-8"))
                    when = datetime.fromisoformat(entry["recorded_at"]).astimezone(timezone.utc)
                    saver = (savers or {}).get(path)
                    if _already_saved(store, entry, when):
                        result.already_saved += 1
                    elif saver is not None:
                        result.saved.append(saver(store, when))
                    else:
                        result.saved.append(store.save_analysis(
                            entry["patient"], entry["report"], _series_of(entry), kind=entry["kind"],
                            video_path=entry["video_path"], recorded_at=when))
                    path.unlink()
        except StorageError as err:
            result.error = str(err)
        result.waiting = len(pending(folder))
    return result


def save_or_keep(patient: str, report: Mapping[str, Any], frames: FrameSeries | None,
                 *, kind: str, video_path: str | None = None, url: str | None = None,
                 directory: Path | None = None, save: Saver | None = None) -> SyncResult:
    """Save one analysis (and anything still waiting) to the history; what cannot be saved
    now stays in the outbox. ``save(store, recorded_at)`` saves this analysis now (default:
    ``store.save_analysis``); a later sync of the kept copy uses ``save_analysis``."""
    entry = put(patient, report, frames, kind=kind, video_path=video_path, directory=directory)
    return sync(url, directory=directory, savers={entry: save} if save is not None else None)
