"""The audit log: who read or changed which patient's data, and when.

Entries are written in the same transaction as the change they describe (``add_entry``), or
on their own for reads (``record``). An erased patient's entries about their data are
deleted with it; the erasure itself stays as a tombstone (no name, only the number).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session as OrmSession

from clamcoach.storage import models as m
from clamcoach.storage.records import from_db_time, utc
from clamcoach.storage.repository import Store


class AuditAction(str, Enum):
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    LIST_PATIENTS = "list_patients"
    ADD_PATIENT = "add_patient"
    VIEW_PATIENT = "view_patient"
    VIEW_SESSION = "view_session"
    PRESCRIBE = "prescribe"
    UPLOAD = "upload"
    LIVE_SET = "live_set"
    RATE_PAIN = "rate_pain"
    VIEW_SHEET = "view_sheet"
    EXPORT = "export"
    VIEW_AUDIT = "view_audit"
    ERASE = "erase"


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    actor_role: str
    action: AuditAction
    patient_id: int | None
    detail: str | None


def add_entry(s: OrmSession, actor: str, actor_role: str, action: AuditAction,
              patient_id: int | None, detail: str | None = None) -> None:
    s.add(m.AuditEntry(at=utc(None), actor=actor, actor_role=actor_role, action=action.value,
                       patient_id=patient_id, detail=detail))


def record(store: Store, actor: str, actor_role: str, action: AuditAction,
           patient_id: int | None, detail: str | None = None) -> None:
    with store.transaction(write=True) as s:
        add_entry(s, actor, actor_role, action, patient_id, detail)


def entries(store: Store, *, patient_ids: Iterable[int] = (), actor: str | None = None,
            limit: int = 500) -> list[AuditRow]:
    """Newest first: entries about any of ``patient_ids``, and (with ``actor``) everything
    that user did."""
    ids = list(patient_ids)
    conditions = []
    if ids:
        conditions.append(m.AuditEntry.patient_id.in_(ids))
    if actor:
        conditions.append(m.AuditEntry.actor == actor)
    if not conditions:
        return []
    with store.transaction() as s:
        rows = s.scalars(select(m.AuditEntry).where(or_(*conditions))
                         .order_by(m.AuditEntry.at.desc(), m.AuditEntry.id.desc()).limit(limit))
        return [AuditRow(from_db_time(r.at), r.actor, r.actor_role, AuditAction(r.action),
                         r.patient_id, r.detail) for r in rows]
