"""Migrations: they build exactly the models' schema, and upgrade old databases in place."""

from __future__ import annotations

from datetime import datetime, timezone

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from clamcoach.series import FrameSeries
from clamcoach.storage import db, open_store
from clamcoach.storage.models import Base
from tests.report.samples import make_report

HEAD = ScriptDirectory.from_config(db.alembic_config()).get_current_head()


def test_migrations_match_the_models(db_url):
    with open_store(db_url) as store:
        engine = store._engine
        assert db.current_revision(engine) == HEAD
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_from_revision_1_keeps_data(db_url):
    engine, write = db.create(db.resolve_url(db_url))
    try:
        db.migrate(write, "0001")
        assert db.current_revision(engine) == "0001"
        when = datetime(2026, 9, 1, 9, tzinfo=timezone.utc)
        with write.begin() as c:
            c.execute(text("INSERT INTO patients (name, created_at) VALUES ('old', :t)"), {"t": when})
            pid = c.scalar(text("SELECT id FROM patients WHERE name = 'old'"))
            c.execute(text(
                "INSERT INTO sessions (patient_id, recorded_at, kind, camera_view, rep_count, "
                "clean_reps, warnings) VALUES (:p, :t, 'analyze', 'front', 2, 1, '[]')"),
                {"p": pid, "t": when})
            sid = c.scalar(text("SELECT id FROM sessions"))
            for i, (opening, roll, clean) in enumerate([(20.0, 4.0, True), (30.0, 12.0, False)], 1):
                c.execute(text(
                    'INSERT INTO reps (session_id, "index", opening_deg, roll_back_deg, clean) '
                    "VALUES (:s, :i, :o, :r, :c)"), {"s": sid, "i": i, "o": opening, "r": roll, "c": clean})
            rid = c.scalar(text('SELECT id FROM reps WHERE "index" = 2'))
            c.execute(text(
                "INSERT INTO findings (session_id, rep_id, code, severity, value, threshold) "
                "VALUES (:s, :r, 'roll_back', 'warn', 12.0, 10.0)"), {"s": sid, "r": rid})
    finally:
        engine.dispose()

    with open_store(db_url) as store:  # opening upgrades in place
        assert db.current_revision(store._engine) == HEAD
        insp = inspect(store._engine)
        assert "trunk_roll_back_deg" in {c["name"] for c in insp.get_columns("reps")}
        assert "ix_sessions_patient_recorded" in {i["name"] for i in insp.get_indexes("sessions")}
        [old] = store.history("old")
        assert (old["reps"], old["clean_reps"], old["camera_view"]) == (2, 1, "front")
        assert old["findings"] == {"roll_back": 1}
        assert old["mean_opening_deg"] == 25.0
        detail = store.session(old["id"])
        assert [r["trunk_roll_back_deg"] for r in detail["rep_detail"]] == [None, None]
        assert detail["series"] is None
        # New data uses the new column and table.
        sid = store.save_analysis("old", make_report(), FrameSeries.from_dict({"t": [0.0], "opening_deg": [1.0]}))
        new = store.session(sid)
        assert new["rep_detail"][0]["trunk_roll_back_deg"] is not None
        assert new["series"]["opening_deg"] == [1.0]
        assert [w["sessions"] for w in store.trends("old")] == [1, 1]
