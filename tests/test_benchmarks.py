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


def test_the_gain_table_compares_each_clips_stated_share_with_its_log_error():
    """Two clips stated 0.2 and 0.5: one 0.1 off (within 1.645 x 0.2), one 1.0 off (outside
    1.645 x 0.5); each lands in its own row with its own figures."""
    import math

    import bench_accuracy as bench
    from clamcoach.evaluation import TruthRep

    truth = [TruthRep(start_s=1.0, peak_s=2.0, end_s=3.0, opening_deg=30.0, roll_back_deg=0.0, labels=frozenset())]
    report = {"reps": [{"start_s": 1.0, "peak_s": 2.0, "end_s": 3.0, "opening_deg": 30.0 * math.e, "findings": []}]}
    assert bench.gain_log_error(report, truth) == pytest.approx(1.0)
    small = bench.Scored("eval", "a.mp4", "oblique", "25-45", 35.0, None, True, gain_sd_rel=0.2, gain_log_error=0.1)
    large = bench.Scored("eval", "b.mp4", "front", "0-15", 0.0, None, True, gain_sd_rel=0.5, gain_log_error=1.0)
    rows = bench.gain_rows({"eval": [small, large]}, 0.4)
    assert rows[2] == "| eval | <= 0.4 | 1 | 0.20 | 0.10 | 100% |"
    assert rows[3] == "| eval | > 0.4 | 1 | 0.50 | 1.00 | 0% |"


def test_a_clip_that_never_settled_scores_three_empty_designs_and_the_table_still_renders():
    # A degraded clip whose setup never settled once crashed the design table (two designs
    # returned where every row reads three).
    import lifting_compare as lc
    from clamcoach.series import FrameSeries

    never = lc.compare_clip({"frames": [], "reps": []}, {"setup": {"settled_at_s": None}},
                            FrameSeries.empty(), None)
    assert len(never) == 3 and all(d == lc.DesignErrors() for d in never)
    rows = lc.comparison_rows({"degraded": [never]})
    assert rows[2].startswith("| degraded | 1 | ") and "n/a / n/a / n/a" in rows[2]
