from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from clamcoach.report.html import render_report, write_report
from tests.report.samples import make_frames, make_report, snapshot



class _Links(HTMLParser):
    """Every attribute that could make a browser fetch something, unless it is inline."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            fetches = name in ("src", "href", "action", "poster", "data", "srcset")
            if fetches and value and not value.startswith("data:"):
                self.found.append(f"{tag}.{name}={value}")


def external_links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.found


def _images(html: str) -> list[tuple[str, bytes]]:
    return [(kind, base64.b64decode(data)) for kind, data in
            re.findall(r'src="data:image/(png|svg\+xml);base64,([A-Za-z0-9+/=]+)"', html)]


def test_report_has_every_section(tmp_path):
    report = make_report()
    path = tmp_path / "out" / "report.html"
    path.parent.mkdir()  # outputs never create folders (a typo must not make one)
    write_report(path, report, make_frames(), snapshot())
    html = path.read_text("utf-8")
    assert "<title>clamcoach report – set1.mp4</title>" in html
    for heading in ("Setup", "Over time", "Reps", "What to work on", "Camera", "Thresholds used"):
        assert f"<h2>{heading}</h2>" in html
    images = _images(html)
    kinds = [k for k, _ in images]
    assert kinds == ["png", "svg+xml"]  # the setup still, then the plots
    assert images[0][1].startswith(b"\x89PNG")
    assert b"<svg" in images[1][1] and b"pelvis roll" in images[1][1]
    # Every finding is explained with the method's reason, roll-back first.
    for msg in {f["message"] for r in report["reps"] for f in r["findings"]}:
        assert msg.replace("'", "&#x27;") in html
    assert html.index("Rolling back") < html.index("Knee lifted too high")
    assert report["warnings"][0] in html
    assert "in reps 3, 4" in html
    # Nothing outside the file: no URLs, and a policy that forbids loading any.
    assert external_links(html) == []
    assert "url(" not in html and "@import" not in html
    assert "default-src 'none'" in html
    assert list(tmp_path.joinpath("out").iterdir()) == [path]  # no temporary left behind


def test_minimal_report_renders():
    report = {"schema": "clamcoach.analysis/1", "source": {}, "camera_view": "front",
              "setup": {}, "reps": [], "summary": {}, "warnings": []}
    html = render_report(report, [], None)
    assert "No reps were found" in html and "No still frame" in html
    assert "No per-frame measures" in html and "Nothing to correct" in html


def test_text_is_escaped():
    report = make_report(path="/v/<b>x</b>.mp4")
    report["warnings"] = ['<script>alert("x")</script>']
    html = render_report(report, make_frames(), None)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_failed_render_keeps_the_old_file(tmp_path):
    path = tmp_path / "report.html"
    path.write_text("old")
    img, _ = snapshot()
    with pytest.raises(ValueError):
        write_report(path, make_report(), make_frames(), (img, np.zeros((5, 3))))
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_skeleton_is_drawn_on_the_still(tmp_path):
    img, lm = snapshot()
    html = render_report(make_report(), [], (img, lm))
    import cv2

    png = _images(html)[0][1]
    drawn = cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert drawn.shape == img.shape
    # The top (left) knee is drawn in the top leg's orange.
    x, y = (int(v) for v in lm[25, :2])
    assert tuple(drawn[y, x]) == pytest.approx((255, 140, 0), abs=40)
    assert np.abs(drawn.astype(int) - img).sum() > 0


def test_plots_use_the_thresholds_the_analysis_used():
    report = make_report()
    report["provenance"]["protocol"]["roll_back"]["warn_deg"] = 8
    report["provenance"]["protocol"]["opening"]["too_high_deg"] = 50
    html = render_report(report, make_frames(), None)
    svg = base64.b64decode(re.search(r'data:image/svg\+xml;base64,([^"]+)', html).group(1)).decode()
    assert "roll-back warn (8° below rep start)" in svg and "lift too high 50°" in svg
    assert "warn_deg = 8" in html


def test_rep_values_show_their_standard_deviations_and_unjudged_roll_backs_say_so():
    report = make_report()
    report["reps"][0].update(opening_sd_deg=3.6, roll_back_sd_deg=1.2, roll_judged=True)
    report["reps"][1].update(roll_back_deg=14.0, roll_back_sd_deg=6.0, roll_judged=False)
    html = render_report(report, make_frames(), None)
    rows = re.findall(r"<tr><td class=\"n\">(\d+)</td>(.*?)</tr>", html)
    first, second = rows[0][1], rows[1][1]
    assert "± 4°" in first and "± 1°" in first
    assert "not judged" in second and "14.0" not in second


def test_finding_names_are_the_analysis_protocol_labels(tmp_path):
    # A custom protocol file renames a finding: the report shows its name, not the packaged one.
    from clamcoach.protocol import load_protocol

    custom = tmp_path / "custom.toml"
    custom.write_text('[labels]\nroll_back = "Pelvis tipped back"\n', encoding="utf-8")
    report = make_report()
    report["provenance"]["protocol"] = load_protocol(custom).raw
    assert any(f["code"] == "roll_back" for r in report["reps"] for f in r["findings"])
    html = render_report(report, make_frames(), None)
    rows = re.findall(r"<tr><td class=\"n\">\d+</td>.*?</tr>", html)
    assert any("Pelvis tipped back" in row for row in rows)
    assert '<h3>Pelvis tipped back <span' in html
    assert "Rolling back" not in html
