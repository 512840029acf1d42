"""The set/rest machine and the session summary (src/clamcoach/session_flow.py), on a clock
the tests move by hand and on real engine analyses (findings from the protocol's own texts)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.analysis import Analysis
from clamcoach.engine import Engine
from clamcoach.protocol import load_protocol
from clamcoach.rules import finding
from clamcoach.session_flow import Control, Plan, SessionFlow, SessionState, SetRecord, summarize
from clamcoach.types import Rep, Severity

PROTO = load_protocol()


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rep(index: int, codes: tuple[str, ...] = (), *, judged: bool = True) -> Rep:
    found = tuple(finding(PROTO, c, Severity.WARN, 1.0, 1.0, rep=index) for c in codes)
    return Rep(index=index, start_s=3.0 * index, peak_s=3.0 * index + 1, end_s=3.0 * index + 2,
               opening_deg=20.0, knee_lift_cm=8.0, roll_back_deg=2.0, trunk_roll_back_deg=1.0,
               ankle_gap_cm=1.0, ankle_gap_limit_cm=10.0, up_s=1.0, hold_s=2.0, down_s=1.0,
               roll_back_sustained_s=0.0, roll_judged=judged, findings=found)


def analysis(*rep_codes: tuple[str, ...], setup: tuple[str, ...] = (), see_roll: bool = True) -> Analysis:
    """A real engine Analysis (an empty set's) given these reps and setup findings."""
    base = Engine(PROTO).finish()
    found = tuple(finding(PROTO, c, Severity.WARN, 1.0, 1.0) for c in setup)
    return replace(base, reps=[rep(i + 1, codes) for i, codes in enumerate(rep_codes)],
                   setup=replace(base.setup, findings=found), view_can_see_roll=see_roll,
                   frames=[{"t": 0.0}], snapshot=(np.zeros((2, 2, 3), np.uint8), np.zeros((33, 3))))


class Sets:
    """The engine side of a flow: hands back one analysis per finished set, and counts."""

    def __init__(self, reps_per_set: int = 2) -> None:
        self.reps_per_set = reps_per_set
        self.closed = 0

    def __call__(self) -> Analysis:
        self.closed += 1
        return analysis(*[()] * self.reps_per_set)


def flow(sets: int = 2, reps: int = 2, rest_s: float = 60.0) -> tuple[SessionFlow, Clock, Sets]:
    clock, engine = Clock(), Sets(reps)
    return SessionFlow(Plan(sets=sets, reps=reps, hold_s=2.0, rest_s=rest_s), engine, clock=clock), clock, engine


def test_a_set_ends_on_its_last_rep_then_rests_exactly_the_rest_time():
    f, clock, engine = flow(sets=2, reps=2, rest_s=60.0)
    assert (f.state, f.set_index) == (SessionState.SET, 1)
    f.counted(1)
    assert f.state is SessionState.SET and engine.closed == 0
    f.counted(2)
    assert (f.state, engine.closed, f.rest_left_s()) == (SessionState.REST, 1, 60.0)
    assert f.records[0].index == 1 and not f.records[0].ended_early and f.total_reps == 2
    clock.now += 59.9
    f.tick()
    assert f.state is SessionState.REST and math.isclose(f.rest_left_s(), 0.1, abs_tol=1e-9)
    clock.now += 0.1
    f.tick()
    assert (f.state, f.set_index, f.reps_in_set, f.rest_left_s()) == (SessionState.SET, 2, 0, None)
    f.counted(2)
    assert f.state is SessionState.DONE and engine.closed == 2 and f.summary is not None
    assert (f.summary.reps, f.summary.reps_target, len(f.summary.sets)) == (4, 4, 2)


def test_a_count_that_does_not_grow_ends_no_set():
    f, _, engine = flow(reps=2)
    for _ in range(5):
        f.counted(0)
    assert f.state is SessionState.SET and engine.closed == 0
    f.counted(3)  # two reps ended in one frame: past the target still ends the set
    assert f.state is SessionState.REST and engine.closed == 1


def test_no_rest_goes_straight_to_the_next_set():
    f, _, _ = flow(sets=3, reps=1, rest_s=0.0)
    f.counted(1)
    assert (f.state, f.set_index) == (SessionState.SET, 2)


def test_the_buttons():
    f, clock, engine = flow(sets=3, reps=5)
    f.counted(2)
    f.control(Control.FINISH_SET)
    assert f.state is SessionState.REST and f.records[0].ended_early
    f.control(Control.NEXT_SET)  # in a rest: the next set now
    assert (f.state, f.set_index) == (SessionState.SET, 2)
    f.control(Control.NEXT_SET)  # in a set: end it and skip the rest
    assert (f.state, f.set_index, engine.closed) == (SessionState.SET, 3, 2)
    f.control(Control.FINISH_SET)  # the last set: the session is over
    assert f.state is SessionState.DONE and engine.closed == 3
    clock.now += 1000
    for action in Control:
        f.control(action)
    assert f.state is SessionState.DONE and engine.closed == 3 and f.set_index == 3


def test_ending_the_session_keeps_a_set_with_reps_and_drops_an_empty_later_one():
    f, _, engine = flow(sets=3, reps=5)
    f.counted(1)
    f.control(Control.END_SESSION)
    assert f.state is SessionState.DONE and engine.closed == 1 and f.summary.reps == 5
    g, _, engine = flow(sets=3, reps=2, rest_s=0.0)
    g.counted(2)  # set 1 done; set 2 starts with no rep
    g.control(Control.END_SESSION)
    assert g.state is SessionState.DONE and engine.closed == 1 and len(g.records) == 1
    h, _, engine = flow()
    h.control(Control.END_SESSION)  # an empty first set is kept: the summary says what it saw
    assert engine.closed == 1 and len(h.records) == 1


def test_a_rest_that_runs_out_during_a_button_press_counts_first():
    f, clock, _ = flow(sets=2, reps=1, rest_s=30.0)
    f.counted(1)
    clock.now += 31
    f.control(Control.FINISH_SET)  # the rest was over: this ends set 2, not the rest
    assert f.state is SessionState.DONE and [r.index for r in f.records] == [1, 2]


def test_a_set_with_no_frame_is_not_recorded():
    clock = Clock()
    f = SessionFlow(Plan(sets=2, reps=2, hold_s=2.0, rest_s=10.0), lambda: None, clock=clock)
    f.control(Control.FINISH_SET)
    assert f.state is SessionState.REST and f.records == []


def test_a_record_keeps_no_frames_and_no_still():
    rec = SetRecord.of(1, analysis((), ("roll_back",)), ended_early=True)
    assert len(rec.analysis.frames) == 0 and rec.analysis.snapshot is None
    assert (rec.reps, rec.clean_reps, rec.ended_early) == (2, 1, True)


def test_the_plan_comes_from_the_prescription():
    proto = load_protocol(None, ["prescription.sets=4", "prescription.reps=12", "prescription.rest_s=45"])
    assert Plan.of(proto.prescription) == Plan(sets=4, reps=12, hold_s=2.0, rest_s=45.0)


def test_the_one_thing_to_work_on_is_the_methods_priority_before_frequency():
    plan = Plan(sets=3, reps=10, hold_s=2.0, rest_s=60.0)
    sets = [SetRecord.of(1, analysis((), ("too_fast",), ("too_fast",), ("roll_back",))),
            SetRecord.of(2, analysis((), ("too_fast",)))]
    s = summarize(sets, plan)
    assert (s.reps, s.clean_reps, s.reps_target) == (6, 2, 30)
    assert s.work_on is not None and (s.work_on.finding.code, s.work_on.count) == ("roll_back", 1)
    assert s.work_on.finding.message == PROTO.message("roll_back")
    assert not s.stayed_rolled_forward and s.kept_opening_small and not s.slow_with_pause and s.setup_right
    # The same ranking as a set's own advice.
    assert sets[0].analysis.advice(1)[0].code == "roll_back"


def test_praise_only_for_what_was_seen():
    plan = Plan(sets=1, reps=2, hold_s=2.0, rest_s=0.0)
    seen = summarize([SetRecord.of(1, analysis((), ()))], plan)
    assert seen.stayed_rolled_forward and seen.work_on is None and seen.slow_with_pause
    unseen = summarize([SetRecord.of(1, analysis((), (), see_roll=False))], plan)
    assert not unseen.stayed_rolled_forward
    high = summarize([SetRecord.of(1, analysis(("lift_too_high",), (), setup=("hip_angle",)))], plan)
    assert not high.kept_opening_small and not high.setup_right
    assert high.work_on.finding.code == "lift_too_high"  # before hip_angle in the method's order
    empty = summarize([], plan)
    assert (empty.reps, empty.setup_right, empty.stayed_rolled_forward, empty.work_on) == (0, False, False, None)


EVENTS = st.one_of(st.sampled_from(list(Control)), st.floats(0.0, 100.0), st.integers(0, 4))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.sampled_from([0.0, 30.0]), st.lists(EVENTS, max_size=40))
def test_laws_for_any_presses_counts_and_waits(sets, reps, rest_s, events):
    """Sets are numbered 1, 2, ... up to the plan; a set is recorded at most once; DONE stays
    DONE and has its summary; the total is the records' reps plus the running set's."""
    f, clock, engine = flow(sets, reps, rest_s)
    for ev in events:
        was_done = f.state is SessionState.DONE
        if isinstance(ev, Control):
            f.control(ev)
        elif isinstance(ev, float):
            clock.now += ev
            f.tick()
        else:
            f.counted(ev)
        assert not was_done or f.state is SessionState.DONE
        assert 1 <= f.set_index <= sets
        indices = [r.index for r in f.records]
        assert indices == sorted(set(indices)) and len(indices) == engine.closed
        assert (f.summary is not None) == (f.state is SessionState.DONE)
        assert (f.rest_left_s() is not None) == (f.state is SessionState.REST)
        in_set = f.reps_in_set if f.state is SessionState.SET else 0
        assert f.total_reps == reps * len(f.records) + in_set
