"""Two processes save at once (and first open the fresh database at once)."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pytest

from clamcoach.storage import open_store
from clamcoach.storage.db import _enable_wal
from tests.storage.conftest import row_counts
from tests.storage.workers import save_many

N = 20


def test_two_processes_save_20_sessions_each(db_url):
    ctx = mp.get_context("spawn")  # a clean interpreter, as two real clamcoach runs would be
    barrier, done = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=save_many, args=(db_url, who, N, barrier, done)) for who in (1, 2)]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join(timeout=300)
        assert [p.exitcode for p in procs] == [0, 0]
        assert sorted(done.get(timeout=5) for _ in procs) == [(1, N), (2, N)]
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        done.close()
    counts = row_counts(db_url)
    assert counts["sessions"] == 2 * N
    assert counts["patients"] == 1  # both created "shared": one row
    assert counts["reps"] == 2 * N * 5
    with open_store(db_url) as store:
        assert len(store.history("shared")) == 2 * N


def test_one_store_shared_by_threads(db_url):
    """The web app shares one store between request threads."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.report.samples import make_report

    with open_store(db_url) as store:
        def work(k: int) -> int:
            for _ in range(5):
                store.save_analysis(f"p{k % 2}", make_report())
                store.history(f"p{k % 2}")
            return k

        with ThreadPoolExecutor(4) as pool:
            assert sorted(pool.map(work, range(4))) == [0, 1, 2, 3]
        assert [p["sessions"] for p in store.patients()] == [10, 10]


def test_switching_to_wal_waits_out_a_momentary_lock():
    """Seen in CI: the second of two processes opening a fresh database got "database is
    locked" from the WAL pragma at once (SQLite did not wait). It must retry, and only that."""
    class Cursor:
        def __init__(self, failures: list[str]) -> None:
            self.failures, self.calls = failures, 0

        def execute(self, sql: str) -> None:
            assert sql == "PRAGMA journal_mode=WAL"
            self.calls += 1
            if self.failures:
                raise sqlite3.OperationalError(self.failures.pop(0))

    cur = Cursor(["database is locked", "database is locked"])
    _enable_wal(cur)
    assert cur.calls == 3
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _enable_wal(Cursor(["disk I/O error"]))
