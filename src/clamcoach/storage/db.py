"""Where the history lives and how to connect: URL choice, engine set-up, migrations.

SQLite (the default, one file in the user's data folder) runs in WAL mode with a busy
timeout, and every write transaction starts with ``BEGIN IMMEDIATE`` so two processes that
save at once queue up instead of failing. PostgreSQL is used when a URL says so (argument or
``CLAMCOACH_DATABASE_URL``). The schema is brought to the newest Alembic revision on open.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from clamcoach.errors import OptionalDependencyMissing, StorageError

ENV_URL = "CLAMCOACH_DATABASE_URL"
MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_S = 30.0
# Any constant works: it only has to be the same in every process migrating one database.
_PG_MIGRATION_LOCK = 0x636C616D


def default_url() -> str:
    """The SQLite file in the user's data folder (created on first use)."""
    try:
        from platformdirs import user_data_dir
    except ImportError as exc:
        raise OptionalDependencyMissing(
            "the history needs platformdirs: pip install 'clamcoach[storage]'"
        ) from exc
    return f"sqlite:///{Path(user_data_dir('clamcoach')) / 'history.sqlite'}"


def resolve_url(url: str | os.PathLike[str] | None = None) -> str:
    """``url``, else $CLAMCOACH_DATABASE_URL, else the default file. A bare path is SQLite;
    ``postgresql://`` gets the psycopg (3) driver, the one clamcoach depends on."""
    text = os.fspath(url) if url is not None else os.environ.get(ENV_URL) or default_url()
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix):]
    return text


def create(url: str) -> tuple[Engine, Engine]:
    """A (read, write) engine pair over one pool; on SQLite the write one begins IMMEDIATE."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"not a database URL: {url!r}") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except ImportError as exc:
        raise OptionalDependencyMissing(
            f"no driver for {parsed.drivername}: pip install 'clamcoach[storage]' ({exc})"
        ) from exc
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open the history database: {exc}") from exc
    return engine, engine.execution_options(sqlite_begin="IMMEDIATE")


def _sqlite_engine(parsed) -> Engine:
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the folder for {database}: {exc}") from exc
    # isolation_level=None: the driver must not open transactions itself, so BEGIN below
    # is the only one and covers DDL too (the pysqlite default would not).
    engine = create_engine(
        parsed, connect_args={"timeout": BUSY_TIMEOUT_S, "isolation_level": None}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        _enable_wal(cur)
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a crash loses no committed data
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _enable_wal(cur) -> None:
    """Switch a SQLite database to WAL (it stays so). Two processes opening a fresh database
    at once can get "database is locked" here at once, without SQLite's busy handler being
    asked (a lock upgrade that would deadlock): retry until the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.01
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def alembic_config(connection=None):
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def migrate(write_engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema in place to ``revision``, in one transaction, one process at a time."""
    from alembic import command

    try:
        with write_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Serialise concurrent first opens: DDL races would fail otherwise.
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            command.upgrade(alembic_config(conn), revision)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot bring the history database up to date: {exc}") from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
