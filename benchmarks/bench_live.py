"""Live latency: from a frame leaving the page to its result arriving, on localhost, 640x480.

    make bench-live                       # the real page in headless Chromium (fake camera)
    python benchmarks/bench_live.py --client python     # a Python WebSocket client instead
    python benchmarks/bench_live.py --client both --seconds 30 --json out.json
    python benchmarks/bench_live.py --path https        # only the phone path (see below)

Two paths are measured (``--path both``, the default): the computer's own page (plain HTTP
on 127.0.0.1) and phone mode's (HTTPS with the project's certificate, paired by its link,
as ``serve --phone`` serves a phone; here on 127.0.0.1 too, so the figure is the cost of
TLS and pairing, not of a Wi-Fi link).

The server runs the real pose model (BlazePose) and engine. The browser client is the real
page: Chromium's fake camera plays the clip (as y4m, in real time, 15 frames/s), the page
downsizes, JPEG-encodes and sends as it does for a person, and records send->result times
(``window.clamcoach.latencies()``). The Python client sends JPEGs of the same clip at 15
frames/s with at most 2 frames in flight, like the page.

Target: p95 <= 150 ms at >= 15 frames/s (results per second, within 3 %). Exit code 1 if
missed. The first seconds (model warm-up) are not counted.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the browser driver and clip writer live with the web tests

import cv2  # noqa: E402

TARGET_P95_MS = 150.0
TARGET_FPS = 15.0
WARMUP_S = 3.0


def percentile(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    ys = sorted(xs)
    return ys[min(len(ys) - 1, int(p * len(ys)))]


def report(name: str, lat: list[float], server: list[float], seconds: float, results: int,
           dropped: int, skipped: int, sent: int) -> dict:
    fps = results / seconds if seconds > 0 else 0.0
    out = {
        "client": name, "frames_sent": sent, "results": results, "seconds": round(seconds, 2),
        "fps": round(fps, 2), "p50_ms": round(percentile(lat, 0.5), 1),
        "p95_ms": round(percentile(lat, 0.95), 1), "max_ms": round(max(lat) if lat else float("nan"), 1),
        "server_p50_ms": round(percentile(server, 0.5), 1), "server_p95_ms": round(percentile(server, 0.95), 1),
        "dropped_by_server": dropped, "not_sent_in_flight_cap": skipped,
    }
    out["ok"] = bool(out["p95_ms"] <= TARGET_P95_MS and fps >= TARGET_FPS * 0.97)
    return out


def print_report(r: dict) -> None:
    print(f"[{r['client']}] {r['results']} results in {r['seconds']} s = {r['fps']} frames/s; "
          f"latency p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms "
          f"(server part p50 {r['server_p50_ms']} ms, p95 {r['server_p95_ms']} ms); "
          f"drops: {r['dropped_by_server']} by the server, {r['not_sent_in_flight_cap']} not sent "
          f"(in-flight cap)  -> {'OK' if r['ok'] else 'MISSED'} (target p95 <= {TARGET_P95_MS:.0f} ms "
          f"at >= {TARGET_FPS:.0f} frames/s)")


def bench_browser(url: str, clip: Path, seconds: float, phone: Any = None) -> dict:
    from tests.web.browser import Chromium
    from tests.web.clips import video_fps, video_frames, write_y4m

    extra = (f"--ignore-certificate-errors-spki-list={phone.identity.spki_sha256}",) if phone else ()
    with tempfile.TemporaryDirectory(prefix="clamcoach-bench-") as tmp:
        y4m = Path(tmp) / "clip.y4m"
        write_y4m(video_frames(clip), y4m, fps=round(video_fps(clip)))
        with Chromium(fake_video=y4m, extra=extra) as browser:
            page = browser.page
            page.navigate(phone.pairing_url() if phone else url + "/")
            page.wait_for("window.clamcoach && window.clamcoach.state().ready", timeout=60)
            page.click("#start-camera")
            page.wait_for("window.clamcoach.state().latency.results > 0", timeout=30)
            time.sleep(WARMUP_S)
            before = page.evaluate("window.clamcoach.state().latency")
            n0 = len(page.evaluate("window.clamcoach.latencies()"))
            t0 = time.monotonic()
            time.sleep(seconds)
            after = page.evaluate("window.clamcoach.state().latency")
            elapsed = time.monotonic() - t0
            lat = page.evaluate("window.clamcoach.latencies()")[n0:]
            server = page.evaluate("window.clamcoach.serverMs()")[n0:]
    return report("browser" + ("/https" if phone else ""), lat, server, elapsed, after["results"] - before["results"],
                  after["dropped"] - before["dropped"], after["skipped"] - before["skipped"],
                  after["sent"] - before["sent"])


def _jpegs(clip: Path) -> list[bytes]:
    from tests.web.clips import video_frames

    out = []
    for rgb in video_frames(clip):
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 70])
        out.append(buf.tobytes())
    return out


def _paired(phone: Any) -> tuple[ssl.SSLContext, dict[str, str]]:
    """A TLS context trusting the project's CA and a device-session cookie, as a phone has."""
    import http.client
    from urllib.parse import urlsplit

    context = ssl.create_default_context(cafile=str(phone.identity.ca_cert_path))
    link = urlsplit(phone.pairing_url())
    conn = http.client.HTTPSConnection(link.hostname, link.port, context=context, timeout=10)
    conn.request("GET", link.path)
    cookie = conn.getresponse().getheader("set-cookie", "").split(";", 1)[0]
    conn.close()
    if not cookie:
        raise RuntimeError("pairing gave no device-session cookie")
    return context, {"Cookie": cookie}


def bench_python(url: str, clip: Path, seconds: float, phone: Any = None, fps: float = TARGET_FPS,
                 max_in_flight: int = 2) -> dict:
    from websockets.sync.client import connect

    from clamcoach.web.frames import pack_frame

    context, headers = _paired(phone) if phone else (None, None)

    frames = _jpegs(clip)
    sent_at: dict[int, float] = {}
    lat: list[float] = []
    server: list[float] = []
    counts = {"results": 0, "dropped": 0}
    lock = threading.Lock()
    done = threading.Event()

    ws_url = url.replace("https://", "wss://").replace("http://", "ws://") + "/ws"
    with connect(ws_url, max_size=None, ssl=context, additional_headers=headers) as ws:
        ws.send(json.dumps({"type": "hello", "session": None, "tab": "bench-python", "takeover": True}))
        while True:
            msg = json.loads(ws.recv(timeout=60))
            if msg["type"] == "ready" or (msg["type"] == "welcome" and msg["session"]["ready"]):
                break

        def reader() -> None:
            while not done.is_set():
                try:
                    msg = json.loads(ws.recv(timeout=1))
                except TimeoutError:
                    continue
                now = time.perf_counter()
                with lock:
                    t = sent_at.pop(msg.get("id"), None)
                    if msg["type"] == "result" and t is not None:
                        counts["results"] += 1
                        if not warming[0]:
                            lat.append((now - t) * 1000)
                            server.append(msg.get("queue_ms", 0) + msg.get("proc_ms", 0))
                    elif msg["type"] == "dropped":
                        counts["dropped"] += 1

        warming = [True]
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        period = 1.0 / fps
        start = time.perf_counter()
        fid, skipped, sent = 0, 0, 0
        base = None
        while True:
            now = time.perf_counter()
            elapsed = now - start
            if warming[0] and elapsed >= WARMUP_S:
                with lock:
                    warming[0] = False
                    base = (dict(counts), skipped, sent, now)
            if elapsed >= WARMUP_S + seconds:
                break
            fid += 1
            with lock:
                room = len(sent_at) < max_in_flight
            if room:
                with lock:
                    sent_at[fid] = time.perf_counter()
                ws.send(pack_frame(fid, elapsed * 1000.0, frames[fid % len(frames)]))
                sent += 1
            else:
                skipped += 1
            time.sleep(max(0.0, start + fid * period - time.perf_counter()))
        end = time.perf_counter()
        done.set()
        thread.join(timeout=3)
    assert base is not None
    c0, s0, n0, t0 = base
    return report("python" + ("/https" if phone else ""), lat, server, end - t0, counts["results"] - c0["results"],
                  counts["dropped"] - c0["dropped"], skipped - s0, sent - n0)


def _phone_access(folder: Path) -> Any:
    from clamcoach.web.phone import PhoneAccess
    from clamcoach.web.tls import ensure_certificates

    return PhoneAccess(ensure_certificates(folder, ["127.0.0.1"], ["localhost"]), base_url="")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--client", choices=["browser", "python", "both"], default="browser")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured time per client (default 20)")
    ap.add_argument("--clip", type=Path, default=REPO / "data" / "demo" / "demo.mp4")
    ap.add_argument("--path", choices=["http", "https", "both"], default="both",
                    help="the computer's page (http), the phone's (https), or both (default)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args(argv)
    if not args.clip.exists():
        print(f"bench-live: clip not found: {args.clip}", file=sys.stderr)
        return 2

    from clamcoach.protocol import load_protocol
    from clamcoach.web.app import WebConfig, create_app
    from clamcoach.web.server import BackgroundServer

    # A long session: no set ends and no rest starts while measuring.
    proto = load_protocol(None, ["prescription.reps=1000"])
    results = []
    clients = ["browser", "python"] if args.client == "both" else [args.client]
    paths = ["http", "https"] if args.path == "both" else [args.path]
    for path in paths:
        for client in clients:
            run = bench_browser if client == "browser" else bench_python
            with tempfile.TemporaryDirectory(prefix="clamcoach-bench-tls-") as tmp:
                phone = _phone_access(Path(tmp)) if path == "https" else None
                app = create_app(WebConfig(protocol=proto, phone=phone))
                with BackgroundServer(app, tls=phone.identity if phone else None) as url:
                    if phone is not None:
                        phone.base_url = url
                    r = run(url, args.clip, args.seconds, phone)
            print_report(r)
            results.append(r)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
