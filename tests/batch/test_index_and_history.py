"""The resume index (records, what counts as done, one batch per folder) and saving to the
history exactly once, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from clamcoach.batch.history import save_once
from clamcoach.batch.index import PROGRAM_VERSION, ResultIndex, ResultKey, VideoRecord, protocol_sha256
from clamcoach.errors import UsageError
from clamcoach.protocol import load_protocol
from clamcoach.storage import open_store
from tests.report.samples import make_frames, make_report
from tests.storage.conftest import db_url, row_counts  # noqa: F401  (fixture)
from tests.storage.pg import pg_url, postgres_server_url  # noqa: F401  (fixtures)

KEY = ResultKey("ab" * 32, PROGRAM_VERSION, "cd" * 32)


def record(video_id: str = "v1", **changes) -> VideoRecord:
    base = VideoRecord(video_id, f"/videos/{video_id}.mp4", "ok", 0, "ok", 3.2, reps=5, clean_reps=4,
                       findings={"roll_back": 1}, key=KEY, outputs=[f"{video_id}.json"])
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_a_record_round_trips(tmp_path: Path) -> None:
    index = ResultIndex(tmp_path)
    index.save(record(patient="Ann", history_session=7))
    assert index.load("v1") == record(patient="Ann", history_session=7)
    assert index.load("other") is None
    (index.state_dir / "broken.json").write_text("{half")
    assert index.load("broken") is None  # analysed again, not an error


def test_done_means_ok_for_the_same_key_with_the_outputs_in_place(tmp_path: Path) -> None:
    index = ResultIndex(tmp_path)
    rec = record()
    assert not index.is_done(rec, KEY, ["v1.json"])  # the output is missing
    (tmp_path / "v1.json").write_text("{}")
    assert index.is_done(rec, KEY, ["v1.json"])
    assert not index.is_done(rec, KEY, ["v1.json", "v1.html"])  # now a report is wanted too
    assert not index.is_done(record(status="failed"), KEY, ["v1.json"])
    for other in (ResultKey("ef" * 32, KEY.program_version, KEY.protocol_sha256),
                  ResultKey(KEY.content_sha256, "clamcoach 9.9", KEY.protocol_sha256),
                  ResultKey(KEY.content_sha256, KEY.program_version, "00" * 32)):
        assert not index.is_done(rec, other, ["v1.json"])


def test_the_protocol_hash_follows_every_value() -> None:
    base = protocol_sha256(load_protocol())
    assert protocol_sha256(load_protocol()) == base
    assert protocol_sha256(load_protocol(overrides=["roll_back.error_deg=12"])) != base


def test_one_batch_at_a_time_per_folder(tmp_path: Path) -> None:
    index = ResultIndex(tmp_path)
    with index.locked():
        with pytest.raises(UsageError, match="another batch is writing"):
            with ResultIndex(tmp_path).locked():
                pass
    with ResultIndex(tmp_path).locked():  # released
        pass


def test_taking_the_lock_clears_temporaries_of_a_killed_driver(tmp_path: Path) -> None:
    index = ResultIndex(tmp_path)
    index.state_dir.mkdir()
    stale = [tmp_path / ".a.json.x1y2.tmp", index.state_dir / ".a.json.z3.tmp"]
    for path in stale:
        path.write_text("{half")
    (tmp_path / "a.json").write_text("{}")
    with index.locked():
        assert not any(p.exists() for p in stale)
    assert (tmp_path / "a.json").read_text() == "{}"


def test_a_save_is_made_once_even_when_the_driver_died_after_the_commit(tmp_path: Path, db_url: str) -> None:
    index = ResultIndex(tmp_path)
    index.state_dir.mkdir()
    report = make_report("/videos/v1.mp4")
    with open_store(db_url) as store:
        first = save_once(store, index, "v1", "Ann", KEY, report, make_frames())
        # The driver "died" here: no record says the save happened. The retry saves nothing.
        again = save_once(store, index, "v1", "Ann", KEY, report, make_frames())
        assert again == first
        assert [s["id"] for s in store.history("Ann")] == [first]
        # A different result (another protocol) is another session; so is another patient.
        other_key = ResultKey(KEY.content_sha256, KEY.program_version, "00" * 32)
        assert save_once(store, index, "v1", "Ann", other_key, report, None) != first
        assert save_once(store, index, "v1", "Bob", other_key, report, None) not in (first,)
    counts = row_counts(db_url)
    assert counts["sessions"] == 3 and counts["patients"] == 2


def test_a_save_that_never_committed_is_made_on_retry(tmp_path: Path, db_url: str) -> None:
    """The intent was written, then the process died before the commit."""
    index = ResultIndex(tmp_path)
    index.state_dir.mkdir()
    (index.state_dir / "v1.history.json").write_text(json.dumps(
        {"patient": "Ann", "key": {"content_sha256": KEY.content_sha256, "program_version": KEY.program_version,
                                   "protocol_sha256": KEY.protocol_sha256},
         "recorded_at": "2026-11-30T10:00:00.123456+00:00"}))
    with open_store(db_url) as store:
        sid = save_once(store, index, "v1", "Ann", KEY, make_report("/videos/v1.mp4"), None)
        assert [(s["id"], s["recorded_at"]) for s in store.history("Ann")] == [(sid, "2026-11-30T10:00:00.123456+00:00")]


def test_a_record_keyed_with_the_old_protocol_hash_is_analysed_again(tmp_path: Path) -> None:
    """Before the batch used the reports' protocol hash it hashed another text of the same
    protocol; such a record no longer matches, so the video is analysed again (never skipped)."""
    proto = load_protocol()
    old = hashlib.sha256(json.dumps(proto.raw, sort_keys=True, default=str).encode()).hexdigest()
    assert old != protocol_sha256(proto)
    index = ResultIndex(tmp_path)
    (tmp_path / "v1.json").write_text("{}")
    rec = record(key=ResultKey(KEY.content_sha256, PROGRAM_VERSION, old))
    index.save(rec)
    assert not index.is_done(index.load("v1"), ResultKey(KEY.content_sha256, PROGRAM_VERSION, protocol_sha256(proto)),
                             ["v1.json"])
