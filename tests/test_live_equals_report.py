"""One judgement for live and file: on a rendered clip with the real pose model, the values the
live page shows at a rep's end are the report's, and the live roll-back cue lands exactly on
the reps the report flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clamcoach.pipeline import analyze_video
from clamcoach.protocol import load_protocol
from clamcoach.types import Phase

pytestmark = pytest.mark.slow
DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "demo.mp4"


def test_live_values_at_a_reps_end_equal_the_reports():
    steps = []
    result = analyze_video(DEMO, load_protocol(), on_frame=lambda frame, step: steps.append(step))
    report = json.loads(json.dumps(result.report(), default=str))
    ended = [(i, rep) for i, s in enumerate(steps) for rep in s.new_reps]
    assert [rep.index for _, rep in ended] == [r["index"] for r in report["reps"]]
    truth = json.loads(DEMO.with_suffix(".json").read_text())
    assert len(ended) == len(truth["reps"])
    for (i, rep), r in zip(ended, report["reps"]):
        # The hold the live timer shows at the rep's end is the report's hold.
        assert steps[i].hold_s == pytest.approx(r["hold_s"], abs=1e-3)
        # The opening gauge peaked at the rep's opening.
        during = [s for s in steps if rep.start_s <= s.t <= rep.end_s and s.phase in (Phase.UP, Phase.HOLD, Phase.DOWN)]
        assert max(s.opening_deg for s in during) == pytest.approx(r["opening_deg"], abs=1e-3)
        # The live roll-back cue was said during this rep if and only if the report flags it.
        cued = any(s.cue is not None and s.cue.code == "roll_back" for s in during)
        flagged = any(f["code"] == "roll_back" for f in r["findings"])
        assert not cued or flagged
    # Provenance: the pose model's files, the measurement model and its noise levels.
    measured = report["provenance"]["measurement"]
    assert len(measured["pose_model"]["landmarks_sha256"]) == 64 and measured["model"].startswith("bodyfit")
    assert set(measured["noise_rel"]) == {"hip", "knee", "ankle", "shoulder", "foot"}
    # The demo's rep 3 rolls back 19 deg: caught, live and in the report.
    assert any(f["code"] == "roll_back" for f in report["reps"][2]["findings"])
