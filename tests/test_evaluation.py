"""The accuracy benchmark's scoring, on hand-made cases."""

import math

import pytest

from clamcoach.evaluation import Counts, TruthRep, match_reps, score_clip


def truth(start, end, opening=30.0, roll=0.0, labels=()):
    return TruthRep(start, (start + end) / 2, end, opening, roll, frozenset(labels))


def det(start, end, opening=30.0, roll=0.0, codes=()):
    return {"start_s": start, "peak_s": (start + end) / 2, "end_s": end, "opening_deg": opening,
            "roll_back_deg": roll, "findings": [{"code": c} for c in codes]}


def test_perfect_analysis():
    tr = [truth(0, 5), truth(6, 11, roll=20, labels={"roll_back"})]
    rep = {"reps": [det(0, 5), det(6, 11, roll=20, codes={"roll_back"})], "view_can_see_roll": True}
    s = score_clip(rep, tr)
    assert s.exact_count and s.timing_errors == [0, 0, 0, 0]
    assert s.codes["roll_back"].tp == 1 and s.codes["roll_back"].f1 == 1.0


def test_missed_extra_and_wrong_reps():
    tr = [truth(0, 5, labels={"feet_apart"}), truth(6, 11), truth(12, 17, labels={"roll_back"})]
    rep = {"reps": [det(0.2, 5.4, opening=33), det(12, 17, codes={"lift_too_high"}), det(20, 22, codes={"roll_back"})],
           "view_can_see_roll": True}
    s = score_clip(rep, tr)
    assert (s.n_truth, s.n_detected, s.exact_count) == (3, 3, True)  # right count, wrong reps
    assert s.timing_errors[:2] == pytest.approx([0.2, 0.4])
    assert s.opening_errors[0] == pytest.approx(3)
    assert (s.codes["feet_apart"].tp, s.codes["feet_apart"].fn) == (0, 1)
    assert (s.codes["roll_back"].fp, s.codes["roll_back"].fn) == (1, 1)
    assert s.codes["lift_too_high"].fp == 1


def test_each_true_roll_back_is_listed_with_whether_it_was_flagged():
    tr = [truth(0, 5, roll=12, labels={"roll_back"}), truth(6, 11, roll=20, labels={"roll_back"}),
          truth(12, 17), truth(18, 23, roll=14, labels={"roll_back"})]
    rep = {"reps": [det(0, 5, roll=8), det(6, 11, roll=19, codes={"roll_back"}), det(12, 17, codes={"roll_back"})],
           "view_can_see_roll": True}
    s = score_clip(rep, tr)
    assert s.roll_back_outcomes == [(12, False), (20, True), (14, False)]  # the last one was not detected


def test_roll_not_scored_where_the_view_cannot_see_it():
    s = score_clip({"reps": [det(0, 5, roll=None)], "view_can_see_roll": False}, [truth(0, 5, roll=20)])
    assert s.roll_back_errors == [] and not s.roll_judged


def test_matching_is_one_to_one():
    pairs = match_reps([det(0, 5), det(1, 4)], [truth(0, 5)])
    assert pairs == [(0, 0)]


def test_counts_f1():
    c = Counts(tp=9, fp=1, fn=1)
    assert c.precision == pytest.approx(0.9) and c.recall == pytest.approx(0.9) and c.f1 == pytest.approx(0.9)
    assert math.isnan(Counts().f1)
    assert Counts(fp=2).f1 == 0.0


def _series(**columns):
    from clamcoach.series import FrameSeries

    return FrameSeries.from_dict(columns)


def test_frames_are_scored_against_the_nearest_truth_frame():
    """Hip and knee errors per frame (a gap is skipped); after the setup, the opening and the
    roll as changes from the first measured frame, against the truth's changes, each with the
    SD the analysis stated."""
    frames = _series(t=[0.0, 1.0, 2.0, 3.0], hip_flexion_deg=[40.0, 41.0, None, 45.0],
                     knee_flexion_deg=[50.0, 50.0, 50.0, 50.0], opening_deg=[None, 0.0, 10.0, 20.0],
                     opening_sd_deg=[None, 1.0, 2.0, 3.0], pelvis_roll_deg=[5.0, 5.0, 3.0, 1.0],
                     pelvis_roll_sd_deg=[None, 0.5, 0.5, 0.5])
    truth_frames = [dict(t=t, hip_flexion_deg=42.0, knee_flexion_deg=48.0, opening_deg=o, pelvis_roll_deg=r)
                    for t, o, r in [(0.02, 0.0, 10.0), (0.98, 1.0, 10.0), (2.03, 13.0, 9.0), (3.01, 21.0, 7.0)]]
    s = score_clip({"reps": [], "setup": {"settled_at_s": 0.5}}, [], truth_frames, frames)
    assert s.hip_errors == pytest.approx([2.0, 1.0, 3.0])
    assert s.knee_errors == pytest.approx([2.0] * 4)
    # Changes from the frame at 1.0 s: opening 0, 10, 20 against truth 0, 12, 20; roll 0, -2, -4 against 0, -1, -3.
    assert [x for pair in s.intervals["opening"] for x in pair] == pytest.approx([0.0, 1.0, -2.0, 2.0, 0.0, 3.0])
    assert [x for pair in s.intervals["roll"] for x in pair] == pytest.approx([0.0, 0.5, -1.0, 0.5, -1.0, 0.5])
