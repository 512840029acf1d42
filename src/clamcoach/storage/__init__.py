"""The history database: patients, prescriptions, sessions, reps and findings.

SQLite in the user's data folder by default, PostgreSQL when ``CLAMCOACH_DATABASE_URL`` (or
the ``url`` argument) says so; the schema is migrated with Alembic when a store opens.
Needs the ``storage`` extra (SQLAlchemy, Alembic, platformdirs, psycopg).
"""

from __future__ import annotations

from pathlib import Path

from clamcoach.protocol import Protocol, load_protocol
from clamcoach.storage.prescription import protocol_patch
from clamcoach.storage.repository import HISTORY_SCHEMA, Store, UnknownPatient, open_store

__all__ = ["HISTORY_SCHEMA", "Store", "UnknownPatient", "open_store", "prescribed_protocol", "protocol_patch"]


def prescribed_protocol(file: str | Path | None, overrides: list[str], patient: str | None) -> Protocol:
    """The protocol for a run: defaults, then the patient's active prescription (if any), then
    the run's own file and ``--set`` overrides, which win."""
    patch = None
    if patient:
        with open_store() as store:
            patch = store.protocol_patch(patient)
    return load_protocol(file, overrides, patch=patch)
