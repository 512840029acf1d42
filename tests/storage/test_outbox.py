"""History that loses nothing: the local outbox, kill -9 during a save, PostgreSQL stopped
in the middle of an analysis (real processes, real SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from clamcoach.storage import open_store, outbox
from clamcoach.storage.db import resolve_url
from tests.report.samples import make_frames as sample_frames
from tests.report.samples import make_report
from tests.storage.conftest import row_counts

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "setup-postgres.sh"
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/clamcoach?connect_timeout=2"


def test_unreachable_database_keeps_the_session_then_saves_it_once(tmp_path, db_url):
    box = tmp_path / "outbox"
    report = make_report("/videos/ann/monday.mp4")
    kept = outbox.save_or_keep("ann", report, sample_frames(), kind="analyze", url=UNREACHABLE,
                               directory=box)
    assert kept.error and kept.waiting == 1 and kept.saved == []
    assert "kept in the outbox (1 waiting)" in kept.messages()[0]
    second = outbox.save_or_keep("ann", make_report("/videos/ann/tuesday.mp4"), None,
                                 kind="analyze", url=UNREACHABLE, directory=box)
    assert second.waiting == 2
    done = outbox.sync(db_url, directory=box)
    assert (len(done.saved), done.already_saved, done.waiting, done.error) == (2, 0, 0, None)
    assert outbox.sync(db_url, directory=box).saved == []  # nothing twice
    with open_store(db_url) as store:
        sessions = store.history("ann")
        assert [s["source_name"] for s in sessions] == ["monday.mp4", "tuesday.mp4"]
        assert store.session(sessions[0]["id"])["series"] is not None
    assert row_counts(db_url)["sessions"] == 2


def test_a_caller_may_save_its_own_way_with_the_recorded_time(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    report = make_report()
    calls = []

    def save(store, when):
        calls.append(when)
        return store.save_analysis("ann", {**report, "warnings": ["checked"]}, recorded_at=when)

    done = outbox.save_or_keep("ann", report, None, kind="analyze", url=url,
                               directory=tmp_path / "outbox", save=save)
    assert len(done.saved) == 1 and done.waiting == 0 and len(calls) == 1
    with open_store(url) as store:
        session = store.session(done.saved[0])
    assert session["warnings"] == ["checked"]
    assert session["recorded_at"] == calls[0].isoformat()


def test_a_session_saved_before_a_crash_is_not_saved_again(tmp_path):
    """The save committed, then the process died before removing the outbox file."""
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    box = tmp_path / "outbox"
    entry = outbox.put("ann", make_report(), None, kind="analyze", video_path=None, directory=box)
    data = json.loads(entry.read_text())
    from datetime import datetime

    with open_store(url) as store:
        store.save_analysis("ann", data["report"], kind="analyze",
                            recorded_at=datetime.fromisoformat(data["recorded_at"]))
    done = outbox.sync(url, directory=box)
    assert (done.saved, done.already_saved, done.waiting) == ([], 1, 0)
    assert row_counts(url)["sessions"] == 1


KILLER = """
import sys, time
sys.path.insert(0, {root!r})
from clamcoach.storage import open_store
from tests.report.samples import make_frames as frames, make_report
with open_store({url!r}) as store:
    print("open", flush=True)
    i = 0
    while True:
        store.save_analysis("ann", make_report(f"/v/{{i}}.mp4"), frames())
        i += 1
"""


@pytest.mark.slow
def test_kill_9_during_saves_leaves_whole_sessions_only(db_url, tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(KILLER.format(root=str(ROOT), url=db_url))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    rng = random.Random(14)
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
        time.sleep(rng.uniform(0.2, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    counts = row_counts(db_url)
    reps_per_session = len(make_report()["reps"])
    assert counts["sessions"] >= 1
    assert counts["reps"] == reps_per_session * counts["sessions"]  # no half-saved session
    assert counts["session_series"] == counts["sessions"]
    with open_store(db_url) as store:
        for s in store.history("ann"):
            assert s["reps"] == reps_per_session


# --- PostgreSQL stopped while `clamcoach analyze --patient` runs --------------------------


def _pg(cmd: str, folder: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), cmd], env={**os.environ, "CLAMCOACH_PG_DIR": folder},
                          capture_output=True, text=True, timeout=600, check=False)


def _pg_ctl_stop(folder: str) -> None:
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    cmd = [str(bindir / "pg_ctl"), "stop", "-D", f"{folder}/data", "-m", "immediate", "-w"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, capture_output=True, timeout=60, check=True)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_stopped_mid_run_loses_nothing(tmp_path, demo_clip):
    folder = tempfile.mkdtemp(prefix="clamcoach-pg-outbox-")  # reachable by the postgres user
    try:
        started = _pg("start", folder)
        assert started.returncode == 0, started.stderr[-2000:]
        url = started.stdout.strip().splitlines()[-1]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CLAMCOACH_DATABASE_URL": url,
               "CLAMCOACH_OUTBOX_DIR": str(tmp_path / "outbox")}
        out = tmp_path / "a.json"
        proc = subprocess.Popen([sys.executable, "-m", "clamcoach.cli", "analyze", str(demo_clip),
                                 "--patient", "ann", "--json", str(out), "--quiet"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.5)  # the prescription has been read; the analysis is under way
        assert proc.poll() is None
        _pg_ctl_stop(folder)
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        assert json.loads(out.read_text())["summary"]["reps"] == 5  # the outputs are written
        assert "not saved to the history" in stderr and "(1 waiting)" in stderr
        assert len(outbox.pending(tmp_path / "outbox")) == 1

        restarted = _pg("start", folder)  # the same data, maybe another port
        assert restarted.returncode == 0, restarted.stderr[-2000:]
        url = restarted.stdout.strip().splitlines()[-1]
        for _ in range(2):  # the second sync finds nothing left to do
            sync = subprocess.run([sys.executable, "-m", "clamcoach.cli", "history", "--sync", "--db", url],
                                  env=env, capture_output=True, text=True, timeout=120, check=False)
            assert sync.returncode == 0, sync.stderr
        assert "outbox: 0 saved, 0 already saved, 0 waiting" in sync.stdout
        engine = create_engine(resolve_url(url))
        try:
            with engine.connect() as conn:
                assert conn.scalar(text("SELECT count(*) FROM sessions")) == 1
                assert conn.scalar(text("SELECT count(*) FROM reps")) == 5
        finally:
            engine.dispose()
    finally:
        _pg("stop", folder)
