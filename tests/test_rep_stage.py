"""The rep stage: the live roll-back and lift checks as a rep goes, the rep's findings when it
ends, and the set's findings; fed exact per-frame measures (no pose, no fit)."""

import math

import numpy as np
import pytest

from clamcoach.protocol import load_protocol
from clamcoach.rep_stage import NO_LIFT_AFTER_S, NO_LIFT_MEASURED_SHARE, RepStage
from clamcoach.types import Kinematics, Phase, Severity, Spread

FPS = 30
PROTO = load_protocol()
ROLL = 10.0  # the set-up's forward roll (deg)
SD = Spread(opening_deg=1.0, pelvis_roll_deg=1.0, trunk_roll_deg=1.0)


def smooth(x: float) -> float:
    """A minimum-jerk ramp from 0 to 1 over x in [0, 1]."""
    x = min(max(x, 0.0), 1.0)
    return 10 * x ** 3 - 15 * x ** 4 + 6 * x ** 5


def clam_rep(opening: float = 30.0, up_s: float = 2.0, hold_s: float = 2.0, down_s: float = 2.0,
             rest_s: float = 2.0, roll_back=lambda t: 0.0):
    """(t, Kinematics) of rest, one rep and rest; ``roll_back(t)``: how far the pelvis has
    rolled back from the set-up's roll at time t."""
    total = rest_s + up_s + hold_s + down_s + rest_s
    out = []
    for i in range(round(total * FPS) + 1):
        t = i / FPS
        up = smooth((t - rest_s) / up_s)
        down = smooth((t - rest_s - up_s - hold_s) / down_s)
        o = opening * (up - down)
        roll = ROLL - roll_back(t)
        out.append((t, Kinematics(t=t, opening_deg=o, knee_lift_cm=0.3 * o, pelvis_roll_deg=roll,
                                  trunk_roll_deg=ROLL, sd=SD)))
    return out


def run(frames, roll_judged: bool = True):
    stage = RepStage(PROTO)
    return stage, [(t, stage.push(t, kin, roll_judged)) for t, kin in frames]


def the_rep(steps):
    (rep,) = [out.rep for _, out in steps if out.rep is not None]
    return rep


def test_a_clean_rep_is_counted_with_its_numbers_and_no_finding():
    stage, steps = run(clam_rep(opening=30.0))
    rep = the_rep(steps)
    assert stage.done == [rep] and rep.index == 1
    assert rep.opening_deg == pytest.approx(30.0, abs=1e-9)
    assert rep.roll_back_deg == pytest.approx(0.0, abs=1e-9) and rep.roll_judged
    assert rep.start_s == pytest.approx(2.0, abs=0.5) and rep.peak_s == pytest.approx(4.0, abs=1.0)
    assert rep.hold_s >= PROTO.tempo.hold_min_s
    assert rep.up_s >= PROTO.tempo.min_up_s and rep.down_s >= PROTO.tempo.min_down_s
    assert rep.findings == ()
    assert all(out.live == [] for _, out in steps)
    phases = [out.phase for _, out in steps]
    assert phases[0] is Phase.READY and phases[-1] is Phase.READY
    assert {Phase.UP, Phase.HOLD, Phase.DOWN} <= set(phases)


def test_a_roll_back_past_the_warn_level_for_the_sustain_time_is_said_live_and_reported():
    """The pelvis rolls back 12 deg (warn 10, error 15) from 4.0 s to 5.0 s, in the hold."""
    rb = PROTO.roll_back
    assert rb.warn_deg < 12.0 < rb.error_deg
    onset, stop = 4.0, 5.0
    _, steps = run(clam_rep(roll_back=lambda t: 12.0 if onset <= t < stop else 0.0))
    live = [t for t, out in steps if "roll_back" in out.live]
    # Said from the first frame at which the roll-back has lasted the sustain time, to its end.
    first = live[0]
    assert first - onset >= rb.sustain_s and first - 1 / FPS - onset < rb.sustain_s
    assert live[-1] == pytest.approx(stop - 1 / FPS)
    assert live == [t for t, _ in steps if first <= t < stop]  # every frame, none after
    change = {t: out.roll_change_deg for t, out in steps}
    assert change[first] == pytest.approx(-12.0)
    (f,) = [f for f in the_rep(steps).findings if f.code == "roll_back"]
    assert f.severity is Severity.WARN and f.value == pytest.approx(12.0) and f.threshold == rb.warn_deg
    assert f.rep == 1


def test_a_roll_back_shorter_than_the_sustain_time_is_neither_said_nor_reported():
    rb = PROTO.roll_back
    onset = 4.0
    short = rb.sustain_s - 2 / FPS
    _, steps = run(clam_rep(roll_back=lambda t: 20.0 if onset <= t < onset + short else 0.0))
    assert all("roll_back" not in out.live for _, out in steps)
    assert all(f.code != "roll_back" for f in the_rep(steps).findings)


def test_a_roll_back_past_the_error_level_is_an_error():
    _, steps = run(clam_rep(roll_back=lambda t: 16.0 if 4.0 <= t < 5.0 else 0.0))
    (f,) = [f for f in the_rep(steps).findings if f.code == "roll_back"]
    assert f.severity is Severity.ERROR and f.value == pytest.approx(16.0)
    assert f.threshold == PROTO.roll_back.error_deg


def test_a_roll_back_is_not_judged_when_the_view_cannot_see_the_roll():
    _, steps = run(clam_rep(roll_back=lambda t: 16.0 if 4.0 <= t < 5.0 else 0.0), roll_judged=False)
    assert all(out.live == [] for _, out in steps)
    assert all(math.isnan(out.roll_change_deg) for _, out in steps)


def test_a_rep_lifted_too_high_is_said_live_while_high_and_reported():
    high = PROTO.opening.too_high_deg
    _, steps = run(clam_rep(opening=high + 5.0))
    live = [out for _, out in steps if "lift_too_high" in out.live]
    assert live and all(out.opening_deg >= high for out in live)
    assert all(out.opening_deg < high for _, out in steps if "lift_too_high" not in out.live)
    rep = the_rep(steps)
    (f,) = [f for f in rep.findings if f.code == "lift_too_high"]
    assert f.severity is Severity.WARN and f.value == pytest.approx(high + 5.0) and f.threshold == high
    assert [f.code for f in rep.findings] == ["lift_too_high"]


def test_a_rep_just_below_too_high_is_not_flagged():
    high = PROTO.opening.too_high_deg
    _, steps = run(clam_rep(opening=high - 0.5))
    assert all(out.live == [] for _, out in steps)
    assert the_rep(steps).findings == ()


def test_the_live_values_at_a_reps_end_are_the_reps():
    """The frame a rep ends on carries the rep's hold; the hold timer and the opening the page
    showed during the rep reach the rep's own numbers."""
    _, steps = run(clam_rep(opening=30.0, hold_s=2.5))
    end = next(i for i, (_, out) in enumerate(steps) if out.rep is not None)
    rep = steps[end][1].rep
    assert steps[end][1].hold_s == rep.hold_s
    in_rep = [out for _, out in steps[:end] if out.phase is not Phase.READY]
    assert in_rep[-1].hold_s == pytest.approx(rep.hold_s)
    assert max(out.opening_deg for out in in_rep) == pytest.approx(rep.opening_deg)
    assert rep.hold_s == pytest.approx(2.5, abs=0.6)


def test_a_set_held_still_with_no_lift_is_reported_once_long_enough():
    stage = RepStage(PROTO)
    for i in range(10 * FPS):
        t = i / FPS
        out = stage.push(t, Kinematics(t=t, opening_deg=0.0, pelvis_roll_deg=ROLL, sd=SD), True)
        assert out.phase is Phase.READY and out.rep is None
    (f,) = stage.set_findings(settled_at=1.0, last_t=1.0 + NO_LIFT_AFTER_S)
    assert f.code == "no_visible_lift" and f.severity is Severity.INFO
    assert f.value is None and f.threshold is None
    assert stage.set_findings(settled_at=1.0, last_t=1.0 + NO_LIFT_AFTER_S - 0.1) == ()
    assert stage.set_findings(settled_at=math.nan, last_t=100.0) == ()


def test_a_set_measured_for_only_part_of_its_time_is_not_said_to_have_no_lift():
    """Measured still for 10 s of the 40 since the setup (the body then lost): nothing is known
    of the other 30 s, so no "you held a good position"; measured for 80% of it, it is said."""
    def measured_for(seconds):
        stage = RepStage(PROTO)
        for i in range(int(seconds * FPS) + 1):
            t = 1.0 + i / FPS
            stage.push(t, Kinematics(t=t, opening_deg=0.0, pelvis_roll_deg=ROLL, sd=SD), True)
        return stage

    assert measured_for(10.0).measured_s == pytest.approx(10.0)
    assert measured_for(10.0).set_findings(settled_at=1.0, last_t=41.0) == ()
    (f,) = measured_for(NO_LIFT_MEASURED_SHARE * 40.0 + 0.1).set_findings(settled_at=1.0, last_t=41.0)
    assert f.code == "no_visible_lift"


def test_time_between_frames_far_apart_is_not_measured_time():
    stage = RepStage(PROTO)
    for t in (1.0, 1.1, 1.2, 5.0, 5.1):  # the body unseen from 1.2 to 5.0 s
        stage.push(t, Kinematics(t=t, opening_deg=0.0, pelvis_roll_deg=ROLL, sd=SD), True)
    assert stage.measured_s == pytest.approx(0.3)


def test_a_set_with_a_rep_has_no_set_finding():
    stage, _ = run(clam_rep())
    assert len(stage.done) == 1
    assert stage.set_findings(settled_at=0.0, last_t=100.0) == ()


def test_rest_jitter_below_the_start_makes_no_rep():
    rng = np.random.default_rng(0)
    stage = RepStage(PROTO)
    for i in range(20 * FPS):
        t = i / FPS
        o = float(rng.uniform(-0.4, 0.4))
        out = stage.push(t, Kinematics(t=t, opening_deg=o, pelvis_roll_deg=ROLL, sd=SD), True)
        assert out.phase is Phase.READY and out.live == []
    assert stage.done == []


def test_a_roll_back_is_timed_within_its_own_rep():
    """A roll-back that lasted to the end of one rep is not joined to a short one at the very
    start of the next: the next rep's two frames are not a sustained roll-back."""
    first = clam_rep()
    second = [(t + first[-1][0] + 1 / FPS, kin) for t, kin in clam_rep()]
    _, clean = run(first + second)
    rep1_end = next(t for t, out in clean if out.rep is not None)
    rep2_start = next(t for t, out in clean if t > rep1_end + 1 and out.phase is not Phase.READY)

    def roll_back(t: float) -> float:
        late_in_rep1 = rep1_end - 1.0 <= t <= rep1_end + 1e-9
        start_of_rep2 = rep2_start - 1e-9 <= t < rep2_start + 1.5 / FPS
        return 12.0 if late_in_rep1 or start_of_rep2 else 0.0

    frames = [(t, Kinematics(t=t, opening_deg=k.opening_deg, knee_lift_cm=k.knee_lift_cm,
                             pelvis_roll_deg=ROLL - roll_back(t), trunk_roll_deg=ROLL, sd=SD))
              for t, k in first + second]
    stage, steps = run(frames)
    said = [t for t, out in steps if "roll_back" in out.live]
    assert said and all(t <= rep1_end + 1e-9 for t in said)
    rep1, rep2 = stage.done
    assert [f.code for f in rep1.findings] == ["roll_back"]
    assert rep2.findings == ()


def _shifted(frames, dt):
    from dataclasses import replace

    return [(t + dt, replace(k, t=t + dt)) for t, k in frames]


def test_frames_measured_again_replace_the_reps_counted_from_them_and_renumber():
    """Rep 1 before ``since`` is kept; the two counted after it (from an open setup, read too
    small) give way to what the frames measured again make, numbered on from rep 1; a rep the
    replay is in the middle of goes on live and is counted when it ends."""
    first = clam_rep(opening=30.0)                  # 0 - 10 s
    later = _shifted(clam_rep(opening=20.0), 10.0)  # 10 - 20 s, read 20 first
    stage, _ = run(first + later)
    assert [round(r.opening_deg) for r in stage.done] == [30, 20]
    again = _shifted(clam_rep(opening=35.0), 10.0)
    third = _shifted(clam_rep(opening=25.0), 20.0)
    again += third[: len(third) // 2]               # up to the middle of the next rep's hold
    index, reps = stage.measured_again([k for _, k in again], 10.0, True)
    assert index == 2 and [r.index for r in reps] == [2]
    assert [round(r.opening_deg) for r in stage.done] == [30, 35]
    assert stage.in_rep
    ended = [out.rep for t, k in third[len(third) // 2:] if (out := stage.push(t, k, True)).rep is not None]
    assert [(r.index, round(r.opening_deg)) for r in ended] == [(3, 25)]
