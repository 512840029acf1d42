"""The analysis contract (clamcoach.analysis/1) as a JSON Schema, checked against what the engine
writes, and used by the history to refuse malformed reports."""

import json

import pytest

from clamcoach.analysis import validate_report
from clamcoach.errors import StorageError
from clamcoach.series import FrameSeries
from tests.report.samples import make_report
from tests.test_engine import run


def test_the_engines_report_follows_the_schema():
    a, _ = run(n_reps=2, roll_back={2: 20})
    report = json.loads(json.dumps(a.to_dict({"path": "x.mp4"})))
    validate_report(report)
    assert report["provenance"]["program"].startswith("clamcoach ")
    assert len(report["provenance"]["protocol_sha256"]) == 64


def test_older_reports_without_the_new_fields_still_follow_it():
    validate_report(make_report())


@pytest.mark.parametrize("break_it, where", [
    (lambda r: r.pop("reps"), "(top)"),
    (lambda r: r["reps"][0].update(opening_deg="wide"), "reps/0/opening_deg"),
    (lambda r: r["setup"]["findings"].append({"code": "x", "severity": "fatal", "value": None,
                                              "threshold": None, "message": "", "cue": ""}),
     "setup/findings/1/severity"),
])
def test_a_malformed_report_is_refused_in_one_line(break_it, where):
    report = make_report()
    break_it(report)
    with pytest.raises(ValueError) as info:
        validate_report(report)
    assert where in str(info.value) and "\n" not in str(info.value)


def test_the_history_refuses_a_malformed_report(tmp_path):
    from clamcoach.storage import open_store

    report = make_report()
    report["reps"][0]["hold_s"] = "long"
    with open_store(f"sqlite:///{tmp_path / 'h.sqlite'}") as store:
        with pytest.raises(StorageError, match="reps/0/hold_s"):
            store.save_analysis("ann", report, FrameSeries.empty())
        store.save_analysis("ann", make_report(), FrameSeries.empty())  # a good one is kept, the bad one was not
        assert len(store.history("ann")) == 1
