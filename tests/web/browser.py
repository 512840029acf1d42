"""Headless Debian Chromium driven over the DevTools protocol (no driver, no downloads).

    with Chromium(fake_video=clip_y4m) as browser:
        page = browser.page
        page.navigate(url)
        page.wait_for("window.clamcoach && window.clamcoach.state().ready")

Chromium gets a fresh profile, no network side-traffic (the machine has none), a fake
camera (a y4m file, looped in real time, or Chromium's test pattern) and automatic camera
permission. Also used by benchmarks/bench_live.py.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM = os.environ.get("CLAMCOACH_CHROMIUM", "/usr/bin/chromium")
SETUP_HINT = "install it with: bash scripts/setup-browser.sh (Debian packages chromium, chromium-driver)"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--autoplay-policy=no-user-gesture-required",
    # keep timers and frame callbacks running in a page nobody looks at
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)


class BrowserMissing(RuntimeError):
    pass


def chromium_path() -> str:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        raise BrowserMissing(f"Chromium was not found at {CHROMIUM}: {SETUP_HINT}")
    return CHROMIUM


class CDPError(RuntimeError):
    pass


class Page:
    """One DevTools session on a page target."""

    def __init__(self, ws_url: str) -> None:
        self._stack = ExitStack()
        self.ws = self._stack.enter_context(connect(ws_url, max_size=None, open_timeout=20))
        self._id = 0
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[threading.Event, list]] = {}
        self.events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                msg = json.loads(raw)
                if "id" in msg:
                    with self._lock:
                        slot = self._waiting.pop(msg["id"], None)
                    if slot is not None:
                        slot[1].append(msg)
                        slot[0].set()
                else:
                    self.events.append(msg)
        except (OSError, EOFError) as exc:  # the browser went away
            self.events.append({"method": "closed", "params": {"error": str(exc)}})
        except Exception as exc:  # noqa: BLE001 - websockets' ConnectionClosed and friends
            self.events.append({"method": "closed", "params": {"error": repr(exc)}})

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict:
        with self._lock:
            self._id += 1
            mid = self._id
            done: tuple[threading.Event, list] = (threading.Event(), [])
            self._waiting[mid] = done
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        if not done[0].wait(timeout):
            raise CDPError(f"{method} timed out after {timeout} s")
        reply = done[1][0]
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def evaluate(self, expression: str, timeout: float = 30.0) -> Any:
        res = self.call("Runtime.evaluate", timeout=timeout, expression=expression,
                        returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise CDPError(f"{expression[:80]}: {res['exceptionDetails'].get('exception', res['exceptionDetails'])}")
        return res.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, poll: float = 0.2) -> Any:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.evaluate(expression)
            if last:
                return last
            time.sleep(poll)
        raise TimeoutError(f"not true after {timeout} s: {expression} (last {last!r})")

    def navigate(self, url: str) -> None:
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'", timeout=30)

    def click(self, selector: str) -> None:
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def set_file(self, selector: str, path: Path) -> None:
        doc = self.call("DOM.getDocument")
        node = self.call("DOM.querySelector", nodeId=doc["root"]["nodeId"], selector=selector)
        self.call("DOM.setFileInputFiles", files=[str(path)], nodeId=node["nodeId"])

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def events_named(self, *methods: str) -> list[dict]:
        return [e for e in list(self.events) if e.get("method") in methods]

    def close(self) -> None:
        self._stack.close()


class Chromium:
    def __init__(self, *, fake_video: Path | None = None, fake_camera: bool = True,
                 size: tuple[int, int] = (1280, 800), extra: tuple[str, ...] = ()) -> None:
        self.exe = chromium_path()
        self.fake_video = fake_video
        self.fake_camera = fake_camera
        self.size = size
        self.extra = extra
        self.proc: subprocess.Popen | None = None
        self.profile = ""
        self.port = 0
        self.pages: list[Page] = []

    def __enter__(self) -> "Chromium":
        self.profile = tempfile.mkdtemp(prefix="clamcoach-chromium-")
        args = [self.exe, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
                f"--window-size={self.size[0]},{self.size[1]}", *self.extra]
        if self.fake_camera:
            args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
            if self.fake_video is not None:
                args.append(f"--use-file-for-fake-video-capture={self.fake_video}")
        args.append("about:blank")
        self._log = tempfile.TemporaryFile()  # Chromium's own chatter, read only if it fails
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self._log)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")[-1500:]
                raise RuntimeError(f"Chromium exited ({self.proc.returncode}): {err}")
            if time.monotonic() > deadline:
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        self.port = int(port_file.read_text().split()[0])
        self.page = self._attach_first_page()
        return self

    def _targets(self) -> list[dict]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
            return json.loads(r.read())

    def _attach_first_page(self) -> Page:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pages = [t for t in self._targets() if t.get("type") == "page"]
            if pages:
                page = Page(pages[0]["webSocketDebuggerUrl"])
                self.pages.append(page)
                return page
            time.sleep(0.1)
        raise RuntimeError("Chromium has no page")

    def new_page(self, url: str = "about:blank") -> Page:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?{url}", method="PUT")
        with urllib.request.urlopen(req, timeout=10) as r:
            target = json.loads(r.read())
        page = Page(target["webSocketDebuggerUrl"])
        self.pages.append(page)
        return page

    def __exit__(self, *exc: object) -> None:
        for page in self.pages:
            page.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def watch_network(page: Page) -> Callable[[], list[str]]:
    """Start recording every URL the page asks for; returns a function giving them so far."""
    page.call("Network.enable")

    def urls() -> list[str]:
        out = []
        for e in page.events_named("Network.requestWillBeSent", "Network.webSocketCreated"):
            p = e["params"]
            out.append(p["request"]["url"] if "request" in p else p["url"])
        return out

    return urls
