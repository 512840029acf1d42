"""The accuracy benchmark still reads what the engine writes (it imports the engine's types)."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.mark.slow
def test_the_accuracy_bench_scores_a_rendered_clip():
    import bench_accuracy as bench

    clip = ROOT / "data" / "eval" / "e5_feet.mp4"
    result = bench.analyse_clip((str(clip), "blazepose", False, ()))
    from clamcoach.series import FrameSeries

    assert "error" not in result
    frames = result["frames"]
    assert isinstance(frames, FrameSeries) and len(frames) > 100 and frames.landmarks is None
    [scored], errors = bench.score_results("eval", [result])
    truth = json.loads(clip.with_suffix(".json").read_text())
    assert errors == [] and scored.view == truth["camera"]["view"]
    assert 0.0 <= scored.score.exact_count <= 1.0
