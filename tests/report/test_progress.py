from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone

import pytest

from clamcoach.report.progress import progress_html
from clamcoach.storage import UnknownPatient, open_store
from tests.report.samples import make_report


def test_progress_page(tmp_path):
    with open_store(tmp_path / "h.sqlite") as store:
        store.prescribe("<pat>", sets=2, reps=12, hold_s=3, overrides={"roll_back": {"warn_deg": 8}})
        t0 = datetime(2026, 9, 7, 9, tzinfo=timezone.utc)
        for k in range(5):
            store.save_analysis("<pat>", make_report(), recorded_at=t0 + timedelta(days=7 * k))
        html = progress_html(store, "<pat>")
        with pytest.raises(UnknownPatient):
            progress_html(store, "nobody")
    assert "&lt;pat&gt;" in html and "<pat>" not in html
    assert "2 × 12 reps" in html and "roll_back.warn_deg = 8" in html
    assert html.count("<tr>") == 1 + 5 + 1 + 5  # weeks table and latest sessions
    [svg] = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    text = base64.b64decode(svg)
    assert b"clean reps" in text and b"worst roll-back per session" in text
    assert b"mean roll-back" not in text


def test_the_worst_rep_is_plotted_not_the_mean(tmp_path):
    """The issue's case: one 21-degree roll-back among small ones (mean 8.8) must plot as 21,
    above the 10-degree warning line."""
    from clamcoach.report.progress import session_points, targets_for
    from clamcoach.protocol import load_protocol

    report = make_report()
    for rep, roll in zip(report["reps"], (21.0, 6.0, 6.0, 5.0, 6.0)):
        rep["roll_back_deg"], rep["trunk_roll_back_deg"] = roll, None
    with open_store(tmp_path / "h.sqlite") as store:
        store.save_analysis("p", report)
        [point] = session_points(store.history("p"))
        [week] = store.trends("p")
    assert point.worst_roll_back_deg == 21.0 and week["mean_roll_back_deg"] == 8.8
    assert point.worst_roll_back_deg > targets_for(load_protocol()).roll_warn_deg


def test_progress_without_sessions(tmp_path):
    with open_store(tmp_path / "h.sqlite") as store:
        store.add_patient("new")
        html = progress_html(store, "new")
    assert "No prescription yet" in html and "No sessions yet" in html


def test_scroll_table_declares_heading_and_cell_together():
    from clamcoach.report.page import scroll_table

    html = scroll_table((("When", "nw"), ("Reps", "n"), ("Kind", "")), [["<b>x</b>", 3, "live"]])
    assert html == ('<div class="scroll"><table><tr><th>When</th><th class="n">Reps</th>'
                    '<th>Kind</th></tr><tr><td class="nw"><b>x</b></td><td class="n">3</td>'
                    '<td>live</td></tr></table></div>')
    with pytest.raises(ValueError):  # a row with a cell too few is a bug, not a short row
        scroll_table((("When", "nw"), ("Reps", "n")), [["now"]])
