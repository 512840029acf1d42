import math

import numpy as np
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


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=1, max_size=60), st.floats(0.5, 3.0), st.sampled_from([0.1, 0.25, 0.5]))
def test_rolling_quantile_matches_numpy_over_the_window(values, window, q):
    from clamcoach.filters import RollingQuantile

    rq = RollingQuantile(window, q)
    for i, v in enumerate(values):
        got = rq.push(i * 0.1, v)
        win = [x for j, x in enumerate(values) if i * 0.1 - window <= j * 0.1 <= i * 0.1]
        srt = sorted(win)
        assert got == srt[int(q * (len(srt) - 1))]
