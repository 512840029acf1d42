"""The whole engine on exact synthetic sets: reps, per-rep findings, setup, views, gaps."""

import math

import pytest

from clamcoach.engine import SCHEMA, Engine
from clamcoach.kinematics import geometric_calibration
from clamcoach.protocol import load_protocol
from skeleton import Camera, Pose, clam_set, pose_frame


def run(cam=Camera(pitch=35), top="left", proto=None, gaps=(), **kw):
    proto = proto or load_protocol()
    eng = Engine(proto, calibration=geometric_calibration())
    steps = []
    for t, p in clam_set(**kw):
        visible = not any(a <= t < b for a, b in gaps)
        steps.append(eng.push(pose_frame(p, cam, t=t, top=top) if visible else None, t))
    return eng.finish(), steps


def rep_codes(analysis):
    return {r.index: sorted(f.code for f in r.findings) for r in analysis.reps}


@pytest.mark.parametrize("top", ["left", "right"])
def test_mistakes_land_on_the_right_reps(top):
    a, _ = run(top=top, n_reps=5, roll_back={2: 20}, feet_apart={3: 20}, openings={4: 65, 5: 6})
    assert len(a.reps) == 5
    assert a.top_side == top
    assert rep_codes(a) == {1: [], 2: ["roll_back"], 3: ["feet_apart"], 4: ["lift_too_high"], 5: []}
    assert a.reps[1].roll_back_deg == pytest.approx(20, abs=1.0)
    assert a.reps[3].opening_deg == pytest.approx(65, abs=1.0)
    assert a.reps[4].opening_deg == pytest.approx(6, abs=0.5)
    assert a.setup.findings == ()
    assert a.setup.measures.forward_roll_deg == pytest.approx(10, abs=0.5)


def test_front_view_says_it_cannot_judge_the_roll_back():
    a, _ = run(cam=Camera(pitch=0), n_reps=3, roll_back={2: 20})
    assert a.view.value == "front" and not a.view_can_see_roll
    assert [f.code for f in a.setup.findings] == ["camera_view"]
    assert all(math.isnan(r.roll_back_deg) for r in a.reps)
    d = a.to_dict({})
    assert any("cannot judge" in w for w in d["warnings"])


def test_live_cue_for_roll_back_during_the_rep():
    _, steps = run(n_reps=2, roll_back={2: 20}, up=1.5, hold=2.0, down=1.5, rest=1.0, lead_in=2.0)
    cues = [(s.t, s.cue.code) for s in steps if s.cue]
    rep2_start, rep2_end = 2.0 + 6.0, 2.0 + 6.0 + 5.0
    roll_cues = [t for t, c in cues if c == "roll_back"]
    assert roll_cues and rep2_start < roll_cues[0] < rep2_end - 1.5  # said before the rep is over


def test_reps_are_not_counted_before_the_setup_holds():
    eng = Engine(load_protocol(), calibration=geometric_calibration())
    steps = [eng.push(pose_frame(Pose(opening=0), Camera(pitch=35), t=i / 30), i / 30) for i in range(10)]
    assert all(s.phase == "setup" for s in steps)
    assert not steps[-1].setup_ok


def test_gaps_abandon_a_rep_and_are_recorded():
    a, steps = run(n_reps=3, gaps=[(9.0, 10.5)])
    assert len(a.reps) == 2
    assert sum(1 for s in steps if s.phase == "no_person") == pytest.approx(45, abs=1)
    assert a.pose_coverage < 1.0
    gap_rows = [r for r in a.frames if 9.0 <= r["t"] < 10.5]
    assert all(math.isnan(r["opening_deg"]) and r["landmarks"] is None for r in gap_rows)


def test_prescribed_threshold_changes_findings():
    strict = load_protocol(overrides=["roll_back.warn_deg=5", "roll_back.error_deg=8"])
    a, _ = run(proto=strict, n_reps=2, roll_back={2: 7})
    assert rep_codes(a) == {1: [], 2: ["roll_back"]}
    a, _ = run(n_reps=2, roll_back={2: 7})
    assert rep_codes(a) == {1: [], 2: []}


def test_report_contract():
    a, _ = run(n_reps=2)
    d = a.to_dict({"path": "x.mp4"})
    assert d["schema"] == SCHEMA
    for key in ("source", "camera_view", "top_side", "pose_coverage", "setup", "reps", "summary", "warnings"):
        assert key in d
    assert set(d["setup"]) >= {"hip_flexion_deg", "knee_flexion_deg", "forward_roll_deg", "hand_on_hip", "findings"}
    rep_keys = {"index", "start_s", "peak_s", "end_s", "opening_deg", "knee_lift_cm", "roll_back_deg",
                "ankle_gap_cm", "up_s", "hold_s", "down_s", "findings"}
    assert rep_keys <= set(d["reps"][0])
    assert d["summary"]["reps"] == 2 and d["summary"]["clean_reps"] == 2
    assert d["provenance"]["protocol"]["roll_back"]["error_deg"] == 15


def test_setup_mistakes_are_found():
    a, _ = run(n_reps=1, base=Pose(roll=-4, hand_on_hip=False, hip=20))
    assert sorted(f.code for f in a.setup.findings) == ["hand_not_on_hip", "hip_angle", "not_rolled_forward"]


def test_hand_off_hip_says_the_roll_back_reading_is_not_to_be_trusted():
    """On the tuning clips a hand off the hip made roll-backs read far too low: say so."""
    off, _ = run(n_reps=1, base=Pose(hand_on_hip=False))
    on, _ = run(n_reps=1)
    assert off.view_can_see_roll and on.view_can_see_roll
    assert any("hand was not on your hip" in w for w in off.to_dict({})["warnings"])
    assert not any("hand was not on your hip" in w for w in on.to_dict({})["warnings"])


def test_the_live_summary_praises_staying_rolled_forward_only_when_it_could_tell():
    from clamcoach.web.summary import SetRecord, summarize

    praise = "You stayed rolled forward on every rep: the most important part."
    proto = load_protocol()
    on, _ = run(n_reps=2)
    off, _ = run(n_reps=2, base=Pose(hand_on_hip=False))
    assert praise in summarize([SetRecord(1, on)], 1, 2, proto)["went_well"]
    assert praise not in summarize([SetRecord(1, off)], 1, 2, proto)["went_well"]
