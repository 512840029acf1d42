"""PostgreSQL for the tests: the server from $CLAMCOACH_TEST_POSTGRES_URL, or a throwaway
one started with scripts/setup-postgres.sh for this test session; one fresh database per test.

PostgreSQL tests must run in CI, so a server that cannot start is a failure, not a skip.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "setup-postgres.sh"
ENV = "CLAMCOACH_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_server_url():
    given = os.environ.get(ENV)
    if given:
        yield given
        return
    # In /tmp, not pytest's tmp_path: the postgres user must be able to reach the folder.
    folder = tempfile.mkdtemp(prefix="clamcoach-pg-test-")
    env = dict(os.environ, CLAMCOACH_PG_DIR=folder)
    try:
        done = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True,
                              text=True, timeout=900, check=False)
        if done.returncode != 0 or not done.stdout.strip():
            pytest.fail(f"could not start PostgreSQL with {SCRIPT}:\n{done.stderr[-3000:]}")
        yield done.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=120,
                       check=False)


def _admin(url: str):
    import psycopg

    u = make_url(url)
    return psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                           dbname=u.database or "postgres", autocommit=True)


@pytest.fixture
def pg_url(postgres_server_url):
    """A URL to a new empty database, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with _admin(postgres_server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    with _admin(postgres_server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
