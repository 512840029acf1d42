"""Online repetition segmentation on the clam opening (a dual-threshold event detector).

States: rest -> up -> (top) -> down -> rest. A rep starts when the opening leaves the rest
level by ``start_deg`` and is kept only if its peak rises at least ``min_rep_deg`` above its
start: small openings count (weak patients need them), noise and fidgets do not. Times are
refined from the samples of the rep itself (kept only while the rep lasts, so memory is flat):
start = last sample near the start level before the rise, end = first sample back near it.
Up/hold/down: before, at and after the top plateau (within ``top_band`` of the peak).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from clamcoach.filters import RollingQuantile
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RepParams:
    start_deg: float = 2.5          # rise above rest that opens a candidate rep
    min_rep_deg: float = 5.0        # a rep needs at least this opening (the method's "small" rep)
    end_fraction: float = 0.08      # back within this share of the amplitude ends the rep ...
    end_margin_deg: float = 0.6
    settle_fraction: float = 0.3    # ... or back within this share for settle_s
    settle_s: float = 0.8
    top_fraction: float = 0.15      # the top plateau: within this share of the amplitude
    top_margin_deg: float = 1.5
    max_rep_s: float = 20.0         # longer than this is not a rep (getting into position)
    max_gap_s: float = 1.0          # a longer pose gap abandons the rep in progress
    rest_window_s: float = 2.0      # how much rest before a rep sets its start level
    min_rep_s: float = 0.4


@dataclass(frozen=True)
class Sample:
    t: float
    opening: float
    extra: tuple[float, ...] = ()   # measures carried along for per-rep checks


@dataclass(frozen=True)
class RepEvent:
    """A completed rep's timing; per-rep measures are computed from ``samples``."""

    start_s: float
    peak_s: float
    end_s: float
    start_level: float
    peak_opening: float
    up_s: float
    hold_s: float
    down_s: float
    samples: tuple[Sample, ...]
    rest_samples: tuple[Sample, ...]


@dataclass
class RepDetector:
    params: RepParams = field(default_factory=RepParams)

    def __post_init__(self) -> None:
        self.state = "rest"
        self._rest: deque[Sample] = deque()
        self._rep: list[Sample] = []
        self._start_level = 0.0
        self._peak = -math.inf
        self._last_t: float | None = None
        self._low_since: float | None = None
        self._level = RollingQuantile(self.params.rest_window_s, 0.25)

    @property
    def in_rep(self) -> bool:
        return self.state != "rest"

    @property
    def start_level(self) -> float:
        return self._start_level

    def reset(self) -> None:
        self.state = "rest"
        self._rep.clear()
        self._rest.clear()
        self._level.clear()

    def push(self, sample: Sample | None, t: float) -> RepEvent | None:
        """Feed one frame (None = no usable pose). Returns a rep when one completes."""
        p = self.params
        if sample is None or not math.isfinite(sample.opening):
            if self._last_t is not None and t - self._last_t > p.max_gap_s:
                self.reset()
            return None
        self._last_t = sample.t
        if self.state == "rest":
            return self._in_rest(sample)
        self._rep.append(sample)
        if sample.t - self._rep[0].t > p.max_rep_s:
            self.reset()
            return None
        amp = self._peak - self._start_level
        if sample.opening > self._peak:
            self._peak = sample.opening
            self.state = "up"
            return None
        if self.state == "up" and sample.opening < self._peak - max(p.top_margin_deg, p.top_fraction * amp) - 0.5:
            self.state = "down"
        if self.state == "down":
            end_level = self._start_level + max(p.end_margin_deg, p.end_fraction * amp)
            low_level = self._start_level + p.settle_fraction * amp
            if sample.opening > low_level:
                self._low_since = None
            elif self._low_since is None:
                self._low_since = sample.t
            settled = self._low_since is not None and sample.t - self._low_since >= p.settle_s
            if sample.opening <= end_level or settled:
                return self._finish()
        return None

    def _in_rest(self, s: Sample) -> RepEvent | None:
        p = self.params
        self._rest.append(s)
        while self._rest and self._rest[0].t < s.t - 3.0:
            self._rest.popleft()
        # The rest level looks back far enough that a slow, small rise still stands out.
        level = self._level.push(s.t, s.opening)
        if s.opening > level + p.start_deg:
            # Start level: the rest before the rise, not the rise itself.
            self._start_level = level
            self._rep = [r for r in self._rest if r.t >= s.t - 1.5]
            self._peak = s.opening
            self._low_since = None
            self.state = "up"
        return None

    def _finish(self) -> RepEvent | None:
        p = self.params
        samples = self._rep
        rest = tuple(self._rest)
        self.state = "rest"
        self._rep = []
        self._rest.clear()
        self._level.clear()
        amp = self._peak - self._start_level
        if amp < p.min_rep_deg:
            return None
        for r in samples[-1:]:
            self._rest.append(r)
        t = np.array([x.t for x in samples])
        v = np.array([x.opening for x in samples]) - self._start_level
        k_peak = int(np.argmax(v))
        times = _phase_times(t, v, k_peak, amp)
        if times is None:
            return None
        start, top_in, top_out, end = times
        if end - start < p.min_rep_s:
            return None
        keep = (t >= start - 1e-9) & (t <= end + 1e-9)
        kept = tuple(s for s, k in zip(samples, keep) if k) or tuple(samples)
        return RepEvent(
            start_s=start, peak_s=float(t[k_peak]), end_s=end,
            start_level=self._start_level, peak_opening=self._peak,
            up_s=top_in - start, hold_s=max(0.0, top_out - top_in), down_s=end - top_out,
            samples=kept, rest_samples=rest,
        )


# A minimum-jerk movement (the usual model of a smooth human movement, Flash & Hogan 1985)
# spends the middle 50.6% of its duration between 10% and 90% of its range, and 24.7% on
# each side. Timing from the 10%/90% crossings, scaled by that, is exact for such a movement
# and robust to noise at the ends, where the signal is flat and a threshold is unreliable.
_MJ_MID = 0.506
_MJ_TAIL = 0.247


def _crossing(t: np.ndarray, v: np.ndarray, level: float, lo: int, hi: int, step: int) -> float | None:
    """First time from index ``lo`` toward ``hi`` (by ``step``) where v crosses ``level``,
    interpolated between samples."""
    for i in range(lo, hi, step):
        j = i + step
        if not (0 <= j < len(v)):
            break
        if (v[i] - level) * (v[j] - level) <= 0 and v[i] != v[j]:
            return float(t[i] + (t[j] - t[i]) * (level - v[i]) / (v[j] - v[i]))
    return None


def _phase_times(t: np.ndarray, v: np.ndarray, k_peak: int, amp: float):
    """(start, top reached, top left, end) of one rep from its 10%/90% crossings."""
    lo, hi = 0.1 * amp, 0.9 * amp
    up10 = _crossing(t, v, lo, k_peak, -1, -1)
    up90 = _crossing(t, v, hi, 0, k_peak + 1, 1)
    dn90 = _crossing(t, v, hi, len(v) - 1, k_peak - 1, -1)
    dn10 = _crossing(t, v, lo, k_peak, len(v), 1)
    up10 = float(t[0]) if up10 is None else up10      # the rise began before we looked
    dn10 = float(t[-1]) if dn10 is None else dn10     # settled above 10%: ends where it settled
    if up90 is None or dn90 is None:
        return None
    up = (up90 - up10) / _MJ_MID
    down = (dn10 - dn90) / _MJ_MID
    start, end = up10 - _MJ_TAIL * up, dn10 + _MJ_TAIL * down
    return start, start + up, end - down, end
