from __future__ import annotations

import csv
import json
from datetime import datetime, timezone

from clamcoach.report.export import (
    FRAME_COLUMNS, write_frames_csv, write_history_csv, write_history_json,
)
from clamcoach.storage import open_store
from tests.report.samples import make_frames, make_report


def test_frames_csv(tmp_path):
    frames = make_frames(with_landmarks=True)
    path = tmp_path / "frames.csv"
    write_frames_csv(path, frames)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == FRAME_COLUMNS
    assert len(rows) == len(frames)
    dropout = rows[int(5.2 * 30)]
    assert dropout["phase"] == "no_person" and dropout["opening_deg"] == ""  # NaN -> empty
    assert float(rows[int(13.8 * 30)]["opening_deg"]) > 20 and rows[int(13.8 * 30)]["rep"] == "3"
    write_frames_csv(path, frames, landmarks=True)
    with open(path, newline="") as f:
        header = next(csv.reader(f))
    assert header[-3:] == ["right_foot_index_x", "right_foot_index_y", "right_foot_index_vis"]
    assert [p.name for p in tmp_path.iterdir()] == ["frames.csv"]


def test_history_files(tmp_path):
    with open_store(tmp_path / "h.sqlite") as store:
        store.prescribe("ann", reps=10)
        store.save_analysis("ann", make_report(), recorded_at=datetime(2026, 10, 1, tzinfo=timezone.utc))
        empty = make_report()
        empty.update(reps=[], summary={"reps": 0, "clean_reps": 0, "findings": {}, "advice": []})
        store.save_analysis("ann", empty, recorded_at=datetime(2026, 10, 2, tzinfo=timezone.utc))
        data = store.export("ann")
    write_history_json(tmp_path / "h.json", data)
    write_history_csv(tmp_path / "h.csv", data)
    back = json.loads((tmp_path / "h.json").read_text())
    assert back["patient"] == "ann" and back["prescriptions"][0]["reps"] == 10
    assert [len(s["rep_detail"]) for s in back["sessions"]] == [5, 0]
    with open(tmp_path / "h.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6  # five reps, and one row for the session without reps
    assert rows[0]["prescription_version"] == "1" and rows[0]["clean"] == "1"
    assert rows[-1]["rep"] == "" and rows[-1]["session_reps"] == "0"
