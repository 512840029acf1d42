"""The store against real databases: SQLite files and a PostgreSQL server."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from clamcoach.errors import StorageError, UsageError
from clamcoach.storage import UnknownPatient, open_store
from clamcoach.storage.records import series_frames
from tests.report.samples import REPS, make_frames, make_report
from tests.storage.conftest import row_counts

T0 = datetime(2026, 10, 27, 10, 0, tzinfo=timezone.utc)  # a Tuesday


def test_save_and_read_back(store):
    sid = store.save_analysis("alice", make_report(), make_frames(), recorded_at=T0)
    [s] = store.history("alice")
    assert s["id"] == sid
    assert s["recorded_at"] == "2026-10-27T10:00:00+00:00"
    assert s["kind"] == "analyze"
    assert s["source_name"] == "set1.mp4"  # the file name only, never the folder
    assert s["video_path"] is None
    assert (s["reps"], s["clean_reps"]) == (5, 3)
    assert s["mean_opening_deg"] == pytest.approx(sum(r[2] for r in REPS) / 5, abs=0.01)
    assert s["max_roll_back_deg"] == 17.0
    assert s["findings"] == {"hand_not_on_hip": 1, "roll_back": 2, "lift_too_high": 1, "no_hold": 1}

    detail = store.session(sid)
    assert detail["patient"] == "alice"
    assert [r["index"] for r in detail["rep_detail"]] == [1, 2, 3, 4, 5]
    rep4 = detail["rep_detail"][3]
    assert rep4["roll_back_deg"] == 17.0 and rep4["trunk_roll_back_deg"] == pytest.approx(13.6)
    assert not rep4["clean"]
    assert {f["code"] for f in rep4["findings"]} == {"roll_back", "lift_too_high"}
    assert detail["setup"]["findings"][0]["code"] == "hand_not_on_hip"
    assert detail["setup"]["hip_flexion_deg"] == 47.0
    assert detail["warnings"] and "oblique" in detail["warnings"][0]
    series = detail["series"]
    assert len(series["t"]) == pytest.approx(27 * 5, abs=2)  # thinned to 5 per second
    # NaN (the dropout) is stored as null, never as a number.
    assert any(v is None for v in series["opening_deg"])
    assert all(v is None or math.isfinite(v) for v in series["pelvis_roll_deg"])
    # The stored series reads back as a frame series, its phases and reps as saved.
    back = series_frames(series)
    assert len(back) == len(series["t"]) and back.landmarks is None
    assert {p.value for p in back.phases} == {"ready", "up", "no_person"}
    assert set(back.rep.tolist()) == {0, 1, 2, 3, 4, 5}


@pytest.mark.parametrize("hand", [True, False, None])
def test_hand_on_hip_is_kept_as_yes_no_or_unknown(store, hand):
    report = make_report()
    report["setup"]["hand_on_hip"] = hand
    sid = store.save_analysis("alice", report)
    assert store.session(sid)["setup"]["hand_on_hip"] is hand


def test_video_path_only_when_kept_and_live_kind(store):
    store.save_analysis("bob", make_report(), kind="live", video_path="/keep/set.mp4",
                        recorded_at=T0)
    store.save_analysis("bob", make_report(), recorded_at=T0 + timedelta(hours=1))
    a, b = store.history("bob")
    assert (a["kind"], a["video_path"]) == ("live", "/keep/set.mp4")
    assert (b["kind"], b["video_path"]) == ("analyze", None)
    with pytest.raises(UsageError):
        store.save_analysis("bob", make_report(), kind="batch")


def test_failed_save_leaves_no_half_session(store, db_url):
    store.save_analysis("alice", make_report(), make_frames(), recorded_at=T0)
    before = row_counts(db_url)

    # The database rejects the last rep's bad finding after the session and its reps were
    # inserted in the same transaction: all of it must go.
    bad = make_report()
    bad["reps"][-1]["findings"].append(
        {"code": "roll_back", "severity": "fatal", "value": 30, "threshold": 15})
    with pytest.raises(StorageError) as err:
        store.save_analysis("carol", bad, make_frames(), recorded_at=T0)
    assert "severity" in str(err.value).lower()
    assert row_counts(db_url) == before
    assert [p["name"] for p in store.patients()] == ["alice"]  # the new patient went too

    # A value that is not a number fails too, with nothing written.
    bad = make_report()
    bad["reps"][2]["opening_deg"] = "wide"
    with pytest.raises(StorageError):
        store.save_analysis("alice", bad, recorded_at=T0)
    assert row_counts(db_url) == before
    # The store still works afterwards.
    store.save_analysis("alice", make_report(), recorded_at=T0)
    assert row_counts(db_url)["sessions"] == before["sessions"] + 1


def test_weekly_trends(store):
    # Two sessions in one week, one the next; the boundary is Monday 00:00 UTC.
    sunday_late = datetime(2026, 11, 1, 23, 30, tzinfo=timezone.utc)
    store.save_analysis("dana", make_report(), recorded_at=T0)
    store.save_analysis("dana", make_report(), recorded_at=sunday_late)
    clean = make_report()
    for r in clean["reps"]:
        r["findings"], r["roll_back_deg"], r["opening_deg"] = [], 2.0, 20.0
    del clean["summary"]["clean_reps"]  # counted from the reps' findings instead
    store.save_analysis("dana", clean, recorded_at=sunday_late + timedelta(hours=1))
    w1, w2 = store.trends("dana")
    assert (w1["week"], w1["week_start"], w1["sessions"]) == ("2026-W44", "2026-10-26", 2)
    assert (w1["reps"], w1["clean_reps"], w1["clean_rate"]) == (10, 6, 0.6)
    assert w1["mean_opening_deg"] == pytest.approx(31.6)
    assert w1["mean_roll_back_deg"] == pytest.approx(7.7)
    assert (w2["week"], w2["reps"], w2["clean_reps"], w2["clean_rate"]) == ("2026-W45", 5, 5, 1.0)
    assert (w2["mean_opening_deg"], w2["mean_roll_back_deg"]) == (20.0, 2.0)


def test_unknown_patient(store):
    for call in (store.history, store.trends, store.export, store.prescriptions):
        with pytest.raises(UnknownPatient):
            call("nobody")
    assert store.active_prescription("nobody") is None
    with pytest.raises(UsageError):
        store.save_analysis("   ", make_report())


def test_patients_and_delete(store, db_url):
    store.save_analysis("erin", make_report(), make_frames(), recorded_at=T0)
    store.prescribe("erin", sets=2)
    store.save_analysis("finn", make_report(), recorded_at=T0)
    assert [(p["name"], p["sessions"]) for p in store.patients()] == [("erin", 1), ("finn", 1)]
    store.delete_patient("erin")
    assert [p["name"] for p in store.patients()] == ["finn"]
    counts = row_counts(db_url)
    assert (counts["sessions"], counts["prescriptions"], counts["reps"]) == (1, 0, 5)


def test_reopen_keeps_data(db_url):
    with open_store(db_url) as s:
        s.save_analysis("gus", make_report(), recorded_at=T0)
    with open_store(db_url) as s:  # migrations on an up-to-date database are a no-op
        assert len(s.history("gus")) == 1
