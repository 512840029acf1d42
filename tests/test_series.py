"""The frame series: checked when made, read by attribute, and its JSON form round-trips."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, strategies as st

from clamcoach.series import COLUMNS, PHASES, FrameSeries, SeriesError, rep_numbers
from clamcoach.types import Phase, Rep
from tests.test_engine import run


def _series(n: int = 4, **changes) -> FrameSeries:
    base = FrameSeries.from_dict({"t": [i / 10 for i in range(n)], "phase": ["ready"] * n,
                                  "opening_deg": [float(i) for i in range(n)]})
    return replace(base, **changes) if changes else base


def test_columns_of_another_length_are_refused():
    with pytest.raises(SeriesError, match="opening_deg: 3 values, the other columns have 4"):
        _series(opening_deg=np.zeros(3))


@pytest.mark.parametrize("name, bad, why", [
    ("opening_deg", np.zeros((4, 1)), "1-D"),
    ("opening_deg", np.zeros(4, dtype=np.float32), "float64"),
    ("opening_deg", [0.0, 1.0, 2.0, 3.0], "a numpy array"),
    ("phase", np.full(4, len(PHASES), dtype=np.int8), "int8 codes"),
    ("rep", np.full(4, -1, dtype=np.int32), "0 outside a rep"),
    ("hand_on_hip", np.array([1.0, 0.0, np.nan, 1.0], dtype=object), "True, False or None"),
    ("t", np.array([0.0, 0.2, 0.1, 0.3]), "backwards"),
    ("landmarks", np.zeros((4, 33, 2), dtype=np.float32), "landmarks"),
])
def test_a_malformed_column_is_refused(name, bad, why):
    with pytest.raises(SeriesError, match=why):
        _series(**{name: bad})


def test_it_is_frozen_all_the_way_down():
    s = _series()
    with pytest.raises(ValueError):
        s.opening_deg[0] = 5.0
    with pytest.raises(AttributeError):
        s.opening_deg = np.zeros(4)  # type: ignore[misc]


def test_an_unknown_column_fails_loudly():
    with pytest.raises(KeyError, match="no column 'opening'"):
        _series().column("opening")
    with pytest.raises(SeriesError, match="unknown series columns: opening"):
        FrameSeries.from_dict({"t": [0.0], "opening": [1.0]})


_num = st.one_of(st.none(), st.floats(-90, 90, allow_nan=False))


@st.composite
def _columns(draw):
    n = draw(st.integers(0, 30))
    t = sorted(draw(st.lists(st.floats(0, 100, allow_nan=False), min_size=n, max_size=n)))
    data = {"t": t,
            "phase": draw(st.lists(st.sampled_from([p.value for p in Phase]), min_size=n, max_size=n)),
            "rep": draw(st.lists(st.one_of(st.none(), st.integers(1, 9)), min_size=n, max_size=n)),
            "hand_on_hip": draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n))}
    for name in draw(st.sets(st.sampled_from(COLUMNS[3:]).filter(lambda c: c != "hand_on_hip"))):
        data[name] = draw(st.lists(_num, min_size=n, max_size=n))
    return data


@given(_columns())
def test_to_dict_after_from_dict_gives_the_columns_back(data):
    s = FrameSeries.from_dict(data)
    out = s.to_dict(t_digits=12)
    assert out["phase"] == data["phase"] and out["rep"] == data["rep"]
    assert out["hand_on_hip"] == data["hand_on_hip"]
    assert out["t"] == [round(t, 12) for t in data["t"]]
    for name in COLUMNS[3:]:
        if name != "hand_on_hip":
            assert out[name] == data.get(name, [None] * len(s))  # a missing column is all gaps
    assert FrameSeries.from_dict(out).to_dict(t_digits=12) == out


@given(_columns(), st.floats(0.5, 30))
def test_thinning_keeps_frames_at_least_one_period_apart(data, hz):
    s = FrameSeries.from_dict(data)
    thin = s.thinned(hz)
    assert len(thin) <= len(s)
    assert np.all(np.diff(thin.t) >= 1 / hz - 1e-6)
    if len(s):
        assert thin.t[0] == s.t[0]


def _rep(index, start, end) -> Rep:
    nan = math.nan
    return Rep(index, start, (start + end) / 2, end, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, True)


def test_rep_numbers_cover_start_to_end_inclusive():
    t = np.arange(0, 10, 0.5)
    got = rep_numbers(t, [_rep(1, 1.0, 2.0), _rep(2, 4.0, 6.5)])
    want = [1 if 1.0 <= x <= 2.0 else 2 if 4.0 <= x <= 6.5 else 0 for x in t]
    assert got.tolist() == want


def test_the_engines_series_matches_its_steps():
    a, steps = run(n_reps=2, gaps=[(6.0, 6.5)])
    s = a.frames
    assert len(s) == len(steps) == a.n_frames
    assert s.phases == [st.phase for st in steps]
    assert [s.rep_at(i) is not None for i in range(len(s))].count(True) > 0
    for r in a.reps:
        inside = (s.t >= r.start_s) & (s.t <= r.end_s)
        assert set(s.rep[inside].tolist()) == {r.index}
    assert s.posed.tolist() == [st.body is not None for st in steps]
    kin = [st.kinematics for st in steps]
    assert s.hand_on_hip.tolist() == [k.hand_on_hip if k is not None else None for k in kin]
    got = [k.opening_deg if k is not None else math.nan for k in kin]
    np.testing.assert_array_equal(s.opening_deg, got)


def test_frames_measured_again_take_the_new_values_at_their_times_only():
    from clamcoach.series import SeriesBuilder
    from clamcoach.types import Kinematics, Spread

    b = SeriesBuilder(keep_landmarks=False)
    for i in range(5):
        b.add(i * 0.5, Phase.READY, Kinematics(t=i * 0.5, opening_deg=float(i), sd=Spread(opening_deg=1.0)), None)
    b.measured_again([Kinematics(t=t, opening_deg=40.0 + t, sd=Spread(opening_deg=2.0), hand_on_hip=True)
                      for t in (0.5, 1.5, 9.0)])
    s = b.build([])
    assert s.opening_deg.tolist() == [0.0, 40.5, 2.0, 41.5, 4.0]
    assert s.opening_sd_deg.tolist() == [1.0, 2.0, 1.0, 2.0, 1.0]
