"""The HTML pages rendered by real headless Chromium."""

from __future__ import annotations

import re
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


def _check_not_blank(png_path, min_height: int) -> np.ndarray:
    img = cv2.imread(str(png_path))
    assert img is not None and img.shape[0] >= min_height
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    assert gray.std() > 20  # text, plots and the photo, not an empty page
    assert (gray < 100).mean() > 0.01  # dark ink is present
    return img


def test_report_in_chromium(tmp_path):
    html = tmp_path / "report.html"
    write_report(html, make_report(), make_frames(), snapshot())
    dom = dump_dom(html)
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
