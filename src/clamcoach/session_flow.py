"""A coaching session's sets and rests, and what the session comes to.

    SET --(the set's reps reached, or "finish set")--> REST --(rest over, or "next set")--> SET
    SET or REST --(the last set finished, or "end session")--> DONE

Domain logic only: no pose model, no frames, no web. The clock is injected (seconds,
monotonic) so tests drive time exactly, and so is ``close_set``, which finishes the running
set's engine and hands back its ``Analysis`` (None when the set saw no frame). The browser
session (``web/session.py``) runs one of these in front of the engine.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Sequence

from clamcoach.analysis import Analysis
from clamcoach.protocol import Prescription
from clamcoach.rules import rank_codes
from clamcoach.series import FrameSeries
from clamcoach.types import Finding, Severity


class SessionState(str, Enum):
    """Where a session is (a str, so it serialises as its value)."""

    SET = "set"      # a set is running: frames are analysed
    REST = "rest"    # between sets, until the rest is over or the person goes on
    DONE = "done"    # the session is over; its summary is ready


class Control(str, Enum):
    """A button on the page that changes the session."""

    NEXT_SET = "next_set"          # in a rest: start the next set now; in a set: end it, no rest
    FINISH_SET = "finish_set"      # end this set early, then rest
    END_SESSION = "end_session"    # end the session (a set with reps is kept)


@dataclass(frozen=True)
class Plan:
    """The dose of one session, from the prescription (at least one set of one rep)."""

    sets: int
    reps: int
    hold_s: float
    rest_s: float

    @classmethod
    def of(cls, rx: Prescription) -> Plan:
        return cls(sets=max(1, int(rx.sets)), reps=max(1, int(rx.reps)), hold_s=float(rx.hold_s),
                   rest_s=max(0.0, float(rx.rest_s)))


@dataclass(frozen=True)
class SetRecord:
    """One finished set. Its analysis is kept without the per-frame series or the still (a
    session's summary needs neither, and keeping them would grow a long session's memory)."""

    index: int
    analysis: Analysis
    ended_early: bool = False

    @classmethod
    def of(cls, index: int, analysis: Analysis, *, ended_early: bool = False) -> SetRecord:
        slim = dataclasses.replace(analysis, frames=FrameSeries.empty(), snapshot=None)
        return cls(index, slim, ended_early)

    @property
    def reps(self) -> int:
        return len(self.analysis.reps)

    @property
    def clean_reps(self) -> int:
        return self.analysis.clean_reps()


@dataclass(frozen=True)
class WorkOn:
    """The one thing to work on: the first finding of the most important serious code."""

    finding: Finding
    count: int


@dataclass(frozen=True)
class SessionSummary:
    """What a session came to: counts, what went well (as facts) and the one thing to work on.

    The facts are for the words a page says in its own language; the ranking of what to work
    on is the file report's (``rules.rank_codes``: the method's priority, then how often)."""

    sets: tuple[SetRecord, ...]
    sets_planned: int
    reps_target: int
    reps: int
    clean_reps: int
    #: Every rep's roll was judged and none rolled back (only then is it praise).
    stayed_rolled_forward: bool
    kept_opening_small: bool
    slow_with_pause: bool
    setup_right: bool
    work_on: WorkOn | None


def _serious(f: Finding) -> bool:
    return f.severity is not Severity.INFO


def summarize(sets: Sequence[SetRecord], plan: Plan) -> SessionSummary:
    findings = [f for r in sets for f in r.analysis.all_findings()]
    rep_codes = {f.code for r in sets for rep in r.analysis.reps for f in rep.findings}
    trusted = bool(sets) and all(r.analysis.roll_reading_trusted for r in sets)
    ranked = rank_codes(filter(_serious, findings), 1)
    work_on = None
    if ranked:
        code, count = ranked[0]
        work_on = WorkOn(next(f for f in findings if f.code == code), count)
    return SessionSummary(
        sets=tuple(sets), sets_planned=plan.sets, reps_target=plan.sets * plan.reps,
        reps=sum(r.reps for r in sets), clean_reps=sum(r.clean_reps for r in sets),
        stayed_rolled_forward=trusted and "roll_back" not in rep_codes,
        kept_opening_small="lift_too_high" not in rep_codes,
        slow_with_pause=not rep_codes & {"too_fast", "no_hold"},
        setup_right=bool(sets) and not any(_serious(f) for r in sets for f in r.analysis.setup_findings),
        work_on=work_on,
    )


class SessionFlow:
    """The sets and rests of one session. Not thread-safe: one caller at a time."""

    def __init__(self, plan: Plan, close_set: Callable[[], Analysis | None], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.plan = plan
        self._close_set = close_set
        self._clock = clock
        self.state = SessionState.SET
        self.set_index = 1
        self.reps_in_set = 0
        self.records: list[SetRecord] = []
        self.rest_until: float | None = None
        self.summary: SessionSummary | None = None

    def tick(self) -> None:
        """Call before acting on the session: a rest that is over starts the next set."""
        if self.state is SessionState.REST and self.rest_until is not None and self._clock() >= self.rest_until:
            self._start_set()

    def counted(self, reps: int) -> None:
        """The running set's engine has counted ``reps``; reaching the plan's reps ends the set."""
        if self.state is not SessionState.SET:
            return
        self.reps_in_set = reps
        if reps >= self.plan.reps:
            self._finish_set(early=False)

    def control(self, action: Control) -> None:
        self.tick()
        if action is Control.NEXT_SET:
            if self.state is SessionState.REST:
                self._start_set()
            elif self.state is SessionState.SET:
                self._finish_set(early=True, skip_rest=True)
        elif action is Control.FINISH_SET and self.state is SessionState.SET:
            self._finish_set(early=True)
        elif action is Control.END_SESSION and self.state is not SessionState.DONE:
            # A set with reps is kept; so is an empty first set (the summary then says so).
            if self.state is SessionState.SET and (self.reps_in_set > 0 or not self.records):
                self._record(early=True)
            self._done()

    def rest_left_s(self) -> float | None:
        if self.state is not SessionState.REST or self.rest_until is None:
            return None
        return max(0.0, self.rest_until - self._clock())

    @property
    def total_reps(self) -> int:
        running = self.reps_in_set if self.state is SessionState.SET else 0
        return sum(r.reps for r in self.records) + running

    def _start_set(self) -> None:
        self.set_index += 1
        self.state, self.reps_in_set, self.rest_until = SessionState.SET, 0, None

    def _record(self, *, early: bool) -> None:
        analysis = self._close_set()
        if analysis is not None:
            self.records.append(SetRecord.of(self.set_index, analysis, ended_early=early))

    def _finish_set(self, *, early: bool, skip_rest: bool = False) -> None:
        self._record(early=early)
        if self.set_index >= self.plan.sets:
            self._done()
        elif skip_rest or self.plan.rest_s <= 0:
            self._start_set()
        else:
            self.state, self.rest_until = SessionState.REST, self._clock() + self.plan.rest_s

    def _done(self) -> None:
        self.state, self.rest_until = SessionState.DONE, None
        self.summary = summarize(self.records, self.plan)


__all__ = ["Control", "Plan", "SessionFlow", "SessionState", "SessionSummary", "SetRecord", "WorkOn",
           "summarize"]
