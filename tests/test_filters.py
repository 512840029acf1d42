import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.filters import OneEuroFilter


def test_constant_signal_passes_unchanged():
    f = OneEuroFilter()
    for i in range(50):
        out = f(np.array([3.0, -1.0]), i / 30)
    assert np.allclose(out, [3.0, -1.0])


def test_jitter_is_reduced():
    rng = np.random.default_rng(0)
    f = OneEuroFilter(min_cutoff_hz=1.0, beta=0.0)
    raw = 5 + rng.normal(0, 1, 300)
    out = np.array([f(np.array([x]), i / 30)[0] for i, x in enumerate(raw)])
    assert out[50:].std() < 0.5 * raw[50:].std()


def test_gap_stays_a_gap_and_restarts_the_filter():
    f = OneEuroFilter(reset_after_s=0.5)
    f(np.array([0.0]), 0.0)
    assert math.isnan(f(np.array([np.nan]), 0.033)[0])
    out = f(np.array([10.0]), 2.0)  # after a long gap: no bleeding of the old value
    assert out[0] == 10.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=2, max_size=40), st.floats(5, 60))
def test_filter_keeps_shape_and_stays_within_range(values, fps):
    f = OneEuroFilter()
    outs = [f(np.array([v, v]), i / fps) for i, v in enumerate(values)]
    arr = np.array(outs)
    assert arr.shape == (len(values), 2)
    assert arr.min() >= min(values) - 1e-9 and arr.max() <= max(values) + 1e-9


def run(f, signal, fs, seconds):
    """The filter's output for ``signal(t)`` sampled at ``fs`` Hz for ``seconds``."""
    ts = np.arange(int(seconds * fs) + 1) / fs
    return ts, np.array([f(np.array([signal(t)]), t)[0] for t in ts])


# With beta = 0 the One Euro filter is a first-order low-pass at min_cutoff_hz: its time
# constant is tau = 1 / (2 pi fc). Sampled finely, its answers are the textbook ones.
FC = 1.0
TAU = 1 / (2 * math.pi * FC)


def test_a_constant_stays_exactly_constant_at_every_frame():
    f = OneEuroFilter(min_cutoff_hz=FC, beta=0.3)
    _, out = run(f, lambda t: 7.25, 30, 3)
    assert set(out) == {7.25}


def test_a_step_rises_as_one_minus_exp_of_minus_t_over_tau():
    f = OneEuroFilter(min_cutoff_hz=FC, beta=0.0, reset_after_s=1.0)
    ts, out = run(f, lambda t: 0.0 if t < 1 else 10.0, 1000, 1 + 3 * TAU + 0.01)
    at = lambda t: out[np.searchsorted(ts, t)]  # noqa: E731
    assert at(0.999) == 0.0
    assert at(1 + TAU) == pytest.approx(10 * (1 - math.exp(-1)), abs=0.05)   # 6.32
    assert at(1 + 2 * TAU) == pytest.approx(10 * (1 - math.exp(-2)), abs=0.05)  # 8.65
    assert at(1 + 3 * TAU) == pytest.approx(10 * (1 - math.exp(-3)), abs=0.05)  # 9.50


@pytest.mark.parametrize("freq_hz, gain", [(1.0, 1 / math.sqrt(2)), (3.0, 1 / math.sqrt(10))])
def test_a_sine_is_attenuated_as_a_first_order_low_pass(freq_hz, gain):
    # |H(f)| = 1 / sqrt(1 + (f / fc)^2): 0.707 at the cut-off, 0.316 at three times it.
    f = OneEuroFilter(min_cutoff_hz=FC, beta=0.0)
    ts, out = run(f, lambda t: math.sin(2 * math.pi * freq_hz * t), 1000, 6)
    steady = out[ts > 3]  # the start-up transient (a few tau) is over
    assert steady.max() == pytest.approx(gain, rel=0.02)
    assert steady.min() == pytest.approx(-gain, rel=0.02)


def test_a_ramp_lags_by_slope_times_tau_and_beta_shortens_the_lag():
    # A ramp of slope s lags a first-order low-pass by s * tau (1.59 here); beta raises the
    # cut-off while the signal moves, which is the One Euro filter's point.
    lags = {}
    for beta in (0.0, 0.3):
        f = OneEuroFilter(min_cutoff_hz=FC, beta=beta)
        ts, out = run(f, lambda t: 10 * t, 1000, 8)
        lags[beta] = 10 * ts[-1] - out[-1]
    assert lags[0.0] == pytest.approx(10 * TAU, rel=0.01)
    assert 0 < lags[0.3] < 0.1 * lags[0.0]


def test_a_repeated_timestamp_returns_the_last_output():
    f = OneEuroFilter(min_cutoff_hz=FC, beta=0.0)
    f(np.array([0.0]), 0.0)
    first = f(np.array([10.0]), 0.1)[0]
    assert f(np.array([99.0]), 0.1)[0] == first
    assert 0 < first < 10


def test_time_going_backwards_restarts_the_filter():
    f = OneEuroFilter()
    f(np.array([0.0]), 1.0)
    assert f(np.array([5.0]), 0.5)[0] == 5.0


# RollingQuantile on signals sampled every 1/8 s (exact in binary) with a 0.5 s window: the
# window holds the 5 samples from t - 0.5 to t.
DT = 0.125


def quantiles(values, q, window=0.5):
    from clamcoach.filters import RollingQuantile

    rq = RollingQuantile(window, q)
    return [rq.push(i * DT, v) for i, v in enumerate(values)]


def test_rolling_quantile_of_a_constant_is_the_constant():
    assert set(quantiles([4.5] * 30, 0.25)) == {4.5}


def test_rolling_median_follows_a_step_once_three_of_five_samples_are_new():
    step = [0.0] * 8 + [10.0] * 8  # the step is at t = 1.0 (sample 8)
    out = quantiles(step, 0.5)
    assert out[8:11] == [0.0, 0.0, 10.0]  # t = 1.0, 1.125: 0; t = 1.25: 10
    assert out[-1] == 10.0


def test_rolling_low_quantile_follows_a_step_only_when_the_window_is_all_new():
    out = quantiles([0.0] * 8 + [10.0] * 8, 0.1)
    assert out[8:13] == [0.0, 0.0, 0.0, 0.0, 10.0]  # 10 from t = 1.5 on


def test_rolling_low_quantile_ignores_a_single_spike_and_nans():
    values = [2.0] * 6 + [50.0] + [math.nan] * 2 + [2.0] * 6
    assert quantiles(values, 0.25) == [2.0] * len(values)


def test_rolling_quantile_of_an_empty_window_is_the_value_given():
    out = quantiles([1.0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan], 0.5)
    assert out[:2] == [1.0, 1.0]  # 1.0 is still in the window at t = 0.125
    assert math.isnan(out[-1])    # the window has emptied: the NaN given is returned


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=1, max_size=60), st.sampled_from([0.1, 0.25, 0.5]))
def test_rolling_quantile_is_a_value_of_the_window_between_its_min_and_max(values, q):
    out = quantiles(values, q)
    for i, got in enumerate(out):
        window = values[max(0, i - 4):i + 1]
        assert got in window
        assert min(window) <= got <= max(window)
