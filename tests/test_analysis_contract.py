"""The analysis contract (clamcoach.analysis/1) as a JSON Schema, checked against what the engine
writes, and used by the history to refuse malformed reports."""

import functools
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


# ---- provenance: what every report says produced it -----------------------------------------

LITERT = {"backend": "litert", "variant": "full", "detector_sha256": "a" * 64, "landmarks_sha256": "b" * 64}


@functools.cache
def _engine_report_text() -> str:
    a, _ = run(n_reps=1)
    report = a.to_dict({"path": "x.mp4"})
    report["provenance"]["measurement"]["pose_model"] = dict(LITERT)
    return json.dumps(report)


def engine_report() -> dict:
    """A fresh copy of one engine report, its pose model as a file analysis names it."""
    return json.loads(_engine_report_text())


def test_the_engines_provenance_follows_the_schema_with_the_measurement_parameters():
    report = engine_report()
    validate_report(report)
    measurement = report["provenance"]["measurement"]
    assert {"model", "landmarks", "params", "profile"} <= set(measurement)


def test_reports_from_before_the_program_was_named_still_follow_it():
    old = make_report()  # the first reports: provenance = protocol + calibration
    assert "program" not in old["provenance"]
    validate_report(old)
    measured = engine_report()
    measured["provenance"] = {"protocol": measured["provenance"]["protocol"],
                              "measurement": {"model": "bodyfit-1", "landmarks": "blazepose"}}
    validate_report(measured)  # then the measurement model, before program and hash


def _drop(path: str):
    def drop(report: dict) -> None:
        *parents, last = path.split("/")
        node = report
        for key in parents:
            node = node[key]
        node.pop(last)
    drop.__name__ = f"without {path}"
    return drop


def _set(path: str, value):
    def put(report: dict) -> None:
        *parents, last = path.split("/")
        node = report
        for key in parents:
            node = node[key]
        node[last] = value
    put.__name__ = f"{path} = {value!r}"[:60]
    return put


@pytest.mark.parametrize("break_it, where", [
    (_drop("provenance"), "(top)"),
    (_drop("provenance/protocol"), "provenance"),
    (_drop("provenance/protocol_sha256"), "provenance"),
    (_drop("provenance/measurement"), "provenance"),
    (_set("provenance/protocol_sha256", "cd" * 16), "provenance/protocol_sha256"),
    (_set("provenance/protocol_sha256", "AB" * 32), "provenance/protocol_sha256"),
    (_set("provenance/program", "someone else"), "provenance/program"),
    (_drop("provenance/measurement/model"), "provenance/measurement"),
    (_drop("provenance/measurement/params"), "provenance/measurement"),
    (_drop("provenance/measurement/params/settle_s"), "provenance/measurement/params"),
    (_set("provenance/measurement/params/lost_s", "long"), "provenance/measurement/params/lost_s"),
    (_drop("provenance/measurement/profile"), "provenance/measurement"),
    (_drop("provenance/measurement/profile/priors"), "provenance/measurement/profile"),
    (_set("provenance/measurement/profile/priors/thigh", [0.4]), "provenance/measurement/profile/priors/thigh"),
    (_drop("provenance/measurement/pose_model/backend"), "provenance/measurement/pose_model"),
    (_drop("provenance/measurement/pose_model/landmarks_sha256"), "provenance/measurement/pose_model"),
    (_set("provenance/measurement/pose_model/detector_sha256", "x" * 64),
     "provenance/measurement/pose_model/detector_sha256"),
    (_set("provenance/measurement/pose_model", {"backend": "mediapipe", "variant": "full"}),
     "provenance/measurement/pose_model"),
    (_set("provenance/measurement/pose_model", {**LITERT, "variant": "huge"}),
     "provenance/measurement/pose_model/variant"),
])
def test_a_report_missing_or_mangling_its_provenance_is_refused(break_it, where):
    report = engine_report()
    break_it(report)
    with pytest.raises(ValueError) as info:
        validate_report(report)
    assert f"at {where}:" in str(info.value)


@pytest.mark.parametrize("pose_model", [
    {"backend": "replay"},
    {"backend": "litert", "segmented": True, "variant": "heavy", "detector_sha256": "a" * 64,
     "landmarks_sha256": None},
    {"backend": "mediapipe", "variant": "lite", "bundle_sha256": "c" * 64},
])
def test_every_pose_model_a_report_can_name_follows_it(pose_model):
    report = engine_report()
    report["provenance"]["measurement"]["pose_model"] = pose_model
    validate_report(report)
