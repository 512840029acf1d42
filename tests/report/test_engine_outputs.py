"""Every output of this package fed by the real engine (on exact synthetic landmarks, no pose
model): the shapes the engine produces are the shapes these writers accept."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import av
import numpy as np
import pytest

from clamcoach.engine import Engine
from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.protocol import load_protocol
from clamcoach.report.annotate import AnnotatedVideoWriter
from clamcoach.report.export import write_frames_csv
from clamcoach.report.html import render_report
from clamcoach.storage import open_store
from skeleton import Camera, clam_set, pose_frame

FPS = 15.0


@pytest.fixture(scope="module")
def engine_run():
    cam = Camera(pitch=35, width=480, height=360, focal_px=350)
    eng = Engine(load_protocol(), profile=JOINT_CENTRES, focal_px=cam.focal_px)
    steps = []
    for t, p in clam_set(n_reps=3, roll_back={2: 20}, openings={3: 65}, fps=FPS):
        visible = not (3.0 <= t < 3.4)
        steps.append(eng.push(pose_frame(p, cam, t=t, top="left") if visible else None, t))
    analysis = eng.finish()
    report = json.loads(json.dumps(analysis.to_dict({"path": "/x/synthetic.mp4", "fps": FPS}),
                                   default=lambda o: None))
    return analysis, report, steps, cam


def test_report_and_csv_from_the_engine(engine_run, tmp_path):
    analysis, report, _, _ = engine_run
    assert [r["index"] for r in report["reps"]] == [1, 2, 3]
    html = render_report(report, analysis.frames, None)
    assert html.count("data:image/svg+xml") == 1
    assert "Rolling back" in html and "Knee lifted too high" in html
    write_frames_csv(tmp_path / "f.csv", analysis.frames, landmarks=True)
    with open(tmp_path / "f.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(analysis.frames)
    assert {r["rep"] for r in rows} >= {"1", "2", "3"}


def test_annotated_video_from_engine_steps(engine_run, tmp_path):
    _, _, steps, cam = engine_run
    blank = np.full((cam.height, cam.width, 3), 90, np.uint8)
    with AnnotatedVideoWriter(tmp_path / "a.mp4", FPS, cam.width, cam.height) as writer:
        for step in steps:
            writer(SimpleNamespace(rgb=blank, t=step.t), step)
    with av.open(str(tmp_path / "a.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == len(steps)
    assert any(s.body is None for s in steps)  # the gap was drawn too


def test_history_from_the_engine(engine_run, tmp_path):
    analysis, report, _, _ = engine_run
    with open_store(tmp_path / "h.sqlite") as store:
        sid = store.save_analysis("synthetic", report, analysis.frames)
        detail = store.session(sid)
    assert detail["reps"] == len(analysis.reps)
    assert detail["clean_reps"] == analysis.clean_reps()
    assert [r["opening_deg"] for r in detail["rep_detail"]] == pytest.approx(
        [r.opening_deg for r in analysis.reps], abs=0.01)
    assert detail["source_name"] == "synthetic.mp4"
