"""The workspace's browser tests: headless Debian Chromium as the live page's tests drive it
(``tests.web.browser``: Selenium through Debian's chromedriver, no downloads, a fresh
profile), and the page checks they make: no sideways overflow, and text contrast (WCAG AA)
measured on the rendered page."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.web.browser import BrowserMissing, Chromium


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[object]:
    """A Selenium driver of a fresh headless Chromium (no camera)."""
    try:
        browser = Chromium(fake_camera=False, size=(width, height))
    except BrowserMissing as exc:
        pytest.fail(str(exc))
    with browser:
        yield browser.driver


# Relative luminance and the WCAG contrast ratio, on the colours Chromium computed; the
# background is the first ancestor's with any opacity (the page is white under all).
CONTRAST_JS = r"""
function rgb(s) { const m = s.match(/[\d.]+/g) || []; return m.map(Number); }
function lum(c) { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
  return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b; }
function background(el) { for (let e = el; e; e = e.parentElement) {
  const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || c[3] > 0) return c; }
  return [255, 255, 255]; }
const bad = [];
for (const el of document.querySelectorAll("body *")) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const box = el.getBoundingClientRect();
  if (!own || box.width === 0 || box.height === 0) continue;
  const st = getComputedStyle(el);
  if (st.visibility === "hidden") continue;
  const fg = rgb(st.color), bg = background(el);
  const a = lum(fg), b = lum(bg), ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
  const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
  if (ratio < need) bad.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 40)}" ${ratio.toFixed(2)}`);
}
return bad;
"""

OVERFLOW_JS = r"""
const root = document.documentElement;
const wide = [...document.querySelectorAll("body *")].filter(e => {
  const r = e.getBoundingClientRect(); return r.right > root.clientWidth + 1 && !e.closest(".scroll"); })
  .map(e => e.tagName + "." + e.className).slice(0, 5);
return [root.scrollWidth - root.clientWidth, wide];
"""


def check_page(driver, shot: Path, widths=(1280, 390)) -> None:
    """At each width: nothing wider than the window (tables scroll in their own box), every
    text readable (contrast), and a screenshot that is not blank."""
    import cv2

    for width in widths:
        driver.set_window_size(width, 900)
        extra, wide = driver.execute_script(OVERFLOW_JS)
        assert extra <= 1 and not wide, f"{driver.current_url} overflows at {width}px: {wide}"
        assert driver.execute_script(CONTRAST_JS) == [], f"low contrast on {driver.current_url}"
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, 600), 4000))
        driver.execute_script("window.scrollTo(0, 0)")
        path = shot.with_name(f"{shot.stem}-{width}.png") if width != widths[0] else shot
        driver.save_screenshot(str(path))
        img = cv2.imread(str(path))
        assert img is not None and img.shape[1] >= width * 0.9
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        assert gray.std() > 15 and (gray < 100).mean() > 0.003, f"{path} looks blank"
    driver.set_window_size(widths[0], 900)
