"""What the pages show, gathered from the store: the therapist's list (last session,
adherence, flags) and one patient's record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clamcoach.accounts.users import patients_of
from clamcoach.protocol import Protocol, load_protocol
from clamcoach.report.progress_plots import PainPoint
from clamcoach.storage import pain, stats
from clamcoach.storage.repository import Store
from clamcoach.web.i18n import N_, Item


@dataclass(frozen=True)
class PatientRow:
    id: int
    name: str
    sessions: int
    last_session: str | None      # ISO time
    adherence: stats.Adherence
    flags: tuple[stats.Flag, ...]


#: What each flag says on the pages (a catalogue id with its number; templates ``say`` it).
FLAG_TEXT = {
    stats.Flag.ROLL_BACK: Item(N_("rolled back in the latest sessions")),
    stats.Flag.PAIN_HIGH: Item(N_("pain {n} or more"), n=stats.PAIN_HIGH),
    stats.Flag.PAIN_RISING: Item(N_("pain up by {n} or more"), n=stats.PAIN_RISE),
}


def flags_of(sessions: list[dict[str, Any]], ratings: list[pain.PainRating]) -> tuple[stats.Flag, ...]:
    return tuple(stats.roll_back_flag(sessions) + stats.pain_flags([r.rating for r in ratings]))


def adherence_of(sessions: list[dict[str, Any]], prescription: dict[str, Any] | None,
                 now: datetime) -> stats.Adherence:
    rx = prescription or {}
    return stats.adherence((datetime.fromisoformat(s["recorded_at"]) for s in sessions),
                           rx.get("sets"), rx.get("sessions_per_week"), now)


def patient_rows(store: Store, therapist_id: int, now: datetime | None = None) -> list[PatientRow]:
    now = now or datetime.now().astimezone()
    rows = []
    for pid, name in patients_of(store, therapist_id):
        sessions = store.history(name)
        rx = store.active_prescription(name)
        rows.append(PatientRow(
            pid, name, len(sessions), sessions[-1]["recorded_at"] if sessions else None,
            adherence_of(sessions, rx, now), flags_of(sessions, pain.ratings(store, pid))))
    return rows


@dataclass(frozen=True)
class PatientRecord:
    id: int
    name: str
    sessions: list[dict[str, Any]]          # Store.history rows, oldest first
    trends: list[dict[str, Any]]
    prescription: dict[str, Any] | None
    versions: list[dict[str, Any]]
    ratings: list[pain.PainRating]
    protocol: Protocol
    adherence: stats.Adherence
    flags: tuple[stats.Flag, ...]

    @property
    def pain_points(self) -> list[PainPoint]:
        return [PainPoint(r.recorded_at, r.rating) for r in self.ratings]

    @property
    def unrated(self) -> list[dict[str, Any]]:
        """Sessions without a pain rating yet, newest first (what the patient is asked about)."""
        rated = {r.session_id for r in self.ratings}
        return [s for s in reversed(self.sessions) if s["id"] not in rated]

    def rating_of(self, session_id: int) -> pain.PainRating | None:
        return next((r for r in reversed(self.ratings) if r.session_id == session_id), None)


def patient_record(store: Store, patient_id: int, now: datetime | None = None) -> PatientRecord:
    name = store.patient_name(patient_id)
    sessions = store.history(name)
    rx = store.active_prescription(name)
    ratings = pain.ratings(store, patient_id)
    return PatientRecord(
        patient_id, name, sessions, store.trends(name), rx, store.prescriptions(name), ratings,
        load_protocol(patch=store.protocol_patch(name)),
        adherence_of(sessions, rx, now or datetime.now().astimezone()), flags_of(sessions, ratings))
