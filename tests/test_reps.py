import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.types import Phase
from clamcoach.reps import RepDetector, RepParams, Sample
from skeleton import min_jerk


def signal(n_reps, amp, up, hold, down, rest, fps=30.0, lead=2.0, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    rep_len = up + hold + down + rest
    total = lead + n_reps * rep_len + 1.5
    truth = []
    for k in range(n_reps):
        s = lead + k * rep_len
        truth.append((s, s + up, s + up + hold, s + up + hold + down))
    out = []
    for i in range(int(total * fps)):
        t = i / fps
        v = 0.0
        for s, a, b, e in truth:
            if s <= t < a:
                v = min_jerk((t - s) / up)
            elif a <= t < b:
                v = 1.0
            elif b <= t < e:
                v = 1 - min_jerk((t - b) / down)
        out.append((t, amp * v + (rng.normal(0, noise) if noise else 0.0)))
    return out, truth


def detect(samples, params=RepParams()):
    det = RepDetector(params)
    reps = []
    for t, v in samples:
        ev = det.push(Sample(t, v), t)
        if ev:
            reps.append(ev)
    return reps


def test_timing_of_a_minimum_jerk_rep_is_exact():
    samples, truth = signal(1, 30, up=1.5, hold=2.0, down=1.8, rest=1.0, fps=60)
    (rep,) = detect(samples)
    s, a, b, e = truth[0]
    assert rep.start_s == pytest.approx(s, abs=0.03)
    assert rep.end_s == pytest.approx(e, abs=0.03)
    assert rep.up_s == pytest.approx(1.5, abs=0.05)
    assert rep.hold_s == pytest.approx(2.0, abs=0.05)
    assert rep.down_s == pytest.approx(1.8, abs=0.05)
    assert rep.peak_opening - rep.start_level == pytest.approx(30, abs=0.1)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 6), amp=st.floats(6, 70), up=st.floats(0.6, 3), hold=st.floats(0, 3),
       down=st.floats(0.6, 3), rest=st.floats(0.6, 3), fps=st.sampled_from([15.0, 30.0, 60.0]))
def test_n_reps_in_n_reps_out(n, amp, up, hold, down, rest, fps):
    samples, _ = signal(n, amp, up, hold, down, rest, fps=fps)
    assert len(detect(samples)) == n


def test_small_reps_count_weak_patients():
    samples, _ = signal(4, 5.5, up=1.5, hold=1.5, down=1.5, rest=1.0, noise=0.3)
    assert len(detect(samples)) == 4


def test_noise_and_fidgets_do_not_count():
    samples, _ = signal(0, 0, 1, 1, 1, 1, noise=0.6, lead=20)
    assert detect(samples) == []
    fidget, _ = signal(5, 3.5, up=0.4, hold=0.2, down=0.4, rest=0.5)
    assert detect(fidget) == []


def test_a_long_gap_abandons_the_rep_in_progress():
    samples, _ = signal(1, 30, 1.5, 2, 1.5, 1)
    det = RepDetector()
    reps = []
    for t, v in samples:
        if 4.0 < t < 6.0:
            det.push(None, t)
            continue
        ev = det.push(Sample(t, v), t)
        if ev:
            reps.append(ev)
    assert reps == []


def test_nan_is_a_gap():
    det = RepDetector()
    assert det.push(Sample(0.0, math.nan), 0.0) is None
    assert det.state is Phase.READY


def live_run(samples):
    """Every frame's live phase and hold timer, and the reps as they end."""
    det = RepDetector()
    frames, reps = [], []
    for t, v in samples:
        ev = det.push(Sample(t, v), t)
        frames.append((t, det.state, det.hold_s))
        if ev:
            reps.append((t, ev))
    return frames, reps


def test_the_live_hold_timer_runs_on_the_top_phase_and_ends_at_the_reports_hold():
    """A 1.5 s hold reads 1.5 s live, not the time since the knee opened 3 deg (which read 3.1 s)."""
    samples, truth = signal(2, 25, up=1.2, hold=1.5, down=1.2, rest=1.0, fps=30)
    frames, reps = live_run(samples)
    assert len(reps) == 2
    for (t_end, ev), (s, a, b, e) in zip(reps, truth):
        assert ev.hold_s == pytest.approx(1.5, abs=0.1)
        during = [(t, ph, h) for t, ph, h in frames if s <= t < t_end]
        # Causal, so it runs on into the first tenth of the way down (about a quarter of the
        # down time), then reads the report's hold from the moment the knee is on its way down.
        assert max(h for _, _, h in during) <= 1.5 + 0.3 * 1.2 + 0.05
        down = [h for _, ph, h in during if ph is Phase.DOWN]
        assert down and all(h == pytest.approx(ev.hold_s, abs=0.05) for h in down)
        # Hold phase from the top reached to the first tenth of the way down.
        holding = [t for t, ph, _ in during if ph is Phase.HOLD]
        assert holding and a - 0.1 <= holding[0] and holding[-1] <= b + 0.3 * 1.2 + 0.05
        assert {Phase.UP, Phase.HOLD, Phase.DOWN} <= {ph for _, ph, _ in during}


def test_no_hold_phase_without_a_pause_at_the_top():
    samples, _ = signal(1, 25, up=1.2, hold=0.0, down=1.2, rest=1.0, fps=30)
    frames, reps = live_run(samples)
    assert len(reps) == 1 and reps[0][1].hold_s == pytest.approx(0.0, abs=0.1)
    assert max(h for _, _, h in frames) <= 0.3 * 1.2 + 0.05
