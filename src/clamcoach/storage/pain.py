"""Pain ratings: 0-10 on the numeric rating scale, with a note, after a set or an upload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from clamcoach.errors import UsageError
from clamcoach.storage import models as m
from clamcoach.storage.records import from_db_time, utc
from clamcoach.storage.repository import Store, UnknownPatient

MAX_NOTE = 2000


@dataclass(frozen=True)
class PainRating:
    recorded_at: datetime
    rating: int
    note: str | None
    session_id: int | None


def check_rating(rating: object) -> int:
    try:
        value = int(str(rating).strip())
    except ValueError:
        raise UsageError(f"a pain rating is a whole number from 0 to 10, got {rating!r}") from None
    if not 0 <= value <= 10:
        raise UsageError(f"a pain rating is a whole number from 0 to 10, got {value}")
    return value


def check_note(note: str | None) -> str | None:
    text = (note or "").strip() or None
    if text is not None and len(text) > MAX_NOTE:
        raise UsageError(f"a note has at most {MAX_NOTE} characters")
    return text


def add_rating(store: Store, patient_id: int, rating: object, note: str | None = None, *,
               session_id: int | None = None, when: datetime | None = None,
               replace: bool = False) -> int:
    """Store a rating (with ``session_id``: about that session). ``replace``: a rating the
    session already has is corrected instead of a second one added (it keeps its time, so
    the ratings stay in the order the sets were done)."""
    value = check_rating(rating)
    text = check_note(note)
    with store.transaction(write=True) as s:
        if s.get(m.Patient, patient_id) is None:
            raise UnknownPatient(f"no patient number {patient_id} in the history")
        if session_id is not None:
            sess = s.get(m.Session, session_id)
            if sess is None or sess.patient_id != patient_id:
                raise UsageError(f"session {session_id} is not this patient's")
        row = None
        if replace and session_id is not None:
            row = s.scalars(select(m.PainRating).where(m.PainRating.session_id == session_id)
                            .order_by(m.PainRating.id.desc()).limit(1)).first()
        if row is None:
            row = m.PainRating(patient_id=patient_id, session_id=session_id, recorded_at=utc(when))
            s.add(row)
        row.rating, row.note = value, text
        s.flush()
        return row.id


def ratings(store: Store, patient_id: int) -> list[PainRating]:
    """Oldest first."""
    with store.transaction() as s:
        rows = s.scalars(select(m.PainRating).where(m.PainRating.patient_id == patient_id)
                         .order_by(m.PainRating.recorded_at, m.PainRating.id))
        return [PainRating(from_db_time(r.recorded_at), r.rating, r.note, r.session_id)
                for r in rows]
