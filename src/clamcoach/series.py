"""The per-frame series of one analysis: one numpy array per field, checked when it is made.

Columnar rather than a list of dicts, so a report or the history reads ``series.opening_deg``
and a renamed field fails at once instead of reading as a silent default. Every column has
one length; numbers are float64 with NaN for a gap (no body, nothing measured); the phase is
stored as a code into ``PHASES``; ``rep`` is the rep's number, 0 outside a rep;
``hand_on_hip`` holds True, False or None (could not be told).

``to_dict``/``from_dict`` are its JSON form, by column (what the history stores, thinned):
``{"t": [...], "phase": ["setup", ...], "rep": [null, 1, ...], "opening_deg": [...], ...}``.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, fields
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from clamcoach.errors import ClamcoachError
from clamcoach.jsonio import rounded
from clamcoach.types import N_LANDMARKS, Kinematics, Phase, Rep

#: Phase codes: ``series.phase[i]`` is an index into this tuple.
PHASES: tuple[Phase, ...] = tuple(Phase)
_CODE = {p: i for i, p in enumerate(PHASES)}
NO_REP = 0

#: The float columns, in report/CSV order (the measures, then their standard deviations).
MEASURE_COLUMNS: tuple[str, ...] = (
    "hip_flexion_deg", "knee_flexion_deg", "opening_deg", "knee_lift_cm",
    "pelvis_roll_deg", "trunk_roll_deg", "ankle_gap_cm",
)
SD_COLUMNS: tuple[str, ...] = ("opening_sd_deg", "pelvis_roll_sd_deg")
#: Every column but the landmarks, in the order ``to_dict`` writes them.
COLUMNS: tuple[str, ...] = ("t", "phase", "rep", *MEASURE_COLUMNS, "hand_on_hip", *SD_COLUMNS)


class SeriesError(ClamcoachError, ValueError):
    """A series whose columns do not fit together (a bug in its maker, not bad input)."""


@dataclass(frozen=True, eq=False)
class FrameSeries:
    t: np.ndarray
    phase: np.ndarray
    rep: np.ndarray
    hip_flexion_deg: np.ndarray
    knee_flexion_deg: np.ndarray
    opening_deg: np.ndarray
    knee_lift_cm: np.ndarray
    pelvis_roll_deg: np.ndarray
    trunk_roll_deg: np.ndarray
    ankle_gap_cm: np.ndarray
    hand_on_hip: np.ndarray
    opening_sd_deg: np.ndarray
    pelvis_roll_sd_deg: np.ndarray
    #: (n, 33, 3) float32 image landmarks (x px, y px, visibility), NaN without a body; None
    #: when not kept (a stored, thinned series).
    landmarks: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = None
        for f in fields(self):
            a = getattr(self, f.name)
            if f.name == "landmarks" and a is None:
                continue
            if not isinstance(a, np.ndarray):
                raise SeriesError(f"{f.name}: a numpy array, not {type(a).__name__}")
            a.flags.writeable = False  # frozen all the way down
            want_ndim = 3 if f.name == "landmarks" else 1
            if a.ndim != want_ndim:
                raise SeriesError(f"{f.name}: {want_ndim}-D, got shape {a.shape}")
            n = len(a) if n is None else n
            if len(a) != n:
                raise SeriesError(f"{f.name}: {len(a)} values, the other columns have {n}")
        self._check_dtypes()

    def _check_dtypes(self) -> None:
        for name in ("t", *MEASURE_COLUMNS, *SD_COLUMNS):
            if getattr(self, name).dtype != np.float64:
                raise SeriesError(f"{name}: float64 (NaN for a gap), got {getattr(self, name).dtype}")
        if self.phase.dtype != np.int8 or (len(self) and not 0 <= self.phase.min() <= self.phase.max() < len(PHASES)):
            raise SeriesError("phase: int8 codes into PHASES")
        if self.rep.dtype != np.int32 or (len(self) and self.rep.min() < 0):
            raise SeriesError("rep: int32, 0 outside a rep")
        if self.hand_on_hip.dtype != object or any(v is not None and type(v) is not bool for v in self.hand_on_hip):
            raise SeriesError("hand_on_hip: True, False or None")
        if self.landmarks is not None and (self.landmarks.shape[1:] != (N_LANDMARKS, 3)
                                           or self.landmarks.dtype != np.float32):
            raise SeriesError(f"landmarks: (n, {N_LANDMARKS}, 3) float32, got {self.landmarks.shape}")
        if len(self) > 1 and np.any(np.diff(self.t) < 0):
            raise SeriesError("t: times must not go backwards")

    def __len__(self) -> int:
        return len(self.t)

    # -- reading ------------------------------------------------------------------------------
    def phase_at(self, i: int) -> Phase:
        return PHASES[int(self.phase[i])]

    @property
    def phases(self) -> list[Phase]:
        return [PHASES[c] for c in self.phase]

    @property
    def posed(self) -> np.ndarray:
        """Frames with a tracked body (the engine says NO_PERSON exactly when there is none)."""
        return self.phase != _CODE[Phase.NO_PERSON]

    def rep_at(self, i: int) -> int | None:
        r = int(self.rep[i])
        return None if r == NO_REP else r

    def column(self, name: str) -> np.ndarray:
        """A column by its name; an unknown name is an error, never a default."""
        if name not in COLUMNS and name != "landmarks":
            raise KeyError(f"no column {name!r} in a frame series (columns: {', '.join(COLUMNS)})")
        return getattr(self, name)

    # -- new series from this one -------------------------------------------------------------
    def take(self, index: np.ndarray | slice) -> "FrameSeries":
        """The frames at ``index`` (a slice or integer/boolean array), in order."""
        kw = {f.name: getattr(self, f.name)[index] for f in fields(self) if f.name != "landmarks"}
        lm = self.landmarks[index] if self.landmarks is not None else None
        return FrameSeries(**kw, landmarks=lm)

    def without_landmarks(self) -> "FrameSeries":
        kw = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "landmarks"}
        return FrameSeries(**kw)

    def thinned(self, hz: float) -> "FrameSeries":
        """About ``hz`` frames per second: each frame at least 1/hz after the last one kept."""
        keep: list[int] = []
        next_t = -math.inf
        for i, t in enumerate(self.t.tolist()):
            if t < next_t or not math.isfinite(t):
                continue
            next_t = t + 1.0 / hz - 1e-6  # tolerate float error in frame times
            keep.append(i)
        return self.take(np.asarray(keep, dtype=np.intp))

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self, columns: Sequence[str] | None = None, *, t_digits: int = 4,
                digits: int | None = None) -> dict[str, list]:
        """JSON-safe columns (NaN as None): t rounded to ``t_digits``, the measures to
        ``digits`` (None: as measured). ``columns``: which of the float columns to write
        (default all); t, phase and rep are always written."""
        wanted = COLUMNS[3:] if columns is None else tuple(columns)
        out: dict[str, list] = {
            "t": [rounded(v, t_digits) for v in self.t.tolist()],
            "phase": [PHASES[c].value for c in self.phase.tolist()],
            "rep": [None if r == NO_REP else r for r in self.rep.tolist()],
        }
        for name in wanted:
            a = self.column(name)
            if name == "hand_on_hip":
                out[name] = list(a)
            elif digits is None:
                out[name] = [v if math.isfinite(v) else None for v in a.tolist()]
            else:
                out[name] = [rounded(v, digits) for v in a.tolist()]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[Any]]) -> "FrameSeries":
        """A series from its JSON columns (``to_dict``'s form, or the history's stored
        series); a column that is not there is all gaps. Unknown columns are an error."""
        unknown = set(data) - set(COLUMNS)
        if unknown:
            raise SeriesError(f"unknown series columns: {', '.join(sorted(unknown))}")
        if "t" not in data:
            raise SeriesError("a series needs its times (t)")
        n = len(data["t"])
        floats = {name: _floats(data.get(name), n) for name in ("t", *MEASURE_COLUMNS, *SD_COLUMNS)}
        phase = np.array([_CODE[Phase(p)] if p is not None else _CODE[Phase.NO_PERSON]
                          for p in data.get("phase", [None] * n)], dtype=np.int8)
        rep = np.array([NO_REP if r is None else int(r) for r in data.get("rep", [None] * n)], dtype=np.int32)
        hands = _hands(data.get("hand_on_hip", [None] * n))
        return cls(phase=phase, rep=rep, hand_on_hip=hands, **floats)

    @classmethod
    def empty(cls) -> "FrameSeries":
        return SeriesBuilder().build(())


def _floats(values: Sequence[Any] | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _hands(values: Iterable[Any]) -> np.ndarray:
    out = np.empty(len(values := list(values)), dtype=object)
    for i, v in enumerate(values):
        out[i] = None if v is None else bool(v)
    return out


class SeriesBuilder:
    """Collects the engine's frames one at a time; ``build`` makes the checked series."""

    def __init__(self, keep_landmarks: bool = True) -> None:
        self.keep_landmarks = keep_landmarks
        # Packed machine values, not Python floats in lists: a live set can run for half an
        # hour, and boxed floats and per-frame arrays cost about twice the memory.
        self._t = array("d")
        self._phase = array("b")
        self._values = array("d")
        self._hands: list[bool | None] = []
        self._landmarks = bytearray()  # float32 (x, y, visibility) per landmark; NaN: no body

    def __len__(self) -> int:
        return len(self._t)

    def add(self, t: float, phase: Phase, kin: Kinematics | None, landmarks: np.ndarray | None) -> None:
        self._t.append(round(t, 4))
        self._phase.append(_CODE[phase])
        if kin is None:
            self._values.extend((math.nan,) * _N_VALUES)
            self._hands.append(None)
        else:
            self._values.extend((*(float(getattr(kin, c)) for c in MEASURE_COLUMNS),
                                 kin.sd.opening_deg, kin.sd.pelvis_roll_deg))
            self._hands.append(kin.hand_on_hip)
        if self.keep_landmarks:
            if landmarks is None:
                self._landmarks.extend(_NO_LANDMARKS)
            else:
                self._landmarks.extend(np.asarray(landmarks, dtype=np.float32).reshape(N_LANDMARKS, 3).tobytes())

    def measured_again(self, kins: Sequence[Kinematics]) -> None:
        """Replace the measures of frames already added (matched by time) with ``kins``."""
        i = len(self._t)
        for kin in reversed(kins):
            t = round(kin.t, 4)
            while i > 0 and self._t[i - 1] > t:
                i -= 1
            if i == 0:
                return
            if self._t[i - 1] != t:
                continue
            row = (*(float(getattr(kin, c)) for c in MEASURE_COLUMNS), kin.sd.opening_deg, kin.sd.pelvis_roll_deg)
            self._values[(i - 1) * _N_VALUES:i * _N_VALUES] = array("d", row)
            self._hands[i - 1] = kin.hand_on_hip

    def build(self, reps: Sequence[Rep]) -> FrameSeries:
        """The series, each frame numbered with the rep it is in (start to end, inclusive)."""
        t = np.array(self._t, dtype=np.float64)
        values = np.array(self._values, dtype=np.float64).reshape(len(t), _N_VALUES)
        cols = dict(zip((*MEASURE_COLUMNS, *SD_COLUMNS), values.T.copy()))
        landmarks = None
        if self.keep_landmarks:
            landmarks = np.frombuffer(bytes(self._landmarks), dtype=np.float32).reshape(len(t), N_LANDMARKS, 3).copy()
        return FrameSeries(t=t, phase=np.array(self._phase, dtype=np.int8), rep=rep_numbers(t, reps),
                           hand_on_hip=_hands(self._hands), landmarks=landmarks, **cols)


_N_VALUES = len(MEASURE_COLUMNS) + len(SD_COLUMNS)
_NO_LANDMARKS = np.full((N_LANDMARKS, 3), np.nan, dtype=np.float32).tobytes()


def rep_numbers(t: np.ndarray, reps: Sequence[Rep]) -> np.ndarray:
    """For each time, the number of the rep it falls in (``start_s <= t <= end_s``), else 0."""
    out = np.zeros(len(t), dtype=np.int32)
    if not reps or not len(t):
        return out
    ends = np.array([r.end_s for r in reps])
    starts = np.array([r.start_s for r in reps])
    k = np.searchsorted(ends, t, side="left")  # the first rep not over at t
    inside = k < len(reps)
    ki = np.where(inside, k, 0)
    inside &= starts[ki] <= t
    out[inside] = np.array([r.index for r in reps], dtype=np.int32)[ki[inside]]
    return out


__all__ = ["FrameSeries", "SeriesBuilder", "SeriesError", "PHASES", "COLUMNS", "MEASURE_COLUMNS",
           "SD_COLUMNS", "NO_REP", "rep_numbers"]
