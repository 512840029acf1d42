"""Argument parsing of ``clamcoach synth`` (no body model needed)."""

from __future__ import annotations

import argparse

import pytest

from clamcoach.synth import cli
from clamcoach.synth.motion import parse_mistakes


def _parser():
    p = argparse.ArgumentParser(prog="clamcoach")
    sub = p.add_subparsers(dest="command")
    cli.add_parser(sub)
    return p


def test_issue_example_parses():
    a = _parser().parse_args("synth --reps 6 --mistakes roll_back:2,feet_apart:1 --view oblique "
                             "--side right --out set.mp4".split())
    assert a.command == "synth" and a.func is cli.run
    assert a.reps == 6 and a.side == "right" and a.out == "set.mp4"
    assert a.views == ("oblique",)
    assert a.mistakes == {2: ["roll_back"], 1: ["feet_apart"]}


def test_several_views_and_defaults():
    a = _parser().parse_args(["synth", "--views", "front,oblique,overhead,feet"])
    assert a.views == ("front", "oblique", "overhead", "feet")
    assert a.resolution == (640, 480) and a.fps == 15.0 and a.lesson is None
    a = _parser().parse_args(["synth", "--resolution", "480x360", "--lesson", "l.mp4"])
    assert a.resolution == (480, 360) and a.lesson == "l.mp4"


@pytest.mark.parametrize("argv", [
    ["synth", "--view", "ceiling"],
    ["synth", "--mistakes", "slouch:1"],
    ["synth", "--mistakes", "roll_back:0"],
    ["synth", "--mistakes", "roll_back"],
    ["synth", "--resolution", "641x480"],
    ["synth", "--side", "up"],
    ["synth", "--view", "front", "--views", "feet"],
])
def test_bad_arguments_are_rejected(argv, capsys):
    with pytest.raises(SystemExit) as e:
        _parser().parse_args(argv)
    assert e.value.code == 2


def test_parse_mistakes_several_reps():
    assert parse_mistakes("roll_back:2+4, lift_too_high:4") == {2: ["roll_back"], 4: ["roll_back", "lift_too_high"]}
    assert parse_mistakes("") == {}


def test_out_paths_per_view(tmp_path):
    from clamcoach.synth.render import out_paths

    assert out_paths(tmp_path / "a.mp4", ("front",)) == {"front": tmp_path / "a.mp4"}
    assert out_paths(tmp_path / "a.mp4", ("front", "feet"))["feet"] == tmp_path / "a_feet.mp4"


def test_plan_timing_and_mistakes():
    import numpy as np

    from clamcoach.synth.motion import plan_set

    plan = plan_set(5, {2: ["roll_back"], 3: ["lift_too_high"], 4: ["feet_apart"]},
                    np.random.default_rng(0), small_reps=1)
    assert len(plan.reps) == 5
    for r in plan.reps:
        assert 1.0 <= r.up_s <= 2.0 and 1.0 <= r.hold_s <= 2.5 and 1.0 <= r.down_s <= 2.0
        assert 0.5 <= r.rest_s <= 1.5
    assert 15 <= plan.reps[1].roll_back <= 25
    assert 62 <= plan.reps[2].opening <= 70
    assert plan.reps[3].ankle_lift > 0
    assert any(5 <= r.opening <= 10 for i, r in enumerate(plan.reps) if i in (0, 4))
    # still at the start, back at rest after the set
    assert plan.at(0.0).opening == 0.0
    assert plan.at(plan.duration).opening == pytest.approx(0.0, abs=1e-9)
    start = plan.rep_starts()[1]
    peak = plan.at(start + plan.reps[1].up_s + plan.reps[1].hold_s / 2)
    assert peak.roll == pytest.approx(plan.forward_roll - plan.reps[1].roll_back)


def test_new_options_reach_the_spec():
    from clamcoach.synth.options import Hand, Support

    a = _parser().parse_args("synth --hand thigh --knee-pillow 12 --support bed --loose 2.5 --lens 28".split())
    a.seed = 0
    spec = cli.build_spec(a)
    assert spec.top_hand is Hand.THIGH and spec.knee_pillow_cm == 12.0 and spec.support is Support.BED
    assert spec.looseness_cm == 2.5 and spec.lens_35mm == 28.0
    b = _parser().parse_args(["synth", "--hand-off-hip"])
    b.seed = 0
    assert cli.build_spec(b).top_hand is Hand.MAT_BELLY


@pytest.mark.parametrize("argv", [["synth", "--hand", "knee"], ["synth", "--lens", "5"], ["synth", "--loose", "-1"],
                                  ["synth", "--support", "sofa"], ["synth", "--knee-pillow", "x"]])
def test_bad_new_options_are_rejected(argv):
    with pytest.raises(SystemExit) as e:
        _parser().parse_args(argv)
    assert e.value.code == 2
