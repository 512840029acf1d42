from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select

from clamcoach.storage import models as m
from clamcoach.storage import open_store
from tests.storage.pg import pg_url, postgres_server_url  # noqa: F401  (fixtures)

TABLES = (m.Patient, m.Prescription, m.Session, m.Rep, m.Finding, m.SessionSeries)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """Each test that uses this runs on a SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url):
    with open_store(db_url) as s:
        yield s


def row_counts(url: str) -> dict[str, int]:
    """Rows per table, read through a separate engine (what another process would see)."""
    from clamcoach.storage.db import resolve_url

    engine = create_engine(resolve_url(url))
    try:
        with engine.connect() as conn:
            return {t.__tablename__: conn.scalar(select(func.count()).select_from(t)) for t in TABLES}
    finally:
        engine.dispose()
