"""The method's checks: setup and per-rep measures -> Findings.

Numbers come in typed (``Protocol`` sections); nothing here reads files. The roll-back check
comes first, as in the method ("staying rolled forward matters more than how high the knee
goes"). Each check is one small function so it can be tested (and removed) on its own.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from clamcoach.measure.placement import END_ON_AZIMUTH_DEG
from clamcoach.protocol import Protocol
from clamcoach.reps import RepEvent
from clamcoach.types import Finding, Kinematics, Rep, Severity

#: Order of importance, used for the report and for which cue wins.
PRIORITY: tuple[str, ...] = (
    "roll_back", "not_side_lying", "not_rolled_forward", "lift_too_high", "feet_apart",
    "camera_view", "camera_end_on", "hip_angle", "knee_angle", "hand_not_on_hip", "too_fast", "no_hold",
    "no_visible_lift",
)

def priority(code: str) -> int:
    return PRIORITY.index(code) if code in PRIORITY else len(PRIORITY)


def rank_codes(findings: Iterable[Finding], n: int | None = None) -> list[tuple[str, int]]:
    """The findings' codes with how often each occurs, most important first: the method's
    priority, then the count (the one ranking behind a set's advice and a session's summary)."""
    counts = Counter(f.code for f in findings)
    return sorted(counts.items(), key=lambda item: (priority(item[0]), -item[1]))[:n]


def finding(proto: Protocol, code: str, severity: Severity, value: float | None,
            threshold: float | None, *, rep: int | None = None, t: float | None = None) -> Finding:
    return Finding(code=code, severity=severity, value=value, threshold=threshold,
                   message=proto.message(code), cue=proto.cue(code), rep=rep, t=t)


# -- per-rep measures -----------------------------------------------------------------------

def sustained_max(times: Sequence[float], values: Sequence[float], duration_s: float) -> float:
    """The largest level the signal stays at or above for at least ``duration_s``.

    ``max over t0 of min(values over [t0, t0 + duration_s])``; NaNs are ignored. A spike
    shorter than ``duration_s`` does not count.
    """
    t = np.asarray(times, float)
    v = np.asarray(values, float)
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    if len(v) == 0:
        return math.nan
    best = -math.inf
    j = 0
    for i in range(len(t)):
        while j < len(t) and t[j] < t[i] + duration_s:
            j += 1
        if t[j - 1] - t[i] < duration_s * 0.75 and j == len(t):
            break  # the window runs past the end
        best = max(best, float(v[i:j].min()))
    return best if math.isfinite(best) else math.nan


def rep_measures(ev: RepEvent, index: int, proto: Protocol) -> Rep:
    """Per-rep numbers (without findings) from the rep's samples, each with its SD."""
    kins = [s.kin for s in ev.samples if s.kin is not None]
    t = [k.t for k in kins]
    col = lambda name: np.array([k.value(name) for k in kins], float)  # noqa: E731
    sds = lambda name: np.array([k.sd_of(name) for k in kins], float)  # noqa: E731
    pre = [s.kin for s in ev.rest_samples if s.t >= ev.start_s - 0.5 and s.kin is not None] or kins[:3]
    start = {name: _median([k.value(name) for k in pre + kins[:1]])
             for name in ("pelvis_roll_deg", "trunk_roll_deg", "knee_lift_cm")}
    sustain = proto.roll_back.sustain_s
    roll_back = sustained_max(t, start["pelvis_roll_deg"] - col("pelvis_roll_deg"), sustain)
    trunk_back = sustained_max(t, start["trunk_roll_deg"] - col("trunk_roll_deg"), sustain)
    # How well the roll is seen from where the rep starts (a roll-back itself turns the hip line
    # toward the camera and loosens the reading: it must not make itself unjudgeable).
    roll_sd = _median([k.sd_of("pelvis_roll_deg") for k in pre + kins[:1]])
    trunk_sd = _median([k.sd_of("trunk_roll_deg") for k in pre + kins[:1]])
    judged = math.isfinite(roll_sd) and roll_sd <= proto.roll_back.max_sd_deg
    shin = _median(col("shin_length_cm"))
    return Rep(
        index=index, start_s=ev.start_s, peak_s=ev.peak_s, end_s=ev.end_s,
        opening_deg=ev.peak_opening - ev.start_level,
        opening_sd_deg=_at_peak(kins, ev.peak_s, "opening_deg"),
        knee_lift_cm=float(np.nanmax(col("knee_lift_cm")) - start["knee_lift_cm"]) if kins else math.nan,
        roll_back_deg=max(0.0, roll_back) if math.isfinite(roll_back) else math.nan,
        roll_back_sd_deg=roll_sd,
        trunk_roll_back_deg=max(0.0, trunk_back) if math.isfinite(trunk_back) else math.nan,
        trunk_roll_back_sd_deg=trunk_sd,
        roll_judged=judged,
        ankle_gap_cm=sustained_max(t, col("ankle_gap_cm"), sustain),
        ankle_gap_sd_cm=_median(sds("ankle_gap_cm")),
        ankle_gap_limit_cm=proto.feet.max_gap_shin_fraction * shin,
        up_s=ev.up_s, hold_s=ev.hold_s, down_s=ev.down_s,
        roll_back_sustained_s=sustain,
    )


def _at_peak(kins: Sequence[Kinematics], peak_s: float, name: str) -> float:
    """A measure's SD at the rep's peak, where its value is read (an SD that grows with the
    opening is smallest at rest, which a median over the rep would mostly report)."""
    if not kins:
        return math.nan
    return float(min(kins, key=lambda k: abs(k.t - peak_s)).sd_of(name))


def _median(values) -> float:
    arr = np.asarray(values, float)
    arr = arr[np.isfinite(arr)]
    return float(np.median(arr)) if len(arr) else math.nan


class Sustained:
    """Online: has the signal stayed at or above ``level`` for ``duration_s``? The live form of
    ``sustained_max(...) >= level``, so a live cue and the report's finding agree."""

    def __init__(self, level: float, duration_s: float) -> None:
        self.level = level
        self.duration_s = duration_s
        self._since: float | None = None

    def reset(self) -> None:
        self._since = None

    def push(self, t: float, value: float) -> bool:
        if not (math.isfinite(value) and value >= self.level):
            self._since = None
            return False
        if self._since is None:
            self._since = t
        return t - self._since >= self.duration_s


# -- per-rep checks -------------------------------------------------------------------------

def check_roll_back(rep: Rep, proto: Protocol) -> Finding | None:
    rb = proto.roll_back
    if not rep.roll_judged:
        return None
    value = rep.roll_back_deg
    if rb.check_trunk and math.isfinite(rep.trunk_roll_back_deg) and rep.trunk_roll_back_sd_deg <= rb.max_sd_deg:
        value = max(value, rep.trunk_roll_back_deg) if math.isfinite(value) else rep.trunk_roll_back_deg
    if not math.isfinite(value) or value < rb.warn_deg:
        return None
    severity, threshold = (Severity.ERROR, rb.error_deg) if value >= rb.error_deg else (Severity.WARN, rb.warn_deg)
    return finding(proto, "roll_back", severity, value, threshold, rep=rep.index, t=rep.peak_s)


def check_lift_too_high(rep: Rep, proto: Protocol) -> Finding | None:
    if rep.opening_deg >= proto.opening.too_high_deg:
        return finding(proto, "lift_too_high", Severity.WARN, rep.opening_deg,
                       proto.opening.too_high_deg, rep=rep.index, t=rep.peak_s)
    return None


#: The feet are said to be apart only when the gap is past its limit with 90% confidence (one
#: sided: the reading beyond the limit by 1.28 of its SDs). The limit is a few centimetres past
#: the stacked ankles, within what one camera reads as the knee opens (tuning, from above: clean
#: reps read up to 5 cm over the truth with an SD of 2).
CONFIDENT_Z = 1.2816


def check_feet_apart(rep: Rep, proto: Protocol) -> Finding | None:
    sd = rep.ankle_gap_sd_cm if math.isfinite(rep.ankle_gap_sd_cm) else 0.0
    if math.isfinite(rep.ankle_gap_cm) and rep.ankle_gap_cm - CONFIDENT_Z * sd > rep.ankle_gap_limit_cm:
        return finding(proto, "feet_apart", Severity.WARN, rep.ankle_gap_cm,
                       rep.ankle_gap_limit_cm, rep=rep.index, t=rep.peak_s)
    return None


def check_too_fast(rep: Rep, proto: Protocol) -> Finding | None:
    tempo = proto.tempo
    if rep.up_s < tempo.min_up_s or rep.down_s < tempo.min_down_s:
        fastest = min(rep.up_s, rep.down_s)
        return finding(proto, "too_fast", Severity.INFO, fastest,
                       min(tempo.min_up_s, tempo.min_down_s), rep=rep.index, t=rep.end_s)
    return None


def check_no_hold(rep: Rep, proto: Protocol) -> Finding | None:
    if rep.hold_s < proto.tempo.hold_min_s:
        return finding(proto, "no_hold", Severity.INFO, rep.hold_s, proto.tempo.hold_min_s,
                       rep=rep.index, t=rep.end_s)
    return None


REP_CHECKS: tuple[Callable[[Rep, Protocol], Finding | None], ...] = (
    check_roll_back, check_lift_too_high, check_feet_apart, check_too_fast, check_no_hold,
)


def check_rep(rep: Rep, proto: Protocol) -> tuple[Finding, ...]:
    found = (check(rep, proto) for check in REP_CHECKS)
    return tuple(sorted((f for f in found if f is not None), key=lambda f: priority(f.code)))


# -- setup checks ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SetupMeasures:
    """The settled setup, from the body model fitted to it (medians over the still window)."""

    side_lying: bool
    hip_flexion_deg: float
    knee_flexion_deg: float
    forward_roll_deg: float
    forward_roll_sd_deg: float    # NaN when there is no setup
    hand_on_hip: bool | None      # None: could not be told
    held_s: float                 # how long the window lasted
    #: SD of a roll-back (deg) that this placement gives for this person, and whether that is
    #: small enough for the roll-back check; ``move_camera``: the advice that would shrink it.
    roll_sd_deg: float
    view_can_see_roll: bool
    view: str
    camera_elevation_deg: float = math.nan
    camera_azimuth_deg: float = math.nan
    move_camera: str = ""
    #: The camera looks along the body, from the feet or the head end (placement.is_end_on).
    camera_end_on: bool = False
    #: SD of the opening near closed (deg) that this placement gives for this person.
    opening_sd_deg: float = math.nan
    #: The opening's SD as a share of the opening, from what the setup could not pin down (how
    #: the knee will move in the picture): MeasureStage.opening_gain_sd_rel.
    opening_gain_sd_rel: float = math.nan
    #: The setup saw the top knee resting well above the bottom one, no pillow declared: it was
    #: measured as resting on one (MeasureStage.knee_pillow_seen).
    knee_pillow_seen: bool = False


def check_setup(m: SetupMeasures, proto: Protocol) -> tuple[Finding, ...]:
    s = proto.setup
    out: list[Finding] = []
    if not m.side_lying:
        out.append(finding(proto, "not_side_lying", Severity.ERROR, None, None))
        return tuple(out)
    roll_known = math.isfinite(m.forward_roll_deg) and m.forward_roll_sd_deg <= s.forward_roll_max_sd_deg
    if roll_known and m.forward_roll_deg < s.forward_roll_min_deg:
        sev = Severity.WARN if m.forward_roll_deg <= 0 else Severity.INFO
        out.append(finding(proto, "not_rolled_forward", sev, m.forward_roll_deg, s.forward_roll_min_deg))
    if not m.view_can_see_roll:
        out.append(finding(proto, "camera_view", Severity.WARN, m.roll_sd_deg, proto.roll_back.max_sd_deg))
    if m.camera_end_on:
        out.append(finding(proto, "camera_end_on", Severity.WARN, abs(m.camera_azimuth_deg), END_ON_AZIMUTH_DEG))
    if m.held_s >= s.flag_hold_s and not (s.hip_flag_min_deg <= m.hip_flexion_deg <= s.hip_flag_max_deg):
        limit = s.hip_flag_min_deg if m.hip_flexion_deg < s.hip_flag_min_deg else s.hip_flag_max_deg
        out.append(finding(proto, "hip_angle", Severity.WARN, m.hip_flexion_deg, limit))
    if not (s.knee_min_deg <= m.knee_flexion_deg <= s.knee_max_deg):
        limit = s.knee_min_deg if m.knee_flexion_deg < s.knee_min_deg else s.knee_max_deg
        out.append(finding(proto, "knee_angle", Severity.INFO, m.knee_flexion_deg, limit))
    if s.hand_on_hip_required and m.hand_on_hip is False:
        out.append(finding(proto, "hand_not_on_hip", Severity.INFO, 0.0, 1.0))
    return tuple(sorted(out, key=lambda f: priority(f.code)))
