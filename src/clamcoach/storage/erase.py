"""Erasing a patient: every row about them, the audit entries about their data, and the
files the workspace kept for them, in one transaction; a tombstone entry remains (who
erased patient number N, when, and how much), without the name."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlalchemy import func, select

from clamcoach.storage import models as m
from clamcoach.storage.audit import AuditAction, add_entry
from clamcoach.storage.repository import Store, UnknownPatient, delete_patient_rows

log = logging.getLogger(__name__)


def erase_patient(store: Store, patient_id: int, *, actor: str, actor_role: str,
                  files: Path | None = None) -> str:
    """Erase patient ``patient_id``; returns the tombstone's text. ``files``: the folder of
    files kept for this patient (removed after the rows are gone)."""
    with store.transaction(write=True) as s:
        patient = s.get(m.Patient, patient_id)
        if patient is None:
            raise UnknownPatient(f"no patient number {patient_id} in the history")
        sessions = s.scalar(select(func.count(m.Session.id))
                            .where(m.Session.patient_id == patient_id)) or 0
        delete_patient_rows(s, patient_id)
        s.execute(m.AuditEntry.__table__.delete().where(m.AuditEntry.patient_id == patient_id))
        tombstone = f"patient record erased ({sessions} session{'s' if sessions != 1 else ''})"
        add_entry(s, actor, actor_role, AuditAction.ERASE, patient_id, tombstone)
    if files is not None and files.exists():
        try:
            shutil.rmtree(files)
        except OSError as exc:  # the rows are gone; say what is left on disk
            log.error("patient %s erased, but %s could not be removed: %s", patient_id, files, exc)
            raise
    return tombstone
