"""The history database: patients, prescriptions, sessions, reps and findings.

SQLite in the user's data folder by default, PostgreSQL when ``CLAMCOACH_DATABASE_URL`` (or
the ``url`` argument) says so; the schema is migrated with Alembic when a store opens.
Needs the ``storage`` extra (SQLAlchemy, Alembic, platformdirs, psycopg).
"""

from __future__ import annotations

from clamcoach.storage.prescription import protocol_patch
from clamcoach.storage.repository import HISTORY_SCHEMA, Store, UnknownPatient, open_store

__all__ = ["HISTORY_SCHEMA", "Store", "UnknownPatient", "open_store", "protocol_patch"]
