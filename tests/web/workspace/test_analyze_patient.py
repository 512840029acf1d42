"""The issue's case from the command line: a prescription of left side, 10 reps, 3 s hold,
tempo 3-3-3, then the demo analysed (right leg, 5 reps, short holds) with the real pose model.
Every field of the prescription is said, and where the session went."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clamcoach.cli import main
from clamcoach.storage import open_store

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo" / "demo.mp4"


@pytest.mark.slow
def test_analyze_says_every_field_of_the_prescription(tmp_path, monkeypatch, capsys):
    db = tmp_path / "history.sqlite"
    monkeypatch.setenv("CLAMCOACH_DATABASE_URL", f"sqlite:///{db}")
    assert main(["prescribe", "ann", "--side", "left", "--reps", "10", "--hold", "3",
                 "--tempo", "3-3-3"]) == 0
    capsys.readouterr()
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    assert main(["analyze", str(DEMO), "--patient", "ann", "--quiet", "--json", str(out_json),
                 "--report", str(out_html), "--no-progress"]) == 0
    assert main(["analyze", str(DEMO), "--patient", "ann", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Prescription of ann (version 1): 3 x 10 reps, hold 3 s, tempo 3-3-3 s (up-hold-down), left leg" in out
    assert "right leg lifting; the prescription is for the left leg" in out
    assert "5 of 10 reps in this set." in out and "Set 2 of 3 today." in out
    assert "Hold longer" in out and "prescribed tempo is 3 s up" in out
    assert "Saved to ann's history as session 2 (sqlite:///" in out
    report = json.loads(out_json.read_text())
    assert report["patient"] == "ann" and report["prescription_version"] == 1
    assert report["saved"]["session_id"] == 1
    codes = [n["code"] for n in report["prescription_check"]["notes"]]
    assert codes[:3] == ["wrong_side", "reps_short", "sets_short"] and "hold_short" in codes
    html = out_html.read_text()
    assert "patient ann · prescription version 1" in html and "Saved to ann" in html
    with open_store(db) as store:
        stored = store.session(1)["report"]
    assert stored["prescription_check"] == report["prescription_check"]
