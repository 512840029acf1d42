"""The engine: wires the stages, one frame at a time. The only place that knows their order.

    PoseFrame -> BodyTracker -> KinematicsStage -> SetupMonitor -> RepDetector -> rules -> Coach

``Engine.push`` is called once per frame by live coaching and by file analysis alike, so a
file analysis is a replay of the live engine. Nothing here holds images; the per-frame series
kept for reports are numbers.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field, replace

import numpy as np

from clamcoach.body import BodyParams, BodyTracker, in_frame
from clamcoach.coach import Coach, Cue
from clamcoach.kinematics import Calibration, KinematicsStage, load_calibration
from clamcoach.protocol import Protocol
from clamcoach.reps import RepDetector, RepParams, Sample
from clamcoach.rules import EXTRA, SetupMeasures, check_rep, check_setup, priority, rep_measures
from clamcoach.types import MEASURES, BodyFrame, Finding, Kinematics, PoseFrame, Rep, Severity, View

SCHEMA = "clamcoach.analysis/1"
SETUP_CHECKS = ("side_lying", "hips_knees_bent", "rolled_forward", "hand_on_hip")

#: What each view cannot measure reliably, said in the report.
VIEW_LIMITS = {
    View.FRONT: "From a level camera in front, the pelvis roll is movement toward and away from "
                "the camera, which one camera cannot judge reliably: the roll-back check is off. "
                "Raise the camera (about 35 degrees, looking down) to have it checked.",
    View.FEET: "From the feet end, the knees hide each other and the pelvis roll cannot be "
               "judged: the roll-back check is off and the opening is less reliable. "
               "Put the camera in front of you, raised and looking down.",
    View.UNKNOWN: "The camera view could not be determined: the roll-back check is off.",
}
#: Measured on the tuning set (sets t6, t9): with the top hand off the hip, roll-backs of
#: 11-18 deg read 0-12 deg from the raised views (leave-one-clip-out), so a clean roll
#: reading is not trusted.
HAND_OFF_HIP_LIMIT = ("Your top hand was not on your hip: from one camera the pelvis roll then "
                      "reads too low, so a rep without a roll-back finding may still have rolled "
                      "back. Put your top hand on your hip to have the roll-back checked reliably.")


@dataclass
class Step:
    """What the engine made of one frame (see docs/ENGINE_API.md)."""

    t: float
    phase: str
    kinematics: Kinematics | None = None
    body: BodyFrame | None = None
    setup_checks: dict[str, bool | None] = field(default_factory=dict)
    setup_ok: bool = False
    rep_count: int = 0
    opening_deg: float = math.nan
    roll_change_deg: float = math.nan
    hold_s: float = 0.0
    new_reps: list[Rep] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    cue: Cue | None = None
    view: View = View.UNKNOWN
    view_can_see_roll: bool = False
    in_frame: bool = False


@dataclass
class SetupResult:
    measures: SetupMeasures
    findings: tuple[Finding, ...]
    t: float


@dataclass(frozen=True)
class SetupParams:
    still_deg: float = 4.0          # the opening may wander this much while "still"
    side_lying_max_roll: float = 50.0
    upright_max: float = 0.85       # |long axis . image-up| above this: sitting or standing


class SetupMonitor:
    """Setup phase: waits until the person lies on their side, legs closed and still, for
    ``settle_s``; then judges the setup once over that window."""

    def __init__(self, proto: Protocol, params: SetupParams = SetupParams()) -> None:
        self.proto = proto
        self.p = params
        self._window: deque[tuple[Kinematics, dict[str, float]]] = deque()
        self.result: SetupResult | None = None
        self.checks: dict[str, bool | None] = {k: None for k in SETUP_CHECKS}
        self.side_lying_seen = False

    def side_lying(self, kin: Kinematics, f: dict[str, float], upright: float) -> bool:
        return abs(f["roll3d_hip"]) < self.p.side_lying_max_roll and upright < self.p.upright_max \
            and 0.0 < kin.hip_flexion_deg < 130.0

    def live_checks(self, kin: Kinematics, f: dict[str, float], upright: float, roll_visible: bool) -> dict[str, bool | None]:
        s = self.proto.setup
        lying = self.side_lying(kin, f, upright)
        self.side_lying_seen |= lying
        bent = (s.hip_min_deg - 5 <= kin.hip_flexion_deg <= s.hip_max_deg + 10
                and s.knee_min_deg - 5 <= kin.knee_flexion_deg <= s.knee_max_deg)
        rolled = (kin.pelvis_roll_deg >= s.forward_roll_min_deg) if roll_visible else None
        hand = bool(kin.hand_on_hip >= 0.5) if math.isfinite(kin.hand_on_hip) else None
        self.checks = {"side_lying": lying, "hips_knees_bent": bent, "rolled_forward": rolled,
                       "hand_on_hip": hand}
        return self.checks

    def push(self, kin: Kinematics, f: dict[str, float], upright: float, view: View,
             roll_visible: bool) -> SetupResult | None:
        """Returns the setup verdict the moment the setup has held for ``settle_s``."""
        if self.result is not None:
            return None
        lying = self.live_checks(kin, f, upright, roll_visible)["side_lying"]
        if not lying or not math.isfinite(kin.opening_deg) or view is View.UNKNOWN:
            self._window.clear()
            return None
        self._window.append((kin, f))
        # Still: the knee stays within still_deg of the window's middle (legs resting).
        openings = [k.opening_deg for k, _ in self._window]
        while self._window and max(openings) - min(openings) > 2 * self.p.still_deg:
            self._window.popleft()
            openings = openings[1:]
        held = kin.t - self._window[0][0].t
        if held < max(self.proto.setup.settle_s, self.proto.setup.flag_hold_s):
            return None
        self.result = self._judge(held, view, roll_visible, kin.t)
        return self.result

    def _judge(self, held: float, view: View, roll_visible: bool, t: float) -> SetupResult:
        ks = [k for k, _ in self._window]
        med = lambda name: float(np.nanmedian([k.value(name) for k in ks]))  # noqa: E731
        m = SetupMeasures(
            side_lying=True,
            hip_flexion_deg=med("hip_flexion_deg"),
            knee_flexion_deg=med("knee_flexion_deg"),
            forward_roll_deg=med("pelvis_roll_deg") if roll_visible else math.nan,
            hand_on_hip=med("hand_on_hip"),
            held_s=held, view_can_see_roll=roll_visible, view=view.value,
        )
        return SetupResult(m, check_setup(m, self.proto), t)

    def never_settled(self) -> SetupResult:
        m = SetupMeasures(side_lying=self.side_lying_seen, hip_flexion_deg=math.nan,
                          knee_flexion_deg=math.nan, forward_roll_deg=math.nan,
                          hand_on_hip=math.nan, held_s=0.0, view_can_see_roll=False,
                          view=View.UNKNOWN.value)
        found = check_setup(m, self.proto) if not self.side_lying_seen else ()
        return SetupResult(m, found, math.nan)


class Engine:
    """One set (or one live session) of clamshells."""

    def __init__(self, protocol: Protocol, *, calibration: Calibration | None = None,
                 body_params: BodyParams = BodyParams(), rep_params: RepParams | None = None) -> None:
        self.proto = protocol
        self.body = BodyTracker(body_params)
        self.kin = KinematicsStage(calibration=calibration or load_calibration())
        self.setup = SetupMonitor(protocol)
        self.reps = RepDetector(rep_params or rep_params_for(protocol))
        self.coach = Coach(protocol)
        self.rep_list: list[Rep] = []
        self.frames: list[dict] = []
        self.n_frames = 0
        self.n_pose = 0
        self._views: Counter[View] = Counter()
        self._rest_rolls: deque[tuple[float, float]] = deque()
        self._rep_start_roll = math.nan
        self._last_seen = -math.inf
        self._roll_back_since: float | None = None
        self._top_since: float | None = None
        self._phase = "setup"

    # -- the per-frame step -----------------------------------------------------------------
    def push(self, pose: PoseFrame | None, t: float) -> Step:
        self.n_frames += 1
        if pose is not None and pose.t != t:
            pose = replace(pose, t=t)  # one clock for every stage: the engine's
        body = self.body.push(pose)
        if body is None:
            return self._no_body(t, pose)
        self.n_pose += 1
        self._last_seen = t
        kin, f = self.kin.push(body)
        view = self.kin.view
        self._views[view] += 1
        roll_visible = self.kin.can_see_roll(view)
        upright = f["upright"]
        step = Step(t=t, phase=self._phase, kinematics=kin, body=body, view=view,
                    view_can_see_roll=roll_visible, in_frame=pose is not None and in_frame(pose))
        offers: list[tuple[str, str]] = []

        if self.setup.result is None:
            result = self.setup.push(kin, f, upright, view, roll_visible)
            if result is not None:
                step.new_findings.extend(result.findings)
                offers += [(x.code, "correction") for x in result.findings if x.severity is not Severity.INFO]
                self._phase = "ready"
            elif self.setup.checks.get("side_lying") is False:
                offers.append(("not_side_lying", "info"))
        else:
            self.setup.live_checks(kin, f, upright, roll_visible)
        step.setup_checks = dict(self.setup.checks)
        step.setup_ok = self.setup.result is not None

        if self.setup.result is not None:
            if not self.kin.locked:
                self.kin.lock_view()
            offers += self._rep_step(t, kin, roll_visible, step)
        step.phase = self._phase
        step.rep_count = len(self.rep_list)
        step.cue = self.coach.choose(t, offers)
        self._record(t, kin, body, step)
        return step

    def _rep_step(self, t: float, kin: Kinematics, roll_visible: bool, step: Step) -> list[tuple[str, str]]:
        offers: list[tuple[str, str]] = []
        sample = Sample(t, kin.opening_deg, tuple(kin.value(n) for n in EXTRA))
        was_in_rep = self.reps.in_rep
        event = self.reps.push(sample, t)
        if not was_in_rep and self.reps.in_rep:
            rolls = [r for _, r in self._rest_rolls if math.isfinite(r)]
            self._rep_start_roll = float(np.median(rolls)) if rolls else kin.pelvis_roll_deg
        if not self.reps.in_rep:
            self._rest_rolls.append((t, kin.pelvis_roll_deg))
            while self._rest_rolls and self._rest_rolls[0][0] < t - 0.5:
                self._rest_rolls.popleft()
        if self.reps.in_rep:
            step.opening_deg = kin.opening_deg - self.reps.start_level
            change = kin.pelvis_roll_deg - self._rep_start_roll
            step.roll_change_deg = change if roll_visible else math.nan
            self._phase = {"up": "up", "down": "down"}.get(self.reps.state, "up")
            if self.reps.state == "up" and step.opening_deg > 3.0:
                self._top_since = self._top_since or t
            step.hold_s = t - self._top_since if self._top_since else 0.0
            if roll_visible and -change >= self.proto.roll_back.warn_deg:
                self._roll_back_since = self._roll_back_since if self._roll_back_since is not None else t
                if t - self._roll_back_since >= self.proto.roll_back.sustain_s:
                    offers.append(("roll_back", "correction"))
            else:
                self._roll_back_since = None
            if step.opening_deg >= self.proto.opening.too_high_deg:
                offers.append(("lift_too_high", "correction"))
        else:
            self._phase = "ready"
            self._top_since = None
            self._roll_back_since = None
            step.opening_deg = 0.0 if math.isfinite(kin.opening_deg) else math.nan
            step.roll_change_deg = 0.0 if roll_visible else math.nan
        if event is not None:
            rep = rep_measures(event, len(self.rep_list) + 1, self.proto, roll_visible)
            found = check_rep(rep, self.proto)
            rep = _with_findings(rep, found)
            self.rep_list.append(rep)
            step.new_reps.append(rep)
            step.new_findings.extend(found)
            serious = [x for x in found if x.severity is not Severity.INFO]
            offers += [(x.code, "correction") for x in found]
            if self.coach.praise_due(clean=not serious):
                offers.append(("praise_control", "praise"))
        return offers

    def _no_body(self, t: float, pose: PoseFrame | None) -> Step:
        self.reps.push(None, t)
        if t - self._last_seen > 2.0:
            self.kin.unlock_view()  # out of view a while: the camera may have been moved
        offers = [("get_in_frame", "info")] if t - self._last_seen > 2.0 else []
        phase = "no_person"
        self._record(t, None, None, None)
        return Step(t=t, phase=phase, rep_count=len(self.rep_list), in_frame=False,
                    view=self.kin.view, view_can_see_roll=self.kin.can_see_roll(),
                    setup_checks=dict(self.setup.checks), setup_ok=self.setup.result is not None,
                    cue=self.coach.choose(t, offers))

    def _record(self, t: float, kin: Kinematics | None, body: BodyFrame | None, step: Step | None) -> None:
        row: dict = {"t": round(t, 4)}
        for name in MEASURES:
            row[name] = kin.value(name) if kin is not None else math.nan
        row["phase"] = step.phase if step is not None else "no_person"
        row["landmarks"] = body.image.astype(np.float32) if body is not None else None
        self.frames.append(row)

    # -- the end of the set -----------------------------------------------------------------
    def finish(self) -> "Analysis":
        setup = self.setup.result or self.setup.never_settled()
        for row in self.frames:
            row["rep"] = None
        k = 0
        for row in self.frames:
            while k < len(self.rep_list) and row["t"] > self.rep_list[k].end_s:
                k += 1
            if k < len(self.rep_list) and self.rep_list[k].start_s <= row["t"]:
                row["rep"] = self.rep_list[k].index
        view = self._views.most_common(1)[0][0] if self._views else View.UNKNOWN
        return Analysis(
            protocol=self.proto, setup=setup, reps=list(self.rep_list), frames=self.frames,
            view=view, view_can_see_roll=self.kin.can_see_roll(view),
            top_side=self.body.top_side.value if self.body.top_side else None,
            pose_coverage=self.n_pose / self.n_frames if self.n_frames else 0.0,
            n_frames=self.n_frames, calibration=self.kin.calibration.source,
        )


#: Measured openings of small reps come out smaller than the truth (a 6 deg rep measures
#: about 4 deg from a raised camera: smoothing and the 2-D image shrink small movements), so a
#: rep is counted from this share of the protocol's smallest rep (tuning set).
SMALL_REP_SHARE = 0.6


def rep_params_for(protocol: Protocol) -> RepParams:
    smallest = SMALL_REP_SHARE * protocol.opening.min_rep_deg
    return RepParams(min_rep_deg=smallest, start_deg=min(2.5, smallest / 2))


def _with_findings(rep: Rep, found: tuple[Finding, ...]) -> Rep:
    return replace(rep, findings=found)


@dataclass
class Analysis:
    protocol: Protocol
    setup: SetupResult
    reps: list[Rep]
    frames: list[dict]
    view: View
    view_can_see_roll: bool
    top_side: str | None
    pose_coverage: float
    n_frames: int
    calibration: str = "default"
    warnings: list[str] = field(default_factory=list)
    snapshot: tuple | None = None

    @property
    def setup_findings(self) -> tuple[Finding, ...]:
        return self.setup.findings

    @property
    def hand_off_hip(self) -> bool:
        """The settled setup had the top hand off the hip (False when it was not measured)."""
        hand = self.setup.measures.hand_on_hip
        return math.isfinite(hand) and hand < 0.5

    @property
    def roll_reading_trusted(self) -> bool:
        """The view sees the roll and the top hand was on the hip (with it off, the roll reads
        far too low on the tuning clips): only then does a rep without a roll-back finding
        mean the person stayed rolled forward."""
        return self.view_can_see_roll and not self.hand_off_hip

    def all_findings(self) -> list[Finding]:
        out = list(self.setup.findings)
        for rep in self.reps:
            out.extend(rep.findings)
        return out

    def clean_reps(self) -> int:
        return sum(1 for r in self.reps if not any(f.severity is not Severity.INFO for f in r.findings))

    def advice(self, n: int = 2) -> list[Finding]:
        """The one or two things to change, most important first (one per code)."""
        counts = Counter(f.code for f in self.all_findings() if f.severity is not Severity.INFO)
        if not counts:
            counts = Counter(f.code for f in self.all_findings())
        codes = sorted(counts, key=lambda c: (priority(c), -counts[c]))[:n]
        first = {}
        for f in self.all_findings():
            first.setdefault(f.code, f)
        return [first[c] for c in codes]

    def to_dict(self, source: dict) -> dict:
        m = self.setup.measures

        def r(x: float) -> float | None:
            return None if x is None or not math.isfinite(x) else round(float(x), 2)

        warnings = list(self.warnings)
        if not self.view_can_see_roll and self.view in VIEW_LIMITS:
            warnings.append(VIEW_LIMITS[self.view])
        if self.view_can_see_roll and self.hand_off_hip:
            warnings.append(HAND_OFF_HIP_LIMIT)
        return {
            "schema": SCHEMA,
            "source": source,
            "camera_view": self.view.value,
            "view_can_see_roll": self.view_can_see_roll,
            "top_side": self.top_side,
            "pose_coverage": round(self.pose_coverage, 4),
            "setup": {
                "hip_flexion_deg": r(m.hip_flexion_deg),
                "knee_flexion_deg": r(m.knee_flexion_deg),
                "forward_roll_deg": r(m.forward_roll_deg),
                "hand_on_hip": None if not math.isfinite(m.hand_on_hip) else bool(m.hand_on_hip >= 0.5),
                "settled_at_s": r(self.setup.t),
                "findings": [f.to_dict() for f in self.setup.findings],
            },
            "reps": [rep.to_dict() for rep in self.reps],
            "summary": {
                "reps": len(self.reps),
                "clean_reps": self.clean_reps(),
                "findings": dict(Counter(f.code for f in self.all_findings())),
                "advice": [f.code for f in self.advice()],
            },
            "warnings": warnings,
            "provenance": {
                "protocol": self.protocol.raw,
                "calibration": self.calibration,
            },
        }
