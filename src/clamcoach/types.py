"""The data at the pipeline's seams, declared once.

    frames -> PoseFrame -> BodyFrame -> Kinematics -> RepEvent/Rep -> Finding

Arrays of landmarks are ``(33, 3)`` float64 in BlazePose order (``LANDMARKS``); a missing
value is NaN, never zero. Times are seconds from the start of the video or live session.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from enum import Enum

import numpy as np

from clamcoach.jsonio import rounded

#: BlazePose's 33 landmark names, in the model's order.
LANDMARKS: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
LM = {name: i for i, name in enumerate(LANDMARKS)}
N_LANDMARKS = len(LANDMARKS)

#: Left/right landmark pairs, so a label swap can be undone pair by pair.
LR_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (LM[n], LM["right_" + n[len("left_"):]]) for n in LANDMARKS if n.startswith("left_")
) + ((LM["mouth_left"], LM["mouth_right"]),)


def lr_pair(part: str) -> tuple[int, int]:
    """(left index, right index) of a paired landmark, e.g. ``lr_pair("knee")``."""
    if part == "mouth":
        return LM["mouth_left"], LM["mouth_right"]
    return LM["left_" + part], LM["right_" + part]


@dataclass(frozen=True, slots=True)
class PoseFrame:
    """One frame's pose as the estimator saw it (labels as the model gave them).

    ``image``: (33, 3) x px, y px, visibility in [0, 1].
    ``world``: (33, 3) metres, camera-aligned axes (x right, y down, z away from the camera),
    origin at mid-hip.
    """

    t: float
    image: np.ndarray
    world: np.ndarray
    width: int
    height: int
    presence: float = 1.0


class Side(str, Enum):
    LEFT = "left"
    RIGHT = "right"

    @property
    def other(self) -> "Side":
        return Side.RIGHT if self is Side.LEFT else Side.LEFT


@dataclass(frozen=True, slots=True)
class BodyFrame:
    """The tracked, smoothed body with top/bottom resolved by geometry and continuity.

    ``top`` is the anatomical side of the lifting (upper) leg. ``image``/``world`` are in
    the model's landmark order but with left/right swaps undone, so ``left_*`` really is the
    person's left. ``quality`` in [0, 1] says how far the frame can be trusted.
    """

    t: float
    image: np.ndarray
    world: np.ndarray
    width: int
    height: int
    top: Side
    quality: float


class View(str, Enum):
    FRONT = "front"
    OBLIQUE = "oblique"
    OVERHEAD = "overhead"
    FEET = "feet"
    UNKNOWN = "unknown"


class Phase(str, Enum):
    """Where the engine is in the set (a str, so it serialises as its value)."""

    NO_PERSON = "no_person"
    SETUP = "setup"
    READY = "ready"
    UP = "up"
    HOLD = "hold"
    DOWN = "down"


@dataclass(frozen=True, slots=True, kw_only=True)
class _FittedMeasures:
    """The measures the body-model fit gives with a standard deviation, declared once so that
    ``Kinematics`` (the values) and ``Spread`` (their SDs) cannot drift apart. NaN: unknown."""

    hip_flexion_deg: float = math.nan
    knee_flexion_deg: float = math.nan
    opening_deg: float = math.nan
    knee_lift_cm: float = math.nan
    pelvis_roll_deg: float = math.nan
    trunk_roll_deg: float = math.nan
    ankle_gap_cm: float = math.nan


@dataclass(frozen=True, slots=True, kw_only=True)
class Spread(_FittedMeasures):
    """Standard deviations of a ``Kinematics``' measures (same units), NaN when unknown."""


#: The measures that carry a standard deviation from the body-model fit.
MEASURED_WITH_SD: tuple[str, ...] = tuple(f.name for f in fields(_FittedMeasures))
#: Names of the per-frame measures, in report/CSV order.
MEASURES: tuple[str, ...] = (*MEASURED_WITH_SD, "hand_on_hip")


@dataclass(frozen=True, slots=True, kw_only=True)
class Kinematics(_FittedMeasures):
    """Per-frame measures in the body's own frame, each with its standard deviation.

    Rolls are forward-positive (belly toward the table), absolute (0 = hip line vertical); their
    *change* within a rep is what the roll-back check uses, and ``sd`` is the standard deviation
    of that change (the setup's constant part is in ``roll_sd_at_setup``). ``opening_deg`` is 0
    at the setup's rest. ``hand_on_hip`` is None when it cannot be told.
    """

    t: float
    hand_on_hip: bool | None = None
    shin_length_cm: float = math.nan
    sd: Spread = field(default_factory=Spread)
    #: Mean squared normalised residual of the fit (about 1 when the landmarks are as noisy
    #: as the tuning data said; much more: the model does not explain this frame).
    fit_cost: float = math.nan

    def value(self, name: str) -> float:
        """A numeric measure by name (``hand_on_hip`` is a yes/no/unknown, not a number)."""
        if name not in MEASURED_WITH_SD and name != "shin_length_cm":
            raise KeyError(f"{name!r} is not a numeric measure of Kinematics")
        return float(getattr(self, name))

    def sd_of(self, name: str) -> float:
        return float(getattr(self.sd, name)) if name in MEASURED_WITH_SD else math.nan


class Severity(str, Enum):
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one check. ``code`` is stable: never rename one."""

    code: str
    severity: Severity
    value: float | None
    threshold: float | None
    message: str
    cue: str
    rep: int | None = None
    t: float | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity.value, "value": rounded(self.value),
                "threshold": rounded(self.threshold), "message": self.message, "cue": self.cue}


@dataclass(frozen=True, slots=True)
class Rep:
    """One repetition, an event with per-rep measures (times in seconds).

    Each measure has its standard deviation from the fit (``*_sd``). ``roll_judged`` says
    whether the roll-back was known well enough to be checked against its threshold.
    """

    index: int
    start_s: float
    peak_s: float
    end_s: float
    opening_deg: float
    knee_lift_cm: float
    roll_back_deg: float
    trunk_roll_back_deg: float
    ankle_gap_cm: float
    ankle_gap_limit_cm: float
    up_s: float
    hold_s: float
    down_s: float
    roll_back_sustained_s: float
    roll_judged: bool
    opening_sd_deg: float = math.nan
    roll_back_sd_deg: float = math.nan
    trunk_roll_back_sd_deg: float = math.nan
    ankle_gap_sd_cm: float = math.nan
    findings: tuple[Finding, ...] = ()

    @property
    def roll_confidence(self) -> float:
        """1 when the roll-back was judged, else 0 (kept for the history database)."""
        return 1.0 if self.roll_judged else 0.0

    def to_dict(self) -> dict:
        def r(x: float) -> float | None:
            return rounded(x, 3)

        return {
            "index": self.index,
            "start_s": r(self.start_s),
            "peak_s": r(self.peak_s),
            "end_s": r(self.end_s),
            "opening_deg": r(self.opening_deg),
            "opening_sd_deg": r(self.opening_sd_deg),
            "knee_lift_cm": r(self.knee_lift_cm),
            "roll_back_deg": r(self.roll_back_deg),
            "roll_back_sd_deg": r(self.roll_back_sd_deg),
            "trunk_roll_back_deg": r(self.trunk_roll_back_deg),
            "trunk_roll_back_sd_deg": r(self.trunk_roll_back_sd_deg),
            "roll_judged": self.roll_judged,
            "ankle_gap_cm": r(self.ankle_gap_cm),
            "ankle_gap_sd_cm": r(self.ankle_gap_sd_cm),
            "up_s": r(self.up_s),
            "hold_s": r(self.hold_s),
            "down_s": r(self.down_s),
            "roll_confidence": r(self.roll_confidence),
            "findings": [f.to_dict() for f in self.findings],
        }
