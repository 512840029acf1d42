"""`clamcoach batch` on a real local Ray with two workers, in child processes as a clinic
runs it: results equal `analyze`'s, resume, a corrupt file failing alone, killed workers and
a killed driver, and history rows saved exactly once."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from clamcoach.cli import main as cli_main
from clamcoach.batch.ray_driver import LOCAL_ENV
from tests.batch.helpers import (
    EVAL,
    batch_command,
    busy_worker,
    child_env,
    cmdline,
    descendants,
    free_port,
    kill,
    run_batch,
    short_clip,
    state,
    summary,
    wait_for_port,
)
from tests.processes import ctrl_c_reaches_it
from tests.storage.conftest import row_counts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three short sets (5 s each) of the evaluation clips."""
    folder = tmp_path_factory.mktemp("clips")
    for name, src in (("a", "e1_oblique"), ("b", "e2_overhead"), ("c", "e3_oblique")):
        short_clip(EVAL / f"{src}.mp4", folder / f"{name}.mp4", 5.0)
    return folder


def folder_of(tmp_path: Path, clip_dir: Path, *names: str, broken: bool = False) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in names:
        (folder / f"{name}.mp4").symlink_to(clip_dir / f"{name}.mp4")
    if broken:
        (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    return folder


def patient_map(tmp_path: Path, **patients: str) -> Path:
    path = tmp_path / "patients.csv"
    path.write_text("id,patient\n" + "".join(f"{k},{v}\n" for k, v in patients.items()))
    return path


def leftovers(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_a_folder_on_two_workers_equals_analyze_and_resumes(tmp_path: Path, clip_dir: Path) -> None:
    folder = folder_of(tmp_path, clip_dir, "a", "b", broken=True)
    out, db = tmp_path / "out", tmp_path / "history.sqlite"
    pmap = patient_map(tmp_path, a="Ann", b="Bob")
    done = run_batch(folder, "--out", out, "--workers", "2", "--patient-map", pmap, "--report", db=db)
    assert done.returncode == 14, done.stderr  # finished, one video failed
    s = summary(out)
    assert s["state"] == "finished" and s["ray"]["workers"] == 2
    assert s["counts"] == {"videos": 3, "ok": 2, "failed": 1, "pending": 0, "reused": 0}
    by_id = {v["id"]: v for v in s["videos"]}
    assert by_id["broken"]["exit_code"] == 5 and "broken.mp4" in by_id["broken"]["message"]
    assert by_id["a"]["status"] == "ok" and by_id["a"]["patient"] == "Ann"
    assert "\n" not in by_id["broken"]["message"]
    # The same analysis as `clamcoach analyze --json`, byte for byte.
    for vid in ("a", "b"):
        mine = tmp_path / f"{vid}-analyze.json"
        assert cli_main(["analyze", str((folder / f"{vid}.mp4").resolve()), "--json", str(mine), "--quiet"]) == 0
        assert (out / f"{vid}.json").read_text() == mine.read_text()
        report = json.loads(mine.read_text())
        assert by_id[vid]["reps"] == report["summary"]["reps"]
        assert by_id[vid]["findings"] == report["summary"]["findings"]
        assert "clamcoach report" in (out / f"{vid}.html").read_text()
    assert row_counts(f"sqlite:///{db}")["sessions"] == 2
    assert leftovers(out) == []
    # Run again: the two results are reused (not analysed), the broken file is tried again.
    json_mtime = (out / "a.json").stat().st_mtime_ns
    again = run_batch(folder, "--out", out, "--workers", "2", "--patient-map", pmap, "--report", db=db)
    assert again.returncode == 14, again.stderr
    s2 = summary(out)
    assert s2["counts"] == {"videos": 3, "ok": 2, "failed": 1, "pending": 0, "reused": 2}
    assert (out / "a.json").stat().st_mtime_ns == json_mtime
    assert row_counts(f"sqlite:///{db}")["sessions"] == 2


def test_a_killed_worker_is_retried_and_its_video_saved_once(tmp_path: Path, clip_dir: Path) -> None:
    folder = folder_of(tmp_path, clip_dir, "a")
    out, db = tmp_path / "out", tmp_path / "history.sqlite"
    cmd = batch_command(folder, "--out", out, "--workers", "2", "--patient-map", patient_map(tmp_path, a="Ann"))
    with subprocess.Popen(cmd, env=child_env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as driver:
        victim = busy_worker(driver)
        kill(victim)
        _, err = driver.communicate(timeout=300)
    assert driver.returncode == 0, err
    record = summary(out)["videos"][0]
    assert record["status"] == "ok" and record["worker_pid"] != victim
    assert row_counts(f"sqlite:///{db}")["sessions"] == 1


def test_a_video_whose_worker_dies_twice_fails(tmp_path: Path, clip_dir: Path) -> None:
    folder = folder_of(tmp_path, clip_dir, "a")
    out, db = tmp_path / "out", tmp_path / "history.sqlite"
    cmd = batch_command(folder, "--out", out, "--workers", "2")
    with subprocess.Popen(cmd, env=child_env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as driver:
        first = busy_worker(driver)
        kill(first)
        kill(busy_worker(driver, not_pid=first))
        _, err = driver.communicate(timeout=300)
    assert driver.returncode == 14, err
    record = summary(out)["videos"][0]
    assert record["status"] == "failed" and "worker died" in record["message"]
    assert not (out / "a.json").exists()


def test_killing_the_driver_loses_only_the_videos_in_flight(tmp_path: Path, clip_dir: Path) -> None:
    folder = folder_of(tmp_path, clip_dir, "a", "b", "c")
    out, db = tmp_path / "out", tmp_path / "history.sqlite"
    pmap = patient_map(tmp_path, a="Ann", b="Ann", c="Bob")
    cmd = batch_command(folder, "--out", out, "--workers", "1", "--patient-map", pmap)
    with subprocess.Popen(cmd, env=child_env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as driver:
        deadline = time.monotonic() + 300
        while not list((out / ".clamcoach").glob("[abc].json")):
            assert driver.poll() is None and time.monotonic() < deadline, "no video finished"
            time.sleep(0.05)
        ray_processes = descendants(driver.pid)
        kill(driver.pid)
        driver.communicate(timeout=60)
    # Ray's processes go with their driver. Its two helper agents wait 60 s (a fixed timeout
    # in Ray) to report the death to the vanished GCS, then exit: measured, not waited for here.
    killed_at = time.monotonic()
    core = [p for p in ray_processes if "Agent" not in cmdline(p)]
    while (alive := [p for p in core if state(p) not in ("", "Z")]) and time.monotonic() < killed_at + 30:
        time.sleep(0.2)
    described = [f"{pid} {cmdline(pid)[:100]} state {state(pid)}" for pid in alive]
    for pid in ray_processes:
        kill(pid)
    assert described == [], "Ray processes outlived their driver by 30 s"
    # A write cut short leaves at most its hidden temporary file, never a half-written result.
    assert all(p.name.startswith(".") for p in leftovers(out))
    written = sorted(p.stem for p in out.glob("[abc].json"))
    for name in written:
        json.loads((out / f"{name}.json").read_text())  # complete, never half-written
    assert written  # at least the first result survived
    sessions_before = row_counts(f"sqlite:///{db}")["sessions"]
    assert sessions_before <= 3
    # The next run does only what was lost, and the history gets each video once.
    again = run_batch(folder, "--out", out, "--workers", "2", "--patient-map", pmap, db=db)
    assert again.returncode == 0, again.stderr
    s = summary(out)
    assert s["counts"]["ok"] == 3 and s["counts"]["reused"] >= 1
    assert row_counts(f"sqlite:///{db}")["sessions"] == 3
    assert leftovers(out) == []  # the next batch clears stale temporaries


def test_ctrl_c_stops_the_batch_and_says_so(tmp_path: Path, clip_dir: Path) -> None:
    folder = folder_of(tmp_path, clip_dir, "a", "b")
    out, db = tmp_path / "out", tmp_path / "history.sqlite"
    cmd = batch_command(folder, "--out", out, "--workers", "1")
    with subprocess.Popen(cmd, env=child_env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          preexec_fn=ctrl_c_reaches_it) as driver:
        busy_worker(driver)
        driver.send_signal(signal.SIGINT)
        _, err = driver.communicate(timeout=120)
    assert driver.returncode == 130, err
    assert "interrupted" in err
    s = summary(out)
    assert s["state"] == "interrupted" and s["counts"]["pending"] >= 1
    assert leftovers(out) == []


def test_the_same_command_joins_a_running_cluster(tmp_path: Path, clip_dir: Path) -> None:
    """A two-CPU Ray head started with `ray start` (on loopback), joined with --address."""
    folder = folder_of(tmp_path, clip_dir, "a", "b")
    out, db = tmp_path / "out", tmp_path / "history.sqlite"
    port = free_port()
    ray_tmp = tempfile.mkdtemp(prefix="cc-ray-", dir="/tmp")  # short: Ray's socket paths have a limit
    ray_cli = str(Path(sys.executable).with_name("ray"))
    head = subprocess.Popen([ray_cli, "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
                             "--node-ip-address=127.0.0.1", "--include-dashboard=false",
                             "--disable-usage-stats", f"--temp-dir={ray_tmp}"],
                            env={**child_env(db), **LOCAL_ENV}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(port, head)
        # The driver runs on a node of the cluster (here: the head, on loopback).
        driver_env = {"RAY_AUTH_MODE": "token", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
        done = run_batch(folder, "--out", out, "--address", f"127.0.0.1:{port}", db=db, env=driver_env)
    finally:
        head.send_signal(signal.SIGTERM)  # `ray start --block` stops its processes
        try:
            head.wait(timeout=90)
        except subprocess.TimeoutExpired:
            head.kill()
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-2000:]
    s = summary(out)
    assert s["ray"]["address"] == f"127.0.0.1:{port}" and s["ray"]["workers"] == 2
    assert s["counts"]["ok"] == 2
