"""Saving one analysed set to a patient, checked against their prescription: the one way
``clamcoach analyze --patient`` and the workspace's uploads save (so both say the same)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import make_url

from clamcoach.prescription_check import PrescriptionCheck, check_prescription, report_fields
from clamcoach.analysis import Analysis
from clamcoach.protocol import Protocol
from clamcoach.series import FrameSeries
from clamcoach.storage.repository import Store


@dataclass(frozen=True)
class SavedSet:
    session_id: int
    patient: str
    check: PrescriptionCheck
    prescription: dict[str, Any] | None
    database: str             # where it was saved (a URL without its password)

    def where(self) -> str:
        return f"Saved to {self.patient}'s history as session {self.session_id} ({self.database})."


def sets_today(store: Store, patient: str, now: datetime | None = None) -> int:
    """Sessions of ``patient`` saved since this machine's local midnight."""
    now = (now or datetime.now().astimezone()).astimezone()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return store.sessions_on(patient, midnight, midnight + timedelta(days=1))


def save_set(store: Store, patient: str, protocol: Protocol, analysis: Analysis,
             report: dict[str, Any], frames: FrameSeries | None, *,
             kind: str = "analyze", video_path: str | None = None,
             recorded_at: datetime | None = None) -> SavedSet:
    """Check the set against ``protocol`` (the patient's prescribed protocol), add the check to
    ``report`` (in place) and save it as a session of ``patient``."""
    prescription = store.active_prescription(patient)
    check = check_prescription(protocol, analysis, sets_done=sets_today(store, patient) + 1)
    report.update(report_fields(check, patient, prescription))
    sid = store.save_analysis(patient, report, frames, kind=kind, video_path=video_path,
                              recorded_at=recorded_at)
    database = make_url(store.url).render_as_string(hide_password=True)
    report["saved"] = {"patient": patient, "session_id": sid, "database": database}
    return SavedSet(sid, patient, check, prescription, database)
