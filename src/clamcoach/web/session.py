"""One coaching session in the browser: the pose estimator, a fresh engine per set, and the
page's messages, around the core's set/rest machine (``clamcoach.session_flow``).

Everything that touches the estimator or the engine runs on the session's own single worker
thread (``executor``): MediaPipe's tracker wants its frames in order from one place, and
the event loop must stay free to read the next frame while this one is analysed. The state
lives here, not in the connection, so a page that reconnects carries on counting.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable

from clamcoach.errors import ClamcoachError
from clamcoach.protocol import Protocol
from clamcoach.session_flow import Control, Plan, SessionFlow, SessionState
from clamcoach.web.frames import Frame, decode_jpeg
from clamcoach.jsonio import rounded
from clamcoach.web.messages import step_dict
from clamcoach.web.summary import set_dict, summary_dict

if TYPE_CHECKING:
    from clamcoach.analysis import Analysis
    from clamcoach.measure.profiles import LandmarkProfile
    from clamcoach.pipeline import LiveAnalyzer
    from clamcoach.pose import PoseEstimator

log = logging.getLogger(__name__)

#: Where a restarted capture clock continues from: one frame after the last time seen.
FRAME_GAP_S = 1 / 15
MAX_CUES_KEPT = 50
#: Top of the "fine" band on the opening gauge: the hip's normal external-rotation range
#: (about 40-45 deg, docs/knowledge); above it the gauge warns until "too high".
NORMAL_MAX_OPENING_DEG = 45.0
#: The protocol cue the page shows while each setup step (``clamcoach.setup.SETUP_CHECKS``)
#: is not yet right: the texts live in the protocol file, the page keeps no copy.
SETUP_STEP_CUES = {"side_lying": "not_side_lying", "hips_knees_bent": "hips_knees_bent",
                   "rolled_forward": "not_rolled_forward", "hand_on_hip": "hand_not_on_hip"}
#: The protocol's cues the page shows by itself (not as a coach's cue), by their code.
PAGE_CUES = ("get_in_frame",)


def live_source(analysis: Analysis) -> dict[str, Any]:
    """The report's ``source`` of a live set: no file, the frames and time it took (the one
    definition, for every saver of live sets)."""
    times = analysis.frames.t.tolist()
    duration = times[-1] - times[0] if len(times) > 1 else 0.0
    return {"name": "live session", "frames": analysis.n_frames, "duration_s": round(duration, 3),
            "fps": round((len(times) - 1) / duration, 3) if duration > 0 else None}


class SessionError(ClamcoachError):
    """The session cannot analyse frames (e.g. the pose model failed to load)."""


class Session:
    def __init__(self, sid: str, protocol: Protocol, estimator_factory: Callable[[], PoseEstimator], *,
                 profile: LandmarkProfile | None = None,
                 on_set_done: Callable[[Analysis], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sid = sid
        self.proto = protocol
        self.profile = profile
        self._on_set_done = on_set_done
        self._clock = clock
        self.flow = SessionFlow(Plan.of(protocol.prescription), self._close_set, clock=clock)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clamcoach-session")
        self._estimator: PoseEstimator | None = None
        self._open_error: str | None = None
        self.ready: Future[None] = self.executor.submit(self._open, estimator_factory)
        self.live: LiveAnalyzer | None = None
        self.reps_log: list[dict[str, Any]] = []
        self.cues_log: list[dict[str, Any]] = []
        self.last_step: dict[str, Any] | None = None
        # Counters are bumped from the event loop (drops) and the worker (the rest): plain
        # ints, each written by one side only.
        self.frames_received = 0
        self.frames_dropped = 0
        self.frames_processed = 0
        self.bad_frames = 0
        self.last_seen = clock()
        self._clock_key: tuple[str, int] | None = None
        self._offset = 0.0
        self._last_client = -math.inf
        self._last_t = -math.inf
        self._closed = False

    # -- worker-thread side -----------------------------------------------------------------
    def _open(self, factory: Callable[[], PoseEstimator]) -> None:
        try:
            self._estimator = factory()
        except ClamcoachError as exc:  # e.g. ModelMissing: said to the page, not a crash
            self._open_error = str(exc)
            log.error("pose model failed to open: %s", exc)

    def process(self, frame: Frame, tab: str) -> dict[str, Any]:
        """Analyse one frame; returns the ``result`` message. Runs on ``executor``."""
        t0 = time.perf_counter()
        self.flow.tick()
        if self._estimator is None:
            raise SessionError(self._open_error or "the pose model is not loaded")
        step = None
        if self.flow.state is SessionState.SET:
            rgb = decode_jpeg(frame.jpeg)
            t = self._session_time(frame, tab)
            if self.live is None:
                # The one analyser factory, file analysis's too (imported here: it loads the decoder).
                from clamcoach.measure.profiles import BLAZEPOSE
                from clamcoach.pipeline import make_analyzer

                # The landmarks are not kept: nothing live reads them, and a long set would grow.
                self.live = make_analyzer(self.proto, self._estimator, profile=self.profile or BLAZEPOSE,
                                          keep_landmarks=False)
            set_index = self.flow.set_index
            step = step_dict(self.live.process(rgb, t), set_index)
            if step["reps_replaced_from"] is not None:
                self.reps_log = [r for r in self.reps_log
                                 if r["set"] != set_index or r["index"] < step["reps_replaced_from"]]
            self.reps_log.extend(step["new_reps"])
            if step["cue"] is not None:
                self.cues_log.append(step["cue"])
                del self.cues_log[:-MAX_CUES_KEPT]
            self.last_step = step
            self.flow.counted(step["rep_count"])
        self.frames_processed += 1
        return {"type": "result", "id": frame.id, "step": step, "session": self.state_dict(),
                "proc_ms": round((time.perf_counter() - t0) * 1000, 1)}

    def control(self, action: Control) -> dict[str, Any]:
        """A button on the page. Runs on ``executor``; returns the ``session`` message."""
        self.flow.control(action)
        if self.flow.state is not SessionState.SET:
            self.live = None  # a set given up with no reps is not analysed
        return {"type": "session", "session": self.state_dict()}

    def snapshot(self) -> dict[str, Any]:
        """Everything a (re)attaching page needs to redraw the session. Runs on ``executor``."""
        self.flow.tick()
        return {"session": self.state_dict(), "reps": list(self.reps_log),
                "cues": self.cues_log[-10:], "last_step": self.last_step, "limits": self.limits(),
                "labels": dict(self.proto.labels), "setup_hints": self.setup_hints(),
                "page_cues": {code: self.proto.cue(code) for code in PAGE_CUES}}

    def setup_hints(self) -> dict[str, str]:
        """Each setup step's hint, in the protocol's words (the page translates them)."""
        return {check: self.proto.cue(code) for check, code in SETUP_STEP_CUES.items()}

    def limits(self) -> dict[str, Any]:
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
            if self._estimator is not None:
                self._estimator.close()
            self._estimator = None

        self.executor.submit(shut)
        self.executor.shutdown(wait=False)

    # -- sets -------------------------------------------------------------------------------
    def _close_set(self) -> Analysis | None:
        """The running set's analysis (for the flow), saved through ``on_set_done``."""
        live, self.live = self.live, None
        if live is None:
            return None
        # A still of the person: not needed live, so not kept (nor saved to the history).
        analysis = dataclasses.replace(live.finish(), snapshot=None)
        if self._on_set_done is not None:
            self._on_set_done(analysis)
        return analysis

    def state_dict(self) -> dict[str, Any]:
        flow = self.flow
        rest_left = flow.rest_left_s()
        return {
            "id": self.sid, "state": flow.state.value, "set": flow.set_index,
            "sets": flow.plan.sets, "reps_target": flow.plan.reps,
            "hold_target_s": flow.plan.hold_s, "rest_s": flow.plan.rest_s,
            "rest_left_s": rounded(rest_left, 1),
            "reps_in_set": flow.reps_in_set, "total_reps": flow.total_reps,
            "sets_done": [set_dict(r) for r in flow.records],
            "ready": self._estimator is not None, "error": self._open_error,
            "frames": {"received": self.frames_received, "processed": self.frames_processed,
                       "dropped": self.frames_dropped, "bad": self.bad_frames},
            "summary": None if flow.summary is None else summary_dict(flow.summary, self.proto),
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

