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


# -- the detector's edges, on hand-built signals with known answers ---------------------------

def test_a_short_gap_does_not_abandon_the_rep():
    samples, _ = signal(1, 30, 1.5, 2, 1.5, 1)
    det, reps = RepDetector(), []
    for t, v in samples:
        if 4.0 < t < 4.6:  # 0.6 s without a pose: under max_gap_s (1 s)
            det.push(None, t)
            continue
        ev = det.push(Sample(t, v), t)
        if ev:
            reps.append(ev)
    assert len(reps) == 1


def test_a_rise_held_for_longer_than_a_rep_is_not_one():
    # Getting into position: the knee opens and stays open for 25 s (max_rep_s is 20).
    samples = [(i / 30, 0.0 if i < 60 else 30.0 if i < 60 + 25 * 30 else 0.0) for i in range(30 * 32)]
    assert detect(samples) == []


def test_a_rep_that_settles_above_the_end_level_ends_after_settling():
    # Back to 6 deg of a 30 deg rep (20%, under settle_fraction 30%, above end_fraction 8%) and
    # staying there: the rep ends settle_s (0.8 s) after it got that low.
    samples, truth = signal(1, 30, up=1.2, hold=1.0, down=1.2, rest=3.0, fps=30)
    settle = [(t, max(v, 6.0) if t > truth[0][1] else v) for t, v in samples]
    det, ends = RepDetector(), []
    for t, v in settle:
        if det.push(Sample(t, v), t):
            ends.append(t)
    (end,) = ends
    low_from = next(t for t, v in settle if t > truth[0][2] and v <= 0.3 * 30)
    assert end == pytest.approx(low_from + 0.8, abs=1 / 30 + 1e-9)


def test_a_small_rep_that_settles_a_few_degrees_off_its_start_is_not_merged_with_the_next():
    """t3_overhead: BlazePose read the rest after a 9-degree rep 4 degrees above the rest before
    it (44% of the rep); the rep did not end (under 30% was needed) and the next rep's rise was
    taken for the same one. Below half its height for settle_s, it ends; the next counts."""
    def smooth(a, b, u):                     # a minimum-jerk move from a to b, u in [0, 1]
        return a + (b - a) * (10 * u ** 3 - 15 * u ** 4 + 6 * u ** 5)

    legs = [(2.0, 0, 0), (1.2, 0, 9), (1.0, 9, 9), (1.2, 9, 4), (1.5, 4, 4),
            (1.2, 4, 29), (1.0, 29, 29), (1.2, 29, 4), (2.0, 4, 4)]
    samples, t0 = [], 0.0
    for dur, a, b in legs:
        n = round(dur * 30)
        samples += [(t0 + i / 30, smooth(a, b, i / n)) for i in range(n)]
        t0 += n / 30
    reps = detect(samples)
    assert len(reps) == 2
    assert reps[0].peak_opening == pytest.approx(9.0, abs=0.01) and reps[1].peak_opening == pytest.approx(29.0, abs=0.01)


def test_a_rep_that_stops_short_of_rest_and_rises_again_is_two_reps():
    """Seen from overhead the knee often reads a degree or two above its rest after a small
    rep, and the next rep starts before the 0.8 s settle time: the rep ends at the valley
    between them, and the next one rises from it (before: one long rep of the two)."""
    first, truth = signal(1, 7.0, up=1.0, hold=1.5, down=1.0, rest=0.0, fps=15, lead=2.0)
    offset = 1.8  # where the first rep comes down to, above its rest of 0
    down_at = truth[0][3]
    down_to = [(t, max(v, offset) if t > 3.0 else v) for t, v in first if t <= down_at]
    t_next = down_to[-1][0] + 1 / 15
    second, _ = signal(1, 30.0, up=1.0, hold=1.5, down=1.0, rest=2.0, fps=15, lead=0.0)
    samples = down_to + [(t_next + t, offset + v) for t, v in second]
    reps = detect(samples)
    assert len(reps) == 2
    assert reps[0].peak_opening == pytest.approx(7.0) and reps[1].peak_opening == pytest.approx(31.8)
    assert reps[0].end_s <= reps[1].start_s + 1 / 15  # they meet at the valley's frame
    assert reps[1].start_level == pytest.approx(offset)


def test_a_jolt_too_quick_to_be_a_rep_is_not_one():
    # 30 deg up and down within 0.2 s: a jolt of the landmarks, not a movement (min_rep_s 0.4).
    samples = [(i / 30, 30.0 if 60 <= i < 63 else 0.0) for i in range(150)]
    assert detect(samples) == []


def test_a_rep_must_stand_out_from_the_rests_own_jitter():
    quiet, _ = signal(2, 7, up=1.2, hold=1.0, down=1.2, rest=4.0, lead=4.0)
    # +-2 deg every other frame: a robust spread of 1.4826 * 2 = 3 deg, so a rep must open
    # 15 deg (noise_factor 5) to stand out; a 7 deg one does not, nor does the flicker itself.
    noisy = [(t, v + (2.0 if i % 2 else -2.0)) for i, (t, v) in enumerate(quiet)]
    assert len(detect(quiet)) == 2
    assert len(detect(noisy)) == 0


def test_the_detector_reports_its_state_live_and_starts_afresh_on_reset():
    samples, _ = signal(1, 30, up=1.5, hold=2.0, down=1.5, rest=1.0)
    det = RepDetector()
    assert (det.in_rep, det.hold_s, det.start_level) == (False, 0.0, 0.0)
    for t, v in samples:
        det.push(Sample(t, v), t)
        if t >= 2.0 + 1.5 + 1.0:  # a second into the hold
            break
    assert det.in_rep and det.state is Phase.HOLD
    assert det.hold_s == pytest.approx(1.0, abs=0.1)
    det.reset()
    assert (det.in_rep, det.state, det.hold_s) == (False, Phase.READY, 0.0)


def test_phase_times_of_a_minimum_jerk_rise_and_fall_are_exact():
    from clamcoach.reps import phase_times

    fps, up, hold, down = 100, 1.0, 0.5, 2.0
    t = np.arange(0, (up + hold + down) * fps + 1) / fps
    v = np.array([20 * (min_jerk(x / up) if x < up else 1.0 if x < up + hold
                        else 1 - min_jerk((x - up - hold) / down)) for x in t])
    k = int(np.argmax(v))
    times = phase_times(t, v, k, 20.0, final=True)
    assert times.start == pytest.approx(0.0, abs=0.01)
    assert times.up_s == pytest.approx(up, abs=0.01)
    assert times.top_in == pytest.approx(up, abs=0.01)
    assert times.top_out == pytest.approx(up + hold, abs=0.01)
    assert times.down_s == pytest.approx(down, abs=0.01)
    assert times.end == pytest.approx(up + hold + down, abs=0.01)
    assert times.hold_at(times.end) == pytest.approx(hold, abs=0.02)
    # Part-way: on the way up (below 90%) there is no timing yet; at the top, no end yet.
    rise = int(0.5 * up * fps)
    assert phase_times(t[:rise], v[:rise], rise - 1, 20.0) is None
    top = int((up + 0.2) * fps)
    at_top = phase_times(t[:top], v[:top], int(np.argmax(v[:top])), 20.0)
    assert (at_top.top_out, at_top.end, at_top.down_s) == (None, None, None)
    assert at_top.phase_at(t[top - 1]) is Phase.HOLD and at_top.phase_at(0.3) is Phase.UP
    assert phase_times(t, v, k, 0.0) is None


def test_phase_times_on_the_way_down_and_a_rep_that_ends_high():
    from clamcoach.reps import phase_times

    t = np.arange(0, 301) / 100
    v = np.array([20 * (min_jerk(x) if x < 1 else 1.0 if x < 1.5 else 1 - 0.5 * min_jerk((x - 1.5) / 1.5))
                  for x in t])  # down only to half: never below 10%
    k = int(np.argmax(v))
    going = phase_times(t, v, k, 20.0)
    assert going.end is None and going.top_out is not None
    assert going.phase_at(t[-1]) is Phase.DOWN
    ended = phase_times(t, v, k, 20.0, final=True)
    assert ended.end is not None and ended.end >= t[-1]


def test_the_hold_timer_freezes_when_the_top_is_left():
    from clamcoach.reps import PhaseTimes

    p = PhaseTimes(start=0.0, top_in=1.0, top_out=2.5, end=4.0, up_s=1.0, down_s=1.5)
    assert [p.hold_at(x) for x in (0.5, 1.0, 1.75, 2.5, 3.0)] == [0.0, 0.0, 0.75, 1.5, 1.5]
    assert [p.phase_at(x) for x in (0.5, 1.0, 2.4, 2.5)] == [Phase.UP, Phase.HOLD, Phase.HOLD, Phase.DOWN]
    live = PhaseTimes(start=0.0, top_in=1.0, top_out=None, end=None, up_s=1.0, down_s=None)
    assert live.hold_at(3.0) == 2.0 and live.phase_at(3.0) is Phase.HOLD


def test_jitter_is_the_rests_robust_spread():
    from clamcoach.reps import UNSEEN_JITTER_DEG, _jitter

    few = tuple(Sample(i / 30, 1.0) for i in range(7))
    assert _jitter(few) == UNSEEN_JITTER_DEG == 0.9  # too little rest seen: the assumed jitter
    values = [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 1.5, math.nan, 40.0]  # one outlier, one gap
    rest = tuple(Sample(i / 30, v) for i, v in enumerate(values))
    # median 0.5; the median of |v - 0.5| is 1.0 (the outlier does not move it)
    assert _jitter(rest) == pytest.approx(1.4826)


def test_a_rep_keeps_only_its_own_samples_and_its_peak_time():
    samples, truth = signal(1, 30, up=1.5, hold=2.0, down=1.5, rest=1.0)
    (rep,) = detect(samples)
    times = [s.t for s in rep.samples]
    assert min(times) >= rep.start_s - 1e-9 and max(times) <= rep.end_s + 1e-9
    # Every frame from the rep's start on, up to the frame that ended it (before end_s, which
    # the timing model places where the movement would have come to rest).
    inside = [t for t, _ in samples if rep.start_s <= t <= max(times)]
    assert times == inside
    s, a, b, e = truth[0]
    assert a <= rep.peak_s <= b  # the top is the hold
    # The rest it started from: the lead-in (under the 3 s kept) until the rise was noticed,
    # 2.5 deg up at 2.37 s.
    rest = [x.t for x in rep.rest_samples]
    assert rest[0] == 0.0 and rest[-1] == pytest.approx(2.3667, abs=0.01)


def test_a_rest_level_above_zero_changes_nothing_but_the_start_level():
    samples, _ = signal(2, 25, up=1.2, hold=1.5, down=1.2, rest=1.0)
    lifted = [(t, v + 6.0) for t, v in samples]
    base_frames, base_reps = live_run(samples)
    frames, reps = live_run(lifted)
    assert [ph for _, ph, _ in frames] == [ph for _, ph, _ in base_frames]
    assert [h for _, _, h in frames] == pytest.approx([h for _, _, h in base_frames], abs=1e-9)
    assert [ev.start_level for _, ev in reps] == pytest.approx([ev.start_level + 6 for _, ev in base_reps])
    assert [ev.hold_s for _, ev in reps] == pytest.approx([ev.hold_s for _, ev in base_reps])


def test_the_live_phase_is_up_while_rising_before_the_top_is_known():
    samples, truth = signal(1, 30, up=1.5, hold=2.0, down=1.5, rest=1.0)
    frames, _ = live_run(samples)
    s, a, _, _ = truth[0]
    rising = [ph for t, ph, _ in frames if s + 0.5 <= t < s + 1.0]  # a third to two thirds up
    assert rising and set(rising) == {Phase.UP}


def test_jitter_is_measured_from_eight_rest_samples_on():
    from clamcoach.reps import _jitter

    eight = tuple(Sample(i / 30, v) for i, v in enumerate([0.0, 2.0] * 4))
    assert _jitter(eight) == pytest.approx(1.4826)  # median 1, |v - 1| all 1


def test_phase_times_interpolate_the_crossings_and_count_a_sample_on_the_level():
    from clamcoach.reps import phase_times

    t = np.arange(6) * 0.1
    # 10% of 20 is 2: crossed between the first two samples (at 0.04 s); 90% (18) at 0.35 s.
    v = np.array([0.0, 5.0, 10.0, 16.0, 20.0, 20.0])
    times = phase_times(t, v, 4, 20.0)
    up = (0.35 - 0.04) / 0.506
    assert times.up_s == pytest.approx(up)
    assert times.start == pytest.approx(0.04 - 0.247 * up)
    # A sample exactly on the 10% level is the crossing.
    v = np.array([0.0, 2.0, 10.0, 18.0, 20.0, 20.0])
    times = phase_times(t, v, 4, 20.0)
    assert times.up_s == pytest.approx((0.3 - 0.1) / 0.506)


def test_phase_times_of_a_small_amplitude():
    from clamcoach.reps import phase_times

    t = np.arange(6) * 0.1
    v = np.array([0.0, 0.1, 0.25, 0.4, 0.5, 0.5])
    assert phase_times(t, v, 4, 0.5) is not None


def test_a_small_reps_timing_is_exact_too():
    # A 6 deg rep ends at 0.6 deg (end_margin_deg) after the 10% crossing: its down time is whole.
    samples, truth = signal(1, 6, up=1.5, hold=1.0, down=1.5, rest=1.5, fps=60)
    (rep,) = detect(samples)
    s, a, b, e = truth[0]
    assert rep.up_s == pytest.approx(1.5, abs=0.05)
    assert rep.down_s == pytest.approx(1.5, abs=0.05)
    assert rep.end_s == pytest.approx(e, abs=0.05)


def test_a_slow_rep_of_eleven_seconds_is_still_a_rep():
    samples, _ = signal(1, 25, up=4.0, hold=3.0, down=4.0, rest=2.0)
    (rep,) = detect(samples)
    assert rep.hold_s == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize("up, hold, down, counted", [(0.12, 0.06, 0.12, False), (0.3, 0.2, 0.3, True)])
def test_a_rep_lasts_at_least_four_tenths_of_a_second(up, hold, down, counted):
    # 0.3 s up and down is a twitch of the landmarks; 0.8 s is a quick rep (too fast, but a rep).
    samples, _ = signal(1, 20, up=up, hold=hold, down=down, rest=2.0, fps=60)
    assert len(detect(samples)) == (1 if counted else 0)


def _min_jerk_rep(up=1.0, hold=0.5, down=2.0, amp=20.0, fps=100):
    t = np.arange(0, (up + hold + down) * fps + 1) / fps
    v = np.array([amp * (min_jerk(x / up) if x < up else 1.0 if x < up + hold
                         else 1 - min_jerk((x - up - hold) / down)) for x in t])
    return t, v


def test_phase_times_on_the_way_down_take_the_down_time_as_the_up_time_so_far():
    from clamcoach.reps import phase_times

    t, v = _min_jerk_rep()
    full = phase_times(t, v, int(np.argmax(v)), 20.0, final=True)
    cut = int((1.5 + 1.0) * 100)  # half way down: past 90%, not yet at 10%
    going = phase_times(t[:cut], v[:cut], int(np.argmax(v[:cut])), 20.0)
    assert (going.start, going.top_in, going.up_s) == pytest.approx((full.start, full.top_in, full.up_s))
    assert going.end is None and going.down_s is None
    # The 90% crossing down is 0.247 of the 2 s down after the top; less 0.247 of the 1 s up.
    assert going.top_out == pytest.approx(1.5 + 0.247 * 2.0 - 0.247 * 1.0, abs=0.01)


def test_a_rep_that_ends_before_ten_percent_ends_at_its_last_sample():
    from clamcoach.reps import phase_times

    t, v = _min_jerk_rep()
    cut = int((1.5 + 1.0) * 100)
    ended = phase_times(t[:cut], v[:cut], int(np.argmax(v[:cut])), 20.0, final=True)
    dn90 = 1.5 + 0.247 * 2.0
    assert ended.down_s == pytest.approx((t[cut - 1] - dn90) / 0.506, abs=0.01)
    assert ended.end == pytest.approx(t[cut - 1])  # not extrapolated: the next rep may rise from there


def test_a_rise_already_under_way_is_timed_from_the_first_sample():
    from clamcoach.reps import phase_times

    t = np.arange(6) * 0.1
    v = np.array([10.0, 14.0, 17.0, 19.0, 20.0, 20.0])  # never below 10% (2): up10 = t[0]
    times = phase_times(t, v, 4, 20.0)
    up = (0.25 - 0.0) / 0.506  # 90% (18) halfway between 17 at 0.2 s and 19 at 0.3 s
    assert times.up_s == pytest.approx(up)
    assert times.start == pytest.approx(0.0 - 0.247 * up)


def test_a_gap_of_exactly_max_gap_s_keeps_the_rep():
    samples, _ = signal(1, 30, 1.5, 2, 1.5, 1, fps=8)  # frames every 1/8 s
    det, reps = RepDetector(), []
    for t, v in samples:
        if 4.0 < t < 5.1:  # no pose from 4.125 to 5.0: a gap of exactly 1 s after the 4.0 frame
            det.push(None, t)
            continue
        ev = det.push(Sample(t, v), t)
        if ev:
            reps.append(ev)
    assert len(reps) == 1


def test_a_rep_of_exactly_the_smallest_opening_counts():
    """Peak exactly min_rep_deg (5) above a still rest (no jitter): a rep; a hair less: none."""
    samples, _ = signal(1, 5.0, up=1.5, hold=1.0, down=1.5, rest=1.5)
    (ev,) = detect(samples)
    assert ev.peak_opening - ev.start_level == 5.0
    assert detect(signal(1, 4.999, up=1.5, hold=1.0, down=1.5, rest=1.5)[0]) == []


def test_a_long_gap_between_reps_starts_afresh_and_the_next_rep_counts():
    """A rep, then nobody in view for 3 s (longer than max_gap_s), then two more reps: both
    are found (the gap resets a detector that is at rest without harm)."""
    first, _ = signal(1, 20.0, up=1.0, hold=1.0, down=1.0, rest=1.0)
    later, _ = signal(2, 20.0, up=1.0, hold=1.0, down=1.0, rest=1.0)
    end = first[-1][0]
    det = RepDetector()
    found = [det.push(Sample(t, v), t) for t, v in first]
    assert sum(ev is not None for ev in found) == 1 and det.state is Phase.READY
    for k in range(1, 31):                                    # 3 s without a pose
        assert det.push(None, end + k / 10) is None
    assert det.state is Phase.READY and det.hold_s == 0.0
    shift = end + 3.1
    found = [det.push(Sample(t + shift, v), t + shift) for t, v in later]
    assert sum(ev is not None for ev in found) == 2


def test_the_rest_after_a_rep_starts_at_the_frame_that_ended_it():
    """The next rep's rest (its ``rest_samples``, what its jitter is judged on) begins with the
    frame on which the previous rep ended, not before."""
    samples, _ = signal(2, 20.0, up=1.0, hold=1.0, down=1.0, rest=1.0)
    det = RepDetector()
    ended = []
    for t, v in samples:
        ev = det.push(Sample(t, v), t)
        if ev:
            ended.append((t, ev))
    (t1, _), (_, second) = ended
    assert second.rest_samples[0].t == t1
    assert all(s.t >= t1 for s in second.rest_samples)


def test_a_rep_keeps_none_of_the_samples_after_its_end():
    """A fall that dips to 9% of the rep (under the 10% crossing, above the 8% end level) and
    then stays at 20%: the rep's samples run from its start to its end and no further."""
    samples, truth = signal(1, 30, up=1.2, hold=1.0, down=1.2, rest=3.0, fps=30)
    dip = next(t for t, v in samples if t > truth[0][2] and v < 3.0)   # where the fall crosses 10%
    shaped = [(t, v if t < dip else (2.7 if t < dip + 0.2 else 6.0)) for t, v in samples]
    det, found = RepDetector(), []
    for t, v in shaped:
        ev = det.push(Sample(t, v), t)
        if ev:
            found.append((t, ev))
    ((ended_at, ev),) = found
    assert ev.samples[0].t >= ev.start_s - 1e-9 and ev.samples[-1].t <= ev.end_s + 1e-9
    assert ended_at >= ev.samples[-1].t


@pytest.mark.parametrize("last_high_s, counted", [(28.0, True), (28.5, False)])
def test_a_rep_lasts_at_most_max_rep_s_from_the_rest_kept_before_its_rise(last_high_s, counted):
    """Frames every 0.5 s (exact in binary); a rise at 10.0 s keeps the rest from 8.5 s (1.5 s
    before it). Falling back at 28.5 s spans 28.5 - 8.5 = 20.0 s: not more than max_rep_s, a
    rep. Falling back at 29.0 s spans 20.5 s: too long, no rep."""
    samples = [(k / 2, 20.0 if 10.0 <= k / 2 <= last_high_s else 0.0) for k in range(80)]
    assert (len(detect(samples)) == 1) is counted


def test_the_rest_before_a_rep_is_the_last_three_seconds():
    samples, _ = signal(1, 20.0, up=1.0, hold=1.0, down=1.0, rest=1.0, lead=6.0)
    (ev,) = detect(samples)
    span = ev.rest_samples[-1].t - ev.rest_samples[0].t
    assert 2.9 <= span <= 3.0


def test_a_rep_split_at_its_valley_ends_on_the_valleys_last_frame_and_the_next_rises_from_it():
    """The knee comes down to 1.8 deg above rest and stays there for three frames (not long
    enough to settle), then rises into the next rep: the first rep keeps every frame up to the
    last of the valley's, the next one rises from the valley's level."""
    first, truth = signal(1, 10.0, up=1.0, hold=1.5, down=1.0, rest=0.0, fps=15, lead=2.0)
    offset = 1.8
    t_low = next(t for t, v in first if t > truth[0][2] and v <= offset)  # first frame down there
    valley = [(t, v) for t, v in first if t < t_low] + [(t_low + k / 15, offset) for k in range(3)]
    second, _ = signal(1, 30.0, up=1.0, hold=1.5, down=1.0, rest=2.0, fps=15, lead=0.0)
    t_next = valley[-1][0] + 1 / 15
    reps = detect(valley + [(t_next + t, offset + v) for t, v in second[1:]])
    assert len(reps) == 2
    last_valley_t = valley[-1][0]
    assert reps[0].samples[-1].t == pytest.approx(last_valley_t)
    assert reps[1].start_level == pytest.approx(offset) and reps[1].start_s > last_valley_t


def test_a_rep_that_comes_down_to_within_end_fraction_of_its_amplitude_ends_there():
    """A 40-deg rep that comes back to 2.8 deg above its rest (7%, under end_fraction 8% of the
    amplitude, but above end_margin_deg): it ends on the first frame at that level, without
    waiting to settle."""
    samples, truth = signal(1, 40.0, up=1.0, hold=1.0, down=1.0, rest=3.0, fps=30)
    low = 2.8
    samples = [(t, max(v, low) if t > truth[0][1] else v) for t, v in samples]
    (rep,) = detect(samples)
    first_low = next(t for t, v in samples if t > truth[0][2] and v <= low)
    assert rep.samples[-1].t == pytest.approx(first_low)
