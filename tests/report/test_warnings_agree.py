"""The terminal summary, the JSON report and the HTML report show the same warnings, in the
same order: all three read ``Analysis.warnings``."""

from __future__ import annotations

import html as htmllib
import json
import re

from clamcoach.jsonio import report_json
from clamcoach.pipeline import gap_notes
from clamcoach.report.html import render_report
from clamcoach.report.text import summary_text
from skeleton import Camera
from tests.test_engine import run


def _terminal_notes(text: str) -> list[str]:
    lines = text.splitlines()
    if "Notes:" not in lines:
        return []
    return [line[len("  - "):] for line in lines[lines.index("Notes:") + 1:] if line.startswith("  - ")]


def test_terminal_json_and_html_say_the_same_warnings():
    # Seen from the front the roll cannot be judged (a warning from the setup), and
    # a gap in the pose adds a note, as analyze_video adds it.
    a, _ = run(cam=Camera(pitch=0), n_reps=2, gaps=[(3.0, 4.0)])
    a = a.with_notes(*gap_notes(a.frames))
    assert len(a.warnings) >= 2, a.warnings
    report = json.loads(report_json(a.to_dict({"path": "set.mp4"})))
    page = render_report(report, a.frames, None)
    shown = [htmllib.unescape(w) for w in re.findall(r"<li>(.*?)</li>", page.split("No warnings")[0])]
    terminal = _terminal_notes(summary_text(a, "set.mp4", 12.0))
    assert terminal == report["warnings"] == a.warnings
    assert all(w in shown for w in a.warnings)
