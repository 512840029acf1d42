"""Headless Debian Chromium driven by Selenium through Debian's chromedriver (no downloads).

    with Chromium(fake_video=clip_y4m) as browser:
        page = browser.page
        page.navigate(url)
        page.wait_for("window.clamcoach && window.clamcoach.state().ready")

Chromium gets a fresh profile, no network side-traffic, a fake camera (a y4m file, looped in
real time, or Chromium's test pattern) with automatic camera permission, and optionally a
phone's viewport (``viewport=(390, 844), mobile=True``). Also used by benchmarks/bench_live.py.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CLAMCOACH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CLAMCOACH_CHROMEDRIVER", "/usr/bin/chromedriver")
SETUP_HINT = "install them with: bash scripts/setup-browser.sh (Debian packages chromium, chromium-driver)"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--autoplay-policy=no-user-gesture-required",
    # keep timers and frame callbacks running in a page nobody looks at
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)


STATE = "window.clamcoach.state()"


class BrowserMissing(RuntimeError):
    pass


def chromium_path() -> str:
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not (Path(exe).is_file() and os.access(exe, os.X_OK)):
            raise BrowserMissing(f"{exe} was not found: {SETUP_HINT}")
    return CHROMIUM


class Page:
    """One tab of the driven browser."""

    def __init__(self, browser: "Chromium", handle: str) -> None:
        self.browser = browser
        self.handle = handle
        self.events: list[dict] = []   # DevTools events from chromedriver's performance log
        self.console: list[dict] = []  # the browser log: console errors, uncaught exceptions

    @property
    def driver(self) -> Any:
        driver = self.browser.driver
        if driver.current_window_handle != self.handle:
            driver.switch_to.window(self.handle)
        return driver

    def call(self, method: str, **params: Any) -> dict:
        """A DevTools command (device emulation, scripts run before the page's own)."""
        return self.driver.execute_cdp_cmd(method, params)

    def evaluate(self, expression: str, timeout: float = 30.0) -> Any:
        driver = self.driver
        driver.set_script_timeout(timeout)
        return driver.execute_script(f"return ({expression});")

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
        self.driver.get(url)
        self.wait_for("document.readyState === 'complete'", timeout=30)

    def click(self, selector: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).click()

    def press(self, key: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.driver).send_keys(key).perform()

    def set_file(self, selector: str, path: Path) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).send_keys(str(path))

    def set_viewport(self, width: int, height: int, mobile: bool = False) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=mobile)
        self.call("Emulation.setTouchEmulationEnabled", enabled=mobile)

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(self.driver.get_screenshot_as_png())
        return path

    def _drain_logs(self) -> None:
        driver = self.driver
        mine = driver.execute_cdp_cmd("Target.getTargetInfo", {})["targetInfo"]["targetId"]
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])
            if message.get("webview") == mine:  # not Chromium's own pages or other tabs
                self.events.append(message["message"])
        self.console.extend(driver.get_log("browser"))

    def events_named(self, *methods: str) -> list[dict]:
        self._drain_logs()
        return [e for e in self.events if e.get("method") in methods]

    def js_errors(self) -> list[dict]:
        self._drain_logs()
        return [e for e in self.console if e.get("level") == "SEVERE"]


class Chromium:
    def __init__(self, *, fake_video: Path | None = None, fake_camera: bool = True,
                 size: tuple[int, int] = (1280, 800), extra: tuple[str, ...] = (),
                 lang: str | None = None) -> None:
        chromium_path()
        self.fake_video = fake_video
        self.fake_camera = fake_camera
        self.size = size
        self.extra = extra
        self.lang = lang
        self.profile = ""
        self.driver: Any = None
        self.pages: list[Page] = []

    def __enter__(self) -> "Chromium":
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="clamcoach-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self.profile}",
                     f"--window-size={self.size[0]},{self.size[1]}", *self.extra):
            options.add_argument(flag)
        if self.fake_camera:
            options.add_argument("--use-fake-ui-for-media-stream")
            options.add_argument("--use-fake-device-for-media-stream")
            if self.fake_video is not None:
                options.add_argument(f"--use-file-for-fake-video-capture={self.fake_video}")
        if self.lang:
            options.add_argument(f"--lang={self.lang}")
            options.add_experimental_option("prefs", {"intl.accept_languages": self.lang})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        try:
            self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        except Exception:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.page = Page(self, self.driver.current_window_handle)
        self.pages.append(self.page)
        return self

    def new_page(self) -> Page:
        self.driver.switch_to.new_window("tab")
        page = Page(self, self.driver.current_window_handle)
        self.pages.append(page)
        return page

    def __exit__(self, *exc: object) -> None:
        if self.driver is not None:
            self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


def watch_network(page: Page):
    """Every URL the page asks for (requests and WebSockets), from the performance log."""
    page.events_named()  # start from now: drop what came before

    start = len(page.events)

    def urls() -> list[str]:
        page.events_named()
        out = []
        for e in page.events[start:]:
            if e.get("method") in ("Network.requestWillBeSent", "Network.webSocketCreated"):
                p = e["params"]
                out.append(p["request"]["url"] if "request" in p else p["url"])
        return out

    return urls


def state(page: Page) -> dict:
    """The page's own state (``window.clamcoach.state()``), as plain data."""
    return page.evaluate(f"JSON.parse(JSON.stringify({STATE}))")


def keep_screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    """A screenshot in the test's tmp folder (and in $CLAMCOACH_SCREENSHOTS, if set: the
    pictures in docs/ are made this way, by ``make docs-screenshots``)."""
    path = page.screenshot(tmp_path / name)
    out = os.environ.get("CLAMCOACH_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(out) / name)
    return path
