"""Real processes for the batch tests: short clips, the CLI in a child process, Ray's workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av

REPO = Path(__file__).resolve().parents[2]
EVAL = REPO / "data" / "eval"


def short_clip(src: Path, dest: Path, seconds: float, *, turned: bool = False) -> Path:
    """The first ``seconds`` of ``src``, re-encoded (the same frames, a shorter set);
    ``turned``: a quarter turn clockwise (a phone held the other way)."""
    import numpy as np
    from clamcoach.io.video import open_video

    reader = open_video(src)
    fps = round(reader.info.fps) or 15
    with av.open(str(dest), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        size = (reader.info.height, reader.info.width) if turned else (reader.info.width, reader.info.height)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        stream.options = {"preset": "veryfast"}
        for i, frame in enumerate(reader):
            if frame.t >= seconds:
                break
            rgb = np.ascontiguousarray(np.rot90(frame.rgb, k=-1)) if turned else frame.rgb
            vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            vf.pts, vf.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(vf))
        out.mux(stream.encode())
    return dest


def batch_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "clamcoach.cli", "batch", *map(str, args), "--no-progress"]


def child_env(db: Path) -> dict[str, str]:
    return {**os.environ, "CLAMCOACH_DATABASE_URL": f"sqlite:///{db}"}


def run_batch(*args: str, db: Path, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(batch_command(*args), env={**child_env(db), **(env or {})}, capture_output=True,
                          text=True, timeout=timeout, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the Ray head exited ({process.returncode})")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def summary(out: Path) -> dict:
    return json.loads((out / "batch.json").read_text())


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def state(pid: int) -> str:
    """The process's state letter (R, S, Z ...), or "" if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def busy_worker(driver: subprocess.Popen, *, not_pid: int | None = None, timeout: float = 180) -> int:
    """The pid of a Ray worker of ``driver`` that is running an analysis (its title says so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.poll() is not None:
            raise AssertionError(f"the batch ended (exit {driver.returncode}) before a worker was busy")
        for pid in descendants(driver.pid):
            if pid != not_pid and cmdline(pid).startswith("ray::analyze_one"):
                return pid
        time.sleep(0.05)
    raise AssertionError("no Ray worker started an analysis")


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
