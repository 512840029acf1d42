"""Soak: `clamcoach serve` (a real process, the real pose model) fed live frames for a long time.

    make bench-soak                                   # 30 minutes at 15 frames/s
    python benchmarks/bench_soak.py --minutes 2 --json out.json

A Python WebSocket client sends JPEGs of the demo clip (looped, continuous timestamps) at 15
frames/s with at most 2 frames in flight, like the page. Measured: the server's resident
memory at the start (after the first minute's warm-up) and at the end (target: within 10 %),
latency p95 in the first and the last minute, frames the server dropped, and connections
lost (target: none). Exit code 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # the page-protocol client lives with the web tests

from bench_live import _jpegs, percentile  # noqa: E402

MEMORY_TARGET = 1.10
FPS = 15.0
MAX_IN_FLIGHT = 2


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024  # type: ignore[union-attr]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "clamcoach.cli", "serve", "--no-browser", "--port", str(port),
           "--set", "prescription.reps=100000", "--set", "prescription.sets=1"]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    for line in proc.stderr:
        if "coaching page at" in line:
            break
        if time.monotonic() > deadline:
            break
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # drain
    return proc


def soak(url: str, pid: int, clip: Path, seconds: float) -> dict:
    from websockets.exceptions import ConnectionClosed

    from clamcoach.web.frames import pack_frame
    from tests.web.helpers import Client

    frames = _jpegs(clip)
    arrivals: list[tuple[float, float]] = []  # (seconds from the start, latency ms)
    sent_at: dict[int, float] = {}
    lock = threading.Lock()
    done = threading.Event()
    counts = {"dropped": 0, "lost_connections": 0, "sent": 0, "skipped": 0}
    memory: list[tuple[float, float]] = []
    start = time.perf_counter()

    client = Client(url, tab="tab-benchsoak")  # the page's side of the protocol (tests/web)
    try:
        welcome = client.hello(takeover=True)
        assert welcome["type"] == "welcome", welcome
        ws = client.ws
        client.log = deque(maxlen=100)  # the client keeps what it received: only the last few

        def reader() -> None:
            while not done.is_set():
                try:
                    msg = client.recv(timeout=1)
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    counts["lost_connections"] += 1
                    done.set()
                    return
                now = time.perf_counter()
                with lock:
                    t = sent_at.pop(msg.get("id"), None)
                    if msg["type"] == "result" and t is not None:
                        arrivals.append((now - start, (now - t) * 1000))
                    elif msg["type"] == "dropped":
                        counts["dropped"] += 1

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        fid = 0
        next_memory = 0.0
        while not done.is_set():
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
            if elapsed >= next_memory:
                memory.append((elapsed, rss_mb(pid)))
                next_memory += 10.0
            fid += 1
            with lock:
                room = len(sent_at) < MAX_IN_FLIGHT
                if room:
                    sent_at[fid] = time.perf_counter()
            if room:
                try:
                    ws.send(pack_frame(fid, elapsed * 1000.0, frames[fid % len(frames)]))
                except ConnectionClosed:
                    counts["lost_connections"] += 1
                    break
                counts["sent"] += 1
            else:
                counts["skipped"] += 1
            time.sleep(max(0.0, start + fid / FPS - time.perf_counter()))
        memory.append((time.perf_counter() - start, rss_mb(pid)))
        done.set()
        thread.join(timeout=3)
    finally:
        client.close()

    end = arrivals[-1][0] if arrivals else 0.0
    first = [ms for t, ms in arrivals if t < 60.0]
    last = [ms for t, ms in arrivals if t >= end - 60.0]
    after_warmup = [mb for t, mb in memory if t >= 60.0] or [mb for _, mb in memory]
    result = {
        "seconds": round(time.perf_counter() - start, 1),
        "frames_sent": counts["sent"],
        "not_sent_in_flight_cap": counts["skipped"],
        "dropped_by_server": counts["dropped"],
        "lost_connections": counts["lost_connections"],
        "memory_start_mb": round(after_warmup[0], 1),
        "memory_end_mb": round(memory[-1][1], 1),
        "memory_peak_mb": round(max(mb for _, mb in memory), 1),
        "memory_ratio": round(memory[-1][1] / after_warmup[0], 3),
        "p95_first_minute_ms": round(percentile(first, 0.95), 1),
        "p95_last_minute_ms": round(percentile(last, 0.95), 1),
        "fps_first_minute": round(len(first) / 60.0, 2),
        "fps_last_minute": round(len(last) / 60.0, 2),
    }
    result["ok"] = bool(result["memory_ratio"] <= MEMORY_TARGET and result["lost_connections"] == 0)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--clip", type=Path, default=REPO / "data" / "demo" / "demo.mp4")
    ap.add_argument("--json", type=Path, help="also write the result as JSON")
    args = ap.parse_args(argv)
    port = free_port()
    server = start_server(port)
    try:
        result = soak(f"http://127.0.0.1:{port}", server.pid, args.clip, args.minutes * 60.0)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"soak {result['seconds']} s, {result['frames_sent']} frames sent at {FPS:.0f}/s: memory "
          f"{result['memory_start_mb']} MB after the first minute -> {result['memory_end_mb']} MB at "
          f"the end (ratio {result['memory_ratio']}, peak {result['memory_peak_mb']} MB; target <= "
          f"{MEMORY_TARGET}); p95 latency first minute {result['p95_first_minute_ms']} ms, last "
          f"minute {result['p95_last_minute_ms']} ms; results/s {result['fps_first_minute']} -> "
          f"{result['fps_last_minute']}; frames dropped by the server {result['dropped_by_server']}; "
          f"connections lost {result['lost_connections']} -> {'OK' if result['ok'] else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
