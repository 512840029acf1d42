"""Save a batch result to a patient's history exactly once, whatever is retried or killed.

The store's save is one transaction, but a driver can die after the commit and before it
records that the save happened. So before saving, an *intent* is written beside the
video's record: the result key, the patient and the ``recorded_at`` time the session will
carry. A later attempt with the same intent looks for that session (same patient, same
time to the microsecond, same file name) before saving: found, it is the earlier save.
One driver per output folder (the index's lock) means no two attempts run at once.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol as TypingProtocol

from clamcoach.batch.index import ResultIndex, ResultKey
from clamcoach.io.atomic import write_text_atomic


class HistoryStore(TypingProtocol):
    """The part of :class:`clamcoach.storage.Store` this needs."""

    def save_analysis(self, patient: str, report: Any, frames: Any = None, *, kind: str = ...,
                      video_path: str | None = ..., recorded_at: datetime | None = ...) -> int: ...

    def history(self, patient: str) -> list[dict[str, Any]]: ...


def _intent_path(index: ResultIndex, video_id: str) -> Path:
    return index.state_dir / f"{video_id}.history.json"


def save_once(store: HistoryStore, index: ResultIndex, video_id: str, patient: str, key: ResultKey,
              report: dict[str, Any], frames: list[dict[str, Any]] | None) -> int:
    """The history session id of this (video, patient, key): the earlier save's, or a new one."""
    intent_file = _intent_path(index, video_id)
    intent = _read_intent(intent_file)
    if intent is not None and intent["patient"] == patient and intent["key"] == asdict(key):
        when = datetime.fromisoformat(intent["recorded_at"])
        earlier = _find_session(store, patient, when, _source_name(report))
        if earlier is not None:
            return earlier
    else:
        when = datetime.now(timezone.utc)
        Path(intent_file).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(intent_file, json.dumps(
            {"patient": patient, "key": asdict(key), "recorded_at": when.isoformat()}) + "\n")
    return store.save_analysis(patient, report, frames, kind="analyze", recorded_at=when)


def _read_intent(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) and {"patient", "key", "recorded_at"} <= set(data) else None


def _find_session(store: HistoryStore, patient: str, when: datetime, source_name: str | None) -> int | None:
    from clamcoach.storage import UnknownPatient

    try:
        sessions = store.history(patient)
    except UnknownPatient:
        return None
    for sess in sessions:
        if datetime.fromisoformat(sess["recorded_at"]) == when and sess.get("source_name") == source_name:
            return int(sess["id"])
    return None


def _source_name(report: dict[str, Any]) -> str | None:
    path = (report.get("source") or {}).get("path")
    return Path(str(path)).name if path else None
