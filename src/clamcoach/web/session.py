"""One coaching session: sets, rests and the summary, around one pose estimator.

Everything that touches the estimator or the engine runs on the session's own single worker
thread (``executor``): MediaPipe's tracker wants its frames in order from one place, and
the event loop must stay free to read the next frame while this one is analysed. The state
lives here, not in the connection, so a page that reconnects carries on counting.
"""

from __future__ import annotations

import logging
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, Callable

from clamcoach.errors import ClamcoachError
from clamcoach.series import FrameSeries
from clamcoach.web.frames import Frame, decode_jpeg
from clamcoach.web.messages import num, step_dict
from clamcoach.web.summary import SetRecord, set_dict, summarize

log = logging.getLogger(__name__)

#: Where a restarted capture clock continues from: one frame after the last time seen.
FRAME_GAP_S = 1 / 15
MAX_CUES_KEPT = 50
#: Top of the "fine" band on the opening gauge: the hip's normal external-rotation range
#: (about 40-45 deg, docs/knowledge); above it the gauge warns until "too high".
NORMAL_MAX_OPENING_DEG = 45.0


class SessionError(ClamcoachError):
    """The session cannot analyse frames (e.g. the pose model failed to load)."""


class Session:
    def __init__(self, sid: str, protocol: Any, estimator_factory: Callable[[], Any], *,
                 analyzer_factory: Callable[[Any, Any], Any] | None = None,
                 on_set_done: Callable[[Any], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sid = sid
        self.proto = protocol
        p = protocol.prescription
        self.sets_planned = max(1, int(p.sets))
        self.reps_target = max(1, int(p.reps))
        self.hold_target_s = float(p.hold_s)
        self.rest_s = max(0.0, float(p.rest_s))
        self._analyzer_factory = analyzer_factory or _live_analyzer
        self._on_set_done = on_set_done
        self._clock = clock
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clamcoach-session")
        self._estimator: Any = None
        self._open_error: str | None = None
        self.ready: Future = self.executor.submit(self._open, estimator_factory)
        self.state = "set"                  # "set" | "rest" | "done"
        self.set_index = 1
        self.live: Any = None
        self.set_reps = 0
        self.records: list[SetRecord] = []
        self.reps_log: list[dict] = []
        self.cues_log: list[dict] = []
        self.rest_until: float | None = None
        self.summary: dict | None = None
        self.last_step: dict | None = None
        # Counters are bumped from the event loop (drops) and the worker (the rest): plain
        # ints, each written by one side only.
        self.frames_received = 0
        self.frames_dropped = 0
        self.frames_processed = 0
        self.bad_frames = 0
        self.last_seen = clock()
        self._clock_key: tuple | None = None
        self._offset = 0.0
        self._last_client = -math.inf
        self._last_t = -math.inf
        self._closed = False

    # -- worker-thread side -----------------------------------------------------------------
    def _open(self, factory: Callable[[], Any]) -> None:
        try:
            self._estimator = factory()
        except ClamcoachError as exc:  # e.g. ModelMissing: said to the page, not a crash
            self._open_error = str(exc)
            log.error("pose model failed to open: %s", exc)

    def process(self, frame: Frame, tab: str) -> dict:
        """Analyse one frame; returns the ``result`` message. Runs on ``executor``."""
        t0 = time.perf_counter()
        self._tick()
        if self._estimator is None:
            raise SessionError(self._open_error or "the pose model is not loaded")
        step = None
        if self.state == "set":
            rgb = decode_jpeg(frame.jpeg)
            t = self._session_time(frame, tab)
            if self.live is None:
                self.live = self._analyzer_factory(self.proto, self._estimator)
            step = step_dict(self.live.process(rgb, t), self.set_index)
            self.set_reps = step["rep_count"]
            self.reps_log.extend(step["new_reps"])
            if step["cue"] is not None:
                self.cues_log.append(step["cue"])
                del self.cues_log[:-MAX_CUES_KEPT]
            self.last_step = step
            if self.set_reps >= self.reps_target and step["new_reps"]:
                self._finish_set(early=False)
        self.frames_processed += 1
        return {"type": "result", "id": frame.id, "step": step, "session": self.state_dict(),
                "proc_ms": round((time.perf_counter() - t0) * 1000, 1)}

    def control(self, action: str) -> dict:
        """A button on the page. Runs on ``executor``; returns the ``session`` message."""
        self._tick()
        if action == "next_set":
            if self.state == "rest":
                self._start_set()
            elif self.state == "set":
                self._finish_set(early=True, skip_rest=True)
        elif action == "finish_set" and self.state == "set":
            self._finish_set(early=True)
        elif action == "end_session" and self.state != "done":
            if self.state == "set" and (self.set_reps > 0 or not self.records):
                self._finish_set(early=True, final=True)
            self._done()
        return {"type": "session", "session": self.state_dict()}

    def snapshot(self) -> dict:
        """Everything a (re)attaching page needs to redraw the session. Runs on ``executor``."""
        self._tick()
        return {"session": self.state_dict(), "reps": list(self.reps_log),
                "cues": self.cues_log[-10:], "last_step": self.last_step, "limits": self.limits()}

    def limits(self) -> dict:
        """The gauges' bands, from the protocol (the therapist's thresholds)."""
        o, r = self.proto.opening, self.proto.roll_back
        return {"opening": {"min": o.min_rep_deg, "fine_max": min(NORMAL_MAX_OPENING_DEG, o.too_high_deg),
                            "too_high": o.too_high_deg},
                "roll": {"warn": r.warn_deg, "error": r.error_deg}}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        def shut() -> None:
            if self._estimator is not None and hasattr(self._estimator, "close"):
                self._estimator.close()
            self._estimator = None

        self.executor.submit(shut)
        self.executor.shutdown(wait=False)

    # -- sets and rests ---------------------------------------------------------------------
    def _tick(self) -> None:
        if self.state == "rest" and self.rest_until is not None and self._clock() >= self.rest_until:
            self._start_set()

    def _start_set(self) -> None:
        self.set_index += 1
        self.state, self.live, self.set_reps, self.rest_until = "set", None, 0, None

    def _finish_set(self, *, early: bool, skip_rest: bool = False, final: bool = False) -> None:
        if self.live is not None:
            # A still of the person: not needed live, so not kept.
            analysis = replace(self.live.finish(), snapshot=None)
            # The per-frame series is only saved (below), not needed for the session's summary;
            # keeping every finished set's would make a long session's memory grow.
            kept = replace(analysis, frames=FrameSeries.empty())
            self.records.append(SetRecord(self.set_index, kept, ended_early=early))
            if self._on_set_done is not None:
                self._on_set_done(analysis)
        self.live = None
        if final or self.set_index >= self.sets_planned:
            self._done()
        elif skip_rest or self.rest_s <= 0:
            self._start_set()
        else:
            self.state, self.rest_until = "rest", self._clock() + self.rest_s

    def _done(self) -> None:
        self.state, self.live, self.rest_until = "done", None, None
        self.summary = summarize(self.records, self.sets_planned, self.reps_target, self.proto)

    def state_dict(self) -> dict:
        rest_left = None
        if self.state == "rest" and self.rest_until is not None:
            rest_left = num(max(0.0, self.rest_until - self._clock()), 1)
        return {
            "id": self.sid, "state": self.state, "set": self.set_index,
            "sets": self.sets_planned, "reps_target": self.reps_target,
            "hold_target_s": self.hold_target_s, "rest_s": self.rest_s,
            "rest_left_s": rest_left, "reps_in_set": self.set_reps,
            "total_reps": sum(r.reps for r in self.records) + (self.set_reps if self.state == "set" else 0),
            "sets_done": [set_dict(r) for r in self.records],
            "ready": self._estimator is not None, "error": self._open_error,
            "frames": {"received": self.frames_received, "processed": self.frames_processed,
                       "dropped": self.frames_dropped, "bad": self.bad_frames},
            "summary": self.summary,
        }

    # -- time -------------------------------------------------------------------------------
    def _session_time(self, frame: Frame, tab: str) -> float:
        """Session seconds from the page's capture clock. A new tab or source (or a clock
        that went backwards, e.g. a video seeked back) continues one frame after the last
        time seen, so the engine always sees time move forward."""
        t_client = frame.t_ms / 1000.0
        key = (tab, frame.epoch)
        if key != self._clock_key or t_client <= self._last_client:
            base = self._last_t + FRAME_GAP_S if math.isfinite(self._last_t) else 0.0
            self._offset = base - t_client
            self._clock_key = key
        self._last_client = t_client
        t = max(t_client + self._offset, self._last_t + 1e-3 if math.isfinite(self._last_t) else 0.0)
        self._last_t = t
        return t


def _live_analyzer(protocol: Any, estimator: Any) -> Any:
    """A fresh engine per set, in front of the session's estimator (tracking carries on)."""
    from clamcoach.pipeline import LiveAnalyzer

    return LiveAnalyzer(protocol, estimator)
