"""The HTML pages rendered by real headless Chromium."""

from __future__ import annotations

import re
import socket
import threading
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from clamcoach.report.browser import dump_dom, screenshot, write_pdf
from clamcoach.report.html import write_report
from clamcoach.report.progress import progress_html
from clamcoach.storage import open_store
from tests.report.samples import make_frames, make_report, snapshot

pytestmark = pytest.mark.browser

# Chromium's own service calls (updates, sign-in); not the page's. In normal use they are
# blocked by the host-resolver rule in clamcoach.report.browser.FLAGS.
CHROMIUM_OWN = re.compile(r"(^|\.)(google\.com|googleapis\.com|gstatic\.com|gvt1\.com)$")


@pytest.fixture
def recording_proxy():
    """An HTTP proxy on loopback that records the host of every request made through it."""
    srv = socket.create_server(("127.0.0.1", 0))
    hosts: list[str] = []

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return  # closed: the test is over
            with conn:
                conn.settimeout(2)
                try:
                    line = conn.recv(1024).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    continue
                target = line.split(" ")[1] if " " in line else line
                hosts.append(re.sub(r"^\w+://", "", target).split("/")[0].split(":")[0])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    # Overrides the default flags: route every request to this proxy instead of failing it.
    args = [f"--proxy-server=http://127.0.0.1:{srv.getsockname()[1]}",
            "--proxy-bypass-list=<-loopback>", "--host-resolver-rules=MAP none.invalid ~NOTFOUND"]
    yield args, hosts
    srv.close()
    thread.join(timeout=5)


def _page_requests(hosts: list[str]) -> list[str]:
    return [h for h in hosts if not CHROMIUM_OWN.search(h)]


def _check_not_blank(png_path, min_height: int) -> np.ndarray:
    img = cv2.imread(str(png_path))
    assert img is not None and img.shape[0] >= min_height
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    assert gray.std() > 20  # text, plots and the photo, not an empty page
    assert (gray < 100).mean() > 0.01  # dark ink is present
    return img


def test_report_in_chromium(tmp_path, recording_proxy):
    html = tmp_path / "report.html"
    write_report(html, make_report(), make_frames(), snapshot())
    proxy_args, hosts = recording_proxy
    # A control page shows the proxy sees what a page fetches ...
    control = tmp_path / "control.html"
    control.write_text('<title>c</title><img src="http://example.com/a.png">')
    dump_dom(control, extra_args=proxy_args)
    assert "example.com" in _page_requests(hosts)
    hosts.clear()
    # ... and the report fetches nothing at all.
    dom = dump_dom(html, extra_args=proxy_args)
    assert _page_requests(hosts) == []
    control.unlink()
    assert re.search(r"<title>clamcoach report – set1\.mp4</title>", dom)
    assert dom.count("<img") == 2
    shot = screenshot(html, tmp_path / "report.png", width=1100, height=1400)
    img = _check_not_blank(shot, 1400)
    # The still's colours (the mat, the orange top leg) are on screen: images loaded.
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).reshape(-1, 3).astype(int)
    orange = (np.abs(rgb - (255, 140, 0)).sum(axis=1) < 60).sum()
    assert orange > 200

    pdf = write_pdf(html, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 20_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.pdf", "report.png"]


def test_progress_page_in_chromium(tmp_path):
    with open_store(tmp_path / "h.sqlite") as store:
        store.prescribe("pat", sets=3, reps=10, side="left")
        t0 = datetime(2026, 9, 7, 9, tzinfo=timezone.utc)
        for k in range(6):
            store.save_analysis("pat", make_report(), recorded_at=t0 + timedelta(days=4 * k))
        page = tmp_path / "progress.html"
        page.write_text(progress_html(store, "pat"), "utf-8")
    assert "<title>clamcoach progress – pat</title>" in dump_dom(page)
    _check_not_blank(screenshot(page, tmp_path / "progress.png", width=1000, height=1200), 1200)
