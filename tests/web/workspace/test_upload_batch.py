"""An upload runs through the batch task: the same clip uploaded to the workspace and given to
``clamcoach batch`` (real Ray, one worker, the same database and patient) gives the same
analysis. What may differ is only what the save adds: where and when it was saved, and the
prescription check's count of today's sets (the batch's own file knows no patient)."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest

from tests.batch.helpers import EVAL, run_batch, short_clip
from tests.web.workspace.conftest import csrf_of

pytestmark = pytest.mark.slow

#: Keys a save to the history adds or fills in (the batch's file has no patient).
SAVE_KEYS = ("patient", "prescription_version", "saved")


def analysis_of(report: dict) -> dict:
    """The report without what says where it was saved, its file's folder, or today's sets."""
    out = copy.deepcopy(report)
    for key in SAVE_KEYS:
        out.pop(key, None)
    out["source"]["path"] = Path(out["source"]["path"]).name
    check = out["prescription_check"]
    check.pop("sets_done")
    check["notes"] = [n for n in check["notes"] if n["code"] != "sets_short"]
    return out


def _upload(clinic, clip: Path) -> int:
    ann = clinic.sign_in("ann")
    token = csrf_of(ann.get(f"/patients/{clinic.ann}").text)
    with clip.open("rb") as f:
        response = ann.post(f"/patients/{clinic.ann}/uploads", data={"csrf_token": token},
                            files={"video": (clip.name, f, "video/mp4")})
    assert response.status_code == 303, response.text
    status_url = response.headers["location"] + "/status"
    deadline = time.monotonic() + 300
    while (status := ann.get(status_url).json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["state"] == "done", status
    return int(status["report_url"].rsplit("/", 1)[1])


def test_an_upload_and_a_batch_job_give_the_same_analysis(clinic, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    clip = short_clip(EVAL / "e18_oblique.mp4", folder / "set1.mp4", 12.0)
    upload_session = _upload(clinic, clip)
    uploaded = clinic.store.session(upload_session)["report"]

    patients = tmp_path / "patients.csv"
    patients.write_text("id,patient\nset1,ann\n")
    out = tmp_path / "out"
    db = Path(clinic.store.url.removeprefix("sqlite:///"))
    done = run_batch(folder, "--out", out, "--workers", "1", "--patient-map", patients, db=db)
    assert done.returncode == 0, done.stderr
    batch_file = json.loads((out / "set1.json").read_text())
    record = json.loads((out / "batch.json").read_text())["videos"][0]
    batch_saved = clinic.store.session(record["history_session"])["report"]

    # The analysis itself: reps, findings, setup, numbers: the same, key for key.
    assert uploaded["summary"]["reps"] >= 1
    assert analysis_of(uploaded) == analysis_of(batch_file) == analysis_of(batch_saved)
    # Both ran with ann's prescription (left leg, 10 reps, 3 s hold, tempo 3-3-3) ...
    assert uploaded["prescription_check"]["dose"] == batch_file["prescription_check"]["dose"]
    assert uploaded["prescription_check"]["dose"]["reps"] == 10
    # ... and the upload's save says whose set it was, and counts today's sets (the
    # clinic's sample session, then this one).
    assert uploaded["patient"] == "ann" and uploaded["prescription_version"] == 1
    assert uploaded["prescription_check"]["sets_done"] == 2
    assert [s["id"] for s in clinic.store.history("ann")][-2:] == [upload_session, record["history_session"]]


def test_an_upload_recorded_sideways_is_turned_as_analyze_turns_it(clinic, tmp_path):
    from clamcoach.web.workspace.uploads import run_upload

    upright = short_clip(EVAL / "e18_oblique.mp4", tmp_path / "upright.mp4", 12.0)
    turned = short_clip(EVAL / "e18_oblique.mp4", tmp_path / "turned.mp4", 12.0, turned=True)
    straight = clinic.store.session(run_upload(clinic.store, "ann", upright).session_id)["report"]
    sideways = clinic.store.session(run_upload(clinic.store, "ann", turned).session_id)["report"]
    assert straight["summary"]["reps"] >= 1
    assert sideways["summary"]["reps"] == straight["summary"]["reps"]
    assert any("sideways" in w for w in sideways["warnings"]), sideways["warnings"]
    assert not any("sideways" in w for w in straight["warnings"])
