"""The whole engine on exact synthetic sets: reps, per-rep findings, setup, placement, gaps.

The landmarks are exact joint centres (tests/skeleton.py), so the engine measures them with
the joint-centre landmark profile and the camera's true focal length.
"""


import numpy as np
import pytest

from clamcoach.engine import SCHEMA, Engine
from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.protocol import load_protocol
from clamcoach.types import Phase
from skeleton import Camera, Pose, clam_set, pose_frame


def make_engine(proto=None, cam=Camera(pitch=35)):
    return Engine(proto or load_protocol(), profile=JOINT_CENTRES, focal_px=cam.focal_px)


def run(cam=Camera(pitch=35), top="left", proto=None, gaps=(), **kw):
    eng = make_engine(proto, cam)
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
    # within the stated 90% interval (the network reads this stick body's roll-back ~2 deg low)
    assert abs(a.reps[1].roll_back_deg - 20) <= 1.645 * a.reps[1].roll_back_sd_deg
    assert a.reps[3].opening_deg == pytest.approx(65, abs=5.0)
    assert a.reps[4].opening_deg == pytest.approx(6, abs=1.0)
    assert a.setup.findings == ()
    # The forward roll at setup is the least determined number (the camera's elevation trades
    # off against it): within its stated SD.
    m = a.setup.measures
    assert abs(m.forward_roll_deg - 10) <= 1.645 * m.forward_roll_sd_deg


def test_every_measure_has_a_standard_deviation():
    a, _ = run(n_reps=2, roll_back={2: 20})
    for rep in a.reps:
        for sd in (rep.roll_back_sd_deg, rep.ankle_gap_sd_cm):
            assert 0 < sd < 10
        # the opening's carries the setup's doubt about the knee's circle (gain_spread), at the
        # peak: from 35 deg about a quarter of the opening
        assert 0 < rep.opening_sd_deg < 0.4 * rep.opening_deg
    d = a.to_dict({})
    assert d["reps"][1]["roll_back_sd_deg"] == pytest.approx(a.reps[1].roll_back_sd_deg, abs=0.01)
    assert d["reps"][1]["roll_judged"] is True


def test_a_level_front_camera_says_it_cannot_judge_the_roll_back_and_where_to_move():
    a, _ = run(cam=Camera(pitch=0), n_reps=3, roll_back={2: 20})
    assert a.view == "front" and not a.view_can_see_roll
    assert a.setup.measures.roll_sd_deg > load_protocol().roll_back.max_sd_deg
    assert "camera_view" in [f.code for f in a.setup.findings]
    assert all(not r.roll_judged and not any(f.code == "roll_back" for f in r.findings) for r in a.reps)
    warning = " ".join(a.to_dict({})["warnings"])
    assert "too loosely to judge a roll-back" in warning and "raise the camera" in warning


def test_live_cue_for_roll_back_during_the_rep():
    _, steps = run(n_reps=2, roll_back={2: 20}, up=1.5, hold=2.0, down=1.5, rest=1.0, lead_in=2.0)
    cues = [(s.t, s.cue.code) for s in steps if s.cue]
    rep2_start, rep2_end = 2.0 + 6.0, 2.0 + 6.0 + 5.0
    roll_cues = [t for t, c in cues if c == "roll_back"]
    assert roll_cues and rep2_start < roll_cues[0] < rep2_end - 1.5  # said before the rep is over


def test_reps_are_not_counted_before_the_setup_holds():
    eng = make_engine()
    steps = [eng.push(pose_frame(Pose(opening=0), Camera(pitch=35), t=i / 30), i / 30) for i in range(10)]
    assert all(s.phase is Phase.SETUP for s in steps)
    assert not steps[-1].setup_ok


def test_gaps_abandon_a_rep_and_are_recorded():
    a, steps = run(n_reps=3, gaps=[(9.0, 10.5)])
    assert len(a.reps) == 2
    assert sum(1 for s in steps if s.phase is Phase.NO_PERSON) == pytest.approx(45, abs=1)
    assert a.pose_coverage < 1.0
    gap = (a.frames.t >= 9.0) & (a.frames.t < 10.5)
    assert gap.sum() == pytest.approx(45, abs=1)
    assert np.isnan(a.frames.opening_deg[gap]).all() and np.isnan(a.frames.landmarks[gap]).all()
    assert not a.frames.posed[gap].any() and a.frames.posed[~gap].all()


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
    a, _ = run(n_reps=1, base=Pose(roll=-25, hand_on_hip=False, hip=80, knee=110))
    assert {"hand_not_on_hip", "knee_angle", "not_rolled_forward"} <= {f.code for f in a.setup.findings}


def test_the_setup_angles_come_with_honest_standard_deviations():
    """From one still image the camera's elevation trades off against the hip flexion and the
    forward roll (the landmarks fit within a pixel either way): the stated SDs say so."""
    for base in (Pose(roll=-4, hip=20), Pose(roll=15, hip=55, knee=70)):
        m = run(n_reps=1, base=base)[0].setup.measures
        assert abs(m.forward_roll_deg - base.roll) <= 1.645 * m.forward_roll_sd_deg
        assert m.forward_roll_sd_deg > 3.0


def test_the_roll_back_is_judged_whatever_the_hand_does():
    """The body model is fitted to hips, knees, ankles, feet and shoulders, never the hands."""
    off, _ = run(n_reps=2, roll_back={2: 20}, base=Pose(hand_on_hip=False))
    assert off.view_can_see_roll and off.roll_reading_trusted
    assert rep_codes(off)[2] == ["roll_back"]
    assert "hand_not_on_hip" in [f.code for f in off.setup.findings]


def test_the_live_summary_praises_staying_rolled_forward_only_when_it_could_tell():
    from clamcoach.web.summary import SetRecord, summarize

    praise = "You stayed rolled forward on every rep: the most important part."
    proto = load_protocol()
    seen, _ = run(n_reps=2)
    unseen, _ = run(n_reps=2, cam=Camera(pitch=0))
    assert praise in summarize([SetRecord(1, seen)], 1, 2, proto)["went_well"]
    assert praise not in summarize([SetRecord(1, unseen)], 1, 2, proto)["went_well"]


def test_feet_a_quarter_shin_apart_are_apart():
    # The ankles start 7 cm apart (their centres); the limit is a quarter of the 40.5 cm shin:
    # 10 degrees of abduction opens them to 20 cm, well past it, and nothing stays well inside.
    a, _ = run(n_reps=2, feet_apart={2: 10})
    assert rep_codes(a) == {1: [], 2: ["feet_apart"]}
    assert a.reps[0].ankle_gap_limit_cm == pytest.approx(0.25 * 40.5, abs=0.3)


def test_a_wiggle_of_a_few_degrees_is_not_a_rep():
    # The method's smallest rep is 5 degrees (counted from 3.5 as small openings read small):
    # a 2.5 degree wiggle is not one, a 6 degree opening is.
    a, _ = run(n_reps=3, openings={2: 2.5, 3: 6})
    assert len(a.reps) == 2
    assert a.reps[1].opening_deg == pytest.approx(6, abs=1.0)
