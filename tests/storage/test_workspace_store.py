"""The workspace's tables on SQLite and PostgreSQL, and the upgrade of a history file made by
the version before them (tests/storage/fixtures/history_v2.sqlite, schema 0002)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from clamcoach.accounts.users import add_user, assign_patient, list_users, patients_of
from clamcoach.errors import StorageError, UsageError
from clamcoach.storage import audit, db, open_store, pain
from clamcoach.storage.audit import AuditAction
from clamcoach.storage.erase import erase_patient
from tests.report.samples import make_report
from tests.storage.conftest import row_counts
from tests.storage.test_migrations import HEAD

FIXTURE = Path(__file__).with_name("fixtures") / "history_v2.sqlite"
OLD_TABLES = ("patients", "prescriptions", "sessions", "reps", "findings", "session_series")


def _dump(path: Path) -> dict[str, list[dict]]:
    """Every row of the old tables, in id order, by column name (a migration may move a
    column), read with plain sqlite3."""
    con = sqlite3.connect(path)
    try:
        out = {}
        for table in OLD_TABLES:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
            old = [c for c in cols if c not in ("sessions_per_week", "report")]
            key = "session_id" if table == "session_series" else "id"
            names = ", ".join(f'"{c}"' for c in old)
            rows = con.execute(f"SELECT {names} FROM {table} ORDER BY {key}").fetchall()
            out[table] = [dict(zip(old, row)) for row in rows]
        return out
    finally:
        con.close()


def test_a_history_file_of_the_previous_version_upgrades_in_place(tmp_path):
    path = tmp_path / "history.sqlite"
    shutil.copyfile(FIXTURE, path)
    before = _dump(path)
    assert sum(len(v) for v in before.values()) > 50
    url = f"sqlite:///{path}"
    with open_store(url, migrate=False) as store:
        assert db.current_revision(store._engine) == "0002"
    with open_store(url) as store:  # opening upgrades in place
        assert db.current_revision(store._engine) == HEAD
        history = store.history("ann")
        versions = store.prescriptions("ann")
        detail = store.session(history[0]["id"])
    assert _dump(path) == before  # not one old value changed or lost
    assert [s["reps"] for s in history] == [5, 5, 5, 5]
    assert [s["prescription_version"] for s in history] == [1, 1, 1, 2]
    assert [v["tempo"] for v in versions] == ["3-3-3", "3-3-3"] and versions[0]["sessions_per_week"] is None
    assert detail["report"] is None and detail["series"]["opening_deg"]
    assert detail["setup"]["hand_on_hip"] is False  # the float column's 0.0, now a boolean
    # The old data works with the new parts.
    with open_store(url) as store:
        add_user(store, "thera", "therapist", "a-good-password")
        pid = assign_patient(store, "ann", "thera")
        [thera] = [u for u in list_users(store) if u.username == "thera"]
        assert [name for _, name in patients_of(store, 1)] == ["ann"] and thera.patient_id is None
        pain.add_rating(store, pid, 3)
        sid = store.save_analysis("ann", make_report())
        assert store.session(sid)["report"]["schema"] == "clamcoach.analysis/1"


def test_pain_audit_and_erase(db_url):
    with open_store(db_url) as store:
        add_user(store, "thera", "therapist", "a-good-password")
        add_user(store, "ann", "patient", "a-good-password", therapist="thera")
        pid = store.patient_id("ann")
        sid = store.save_analysis("ann", make_report())
        store.save_analysis("bob", make_report())
        t0 = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
        for k, rating in enumerate((2, 3, 5)):
            pain.add_rating(store, pid, rating, f"day {k}", session_id=sid, when=t0 + timedelta(days=k))
        with pytest.raises(UsageError):
            pain.add_rating(store, pid, 11)
        with pytest.raises(UsageError):
            pain.add_rating(store, pid, "a lot")
        assert [r.rating for r in pain.ratings(store, pid)] == [2, 3, 5]
        audit.record(store, "thera", "therapist", AuditAction.VIEW_PATIENT, pid)
        audit.record(store, "thera", "therapist", AuditAction.LIST_PATIENTS, None)
        assert [e.action for e in audit.entries(store, patient_ids=[pid])] == [AuditAction.VIEW_PATIENT]
        assert len(audit.entries(store, actor="thera")) == 2
        before = row_counts(db_url)
        text = erase_patient(store, pid, actor="thera", actor_role="therapist")
        assert text == "patient record erased (1 session)"
        after = row_counts(db_url)
        assert after["patients"] == before["patients"] - 1 and after["sessions"] == before["sessions"] - 1
        assert [e.action for e in audit.entries(store, patient_ids=[pid])] == [AuditAction.ERASE]
        assert pain.ratings(store, pid) == []
        assert [u.username for u in list_users(store)] == ["thera"]
        assert store.history("bob")


def test_a_rating_outside_the_scale_is_refused_by_the_database_too(db_url):
    from clamcoach.storage import models as m

    with open_store(db_url) as store:
        store.add_patient("p")
        with pytest.raises(StorageError), store.transaction(write=True) as s:
            s.add(m.PainRating(patient_id=store.patient_id("p"), rating=12,
                               recorded_at=datetime.now(timezone.utc)))
