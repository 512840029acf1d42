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
