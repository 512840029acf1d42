"""The history commands, run in-process with parsed arguments."""

from __future__ import annotations

import argparse
import csv
import json

import pytest

from clamcoach.history_cli import add_parsers
from clamcoach.storage import open_store
from tests.report.samples import make_report
from tests.storage.conftest import db_url  # noqa: F401  (fixture: sqlite, and postgres with -m postgres)
from tests.storage.pg import pg_url, postgres_server_url  # noqa: F401  (fixtures db_url uses)


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="clamcoach")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def db(db_url):
    with open_store(db_url) as store:
        store.save_analysis("ann", make_report())
    return db_url


def test_prescribe_then_show(db, capsys):
    assert run("prescribe", "ann", "--sets", "3", "--reps", "10", "--hold", "2", "--side", "left",
               "--band", "light", "--set", "roll_back.error_deg=12", "--db", db) == 0
    out = capsys.readouterr().out
    assert "version 1" in out and "3 x 10 reps" in out and "roll_back.error_deg=12" in out
    assert run("prescribe", "ann", "--reps", "12", "--json", "--db", db) == 0
    p = json.loads(capsys.readouterr().out)
    assert (p["version"], p["sets"], p["reps"]) == (2, 3, 12)
    assert p["overrides"] == {"roll_back": {"error_deg": 12}}
    assert run("prescribe", "ann", "--db", db) == 0  # no options: show, add nothing
    assert "is version 2" in capsys.readouterr().out


def test_prescribe_knee_pillow_is_the_setup_change_and_the_patients_analyses_get_it(db, capsys):
    from clamcoach.protocol import load_protocol

    def pillow() -> bool:
        with open_store(db) as store:
            return load_protocol(patch=store.protocol_patch("ann")).setup.knee_pillow

    assert pillow() is False
    assert run("prescribe", "ann", "--knee-pillow", "--json", "--db", db) == 0
    assert json.loads(capsys.readouterr().out)["overrides"] == {"setup": {"knee_pillow": True}}
    assert pillow() is True


def test_prescribe_rejects_bad_overrides(db, capsys):
    assert run("prescribe", "ann", "--set", "roll_back.nope=1", "--db", db) == 3
    assert "unknown protocol key 'roll_back.nope'" in capsys.readouterr().err
    assert run("prescribe", "ann", "--set", "roll_back.error_deg=lots", "--db", db) == 3
    assert run("prescribe", "ann", "--sets", "0", "--db", db) == 3
    with open_store(db) as store:
        assert store.active_prescription("ann") is None


def test_history_table_and_json(db, capsys):
    assert run("history", "ann", "--db", db) == 0
    out = capsys.readouterr().out
    assert "Sessions of ann (1)" in out and "Weekly trends" in out
    assert "Rolling back x2" in out and "Knee lifted too high x1" in out and "17.0 deg" in out
    assert "roll_back" not in out  # codes show as their labels
    assert run("history", "ann", "--json", "--db", db) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sessions"][0]["reps"] == 5 and data["trends"][0]["clean_reps"] == 3


def test_history_of_unknown_patient(db, capsys):
    assert run("history", "zed", "--db", db) == 2
    assert "no patient named 'zed'" in capsys.readouterr().err


def test_export_csv_and_json(db, tmp_path, capsys):
    assert run("export", "ann", "--csv", str(tmp_path / "h.csv"), "--db", db) == 0
    with open(tmp_path / "h.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["rep"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[3]["findings"] == "roll_back:error;lift_too_high:warn"
    assert run("export", "ann", "--json", str(tmp_path / "h.json"), "--db", db) == 0
    data = json.loads((tmp_path / "h.json").read_text())
    assert data["schema"] == "clamcoach.history/1" and len(data["sessions"]) == 1
    with pytest.raises(SystemExit):  # one of --csv/--json is required
        run("export", "ann", "--db", db)
    capsys.readouterr()


def test_patients(db, capsys):
    assert run("patients", "--json", "--db", db) == 0
    assert [p["name"] for p in json.loads(capsys.readouterr().out)] == ["ann"]


def test_storage_failure_exit_code(tmp_path, capsys):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database" * 100)
    assert run("history", "ann", "--db", str(junk)) == 11
    assert "clamcoach: error:" in capsys.readouterr().err


def test_wired_into_the_main_cli(db, capsys):
    from clamcoach.cli import main

    assert main(["patients", "--db", db]) == 0
    assert "ann" in capsys.readouterr().out


@pytest.mark.parametrize("args, says", [
    (["--set", "roll_back.warn_deg=20"], "'roll_back.warn_deg' (20) is above 'roll_back.error_deg' (15)"),
    (["--hold", "0"], "hold_s must be between 0.1 and 30"),
    (["--reps", "-3"], "reps must be between 1 and 100"),
    (["--hold", "2", "--tempo", "3-3-3"], "contradicts the hold of 'prescription.tempo' 3-3-3"),
])
def test_a_contradicting_prescription_is_one_line_and_saves_nothing(db, capsys, args, says):
    assert run("prescribe", "ann", *args, "--db", db) == 3
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    with open_store(db) as store:
        assert store.prescriptions("ann") == []


def test_erase_needs_yes_and_leaves_a_tombstone(db, capsys):
    from clamcoach.storage import audit

    with open_store(db) as store:
        pid = store.patient_id("ann")
    assert run("erase", "ann", "--db", db) == 2
    assert "add --yes" in capsys.readouterr().err
    assert run("erase", "ann", "--yes", "--db", db) == 0
    assert "patient record erased (1 session)" in capsys.readouterr().out
    with open_store(db) as store:
        assert store.patients() == []
        [entry] = audit.entries(store, patient_ids=[pid])
    assert entry.action.value == "erase" and entry.actor.startswith("cli:")


@pytest.mark.parametrize("argv, handler", [
    (("history", "ann"), "run_history_or_sync"), (("prescribe", "ann"), "run_prescribe"),
    (("export", "ann", "--csv", "x.csv"), "run_export"), (("erase", "ann"), "run_erase"),
    (("patients",), "run_patients"), (("user", "list"), "run_list"),
    (("user", "remove", "ann"), "run_remove"),
])
def test_every_history_command_takes_db_and_its_handler(argv, handler):
    from clamcoach.cli import build_parser

    args = build_parser().parse_args([*argv, "--db", "sqlite:///x.sqlite"])
    assert args.db == "sqlite:///x.sqlite"
    assert args.func.__name__ == handler
