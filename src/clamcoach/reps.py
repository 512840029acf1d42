"""Online repetition segmentation on the clam opening (a dual-threshold event detector).

States: rest -> up -> hold -> down -> rest. A rep starts when the opening leaves the rest
level by ``start_deg`` and is kept only if its peak rises at least ``min_rep_deg`` above its
start: small openings count (weak patients need them), noise and fidgets do not.

Timing comes from the 10% and 90% crossings of the rep's own samples (kept only while the rep
lasts, so memory is flat), scaled by the minimum-jerk profile. The same function,
``phase_times``, gives the live phase and hold timer on the samples so far and the rep's final
times at its end, so the hold the live page counts at a rep's end is the hold in the report.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from clamcoach.filters import RollingQuantile
from clamcoach.types import Kinematics, Phase


@dataclass(frozen=True)
class RepParams:
    start_deg: float = 2.5          # rise above rest that opens a candidate rep
    min_rep_deg: float = 5.0        # a rep needs at least this opening (the method's "small" rep)
    end_fraction: float = 0.08      # back within this share of the amplitude ends the rep ...
    end_margin_deg: float = 0.6
    settle_fraction: float = 0.3    # ... or back within this share for settle_s ...
    settle_s: float = 0.8
    #: ... or below this share and still (within ``still_fraction`` of the amplitude, at least
    #: ``top_margin_deg``) for settle_s: BlazePose often reads the rest after a small rep a few
    #: degrees off the rest before it, and a lowering that has stopped is over.
    still_settle_fraction: float = 0.5
    still_fraction: float = 0.1
    top_fraction: float = 0.15      # leaving the top: below the peak by this share ...
    top_margin_deg: float = 1.5     # ... and at least this much
    max_rep_s: float = 20.0         # longer than this is not a rep (getting into position)
    max_gap_s: float = 1.0          # a longer pose gap abandons the rep in progress
    rest_window_s: float = 2.0      # how much rest before a rep sets its start level
    min_rep_s: float = 0.4
    #: A rep must also stand this many times above the opening's own jitter at rest (its
    #: robust spread there), so a noisy view makes no reps out of noise.
    noise_factor: float = 5.0


@dataclass(frozen=True)
class Sample:
    t: float
    opening: float
    kin: Kinematics | None = None   # the frame's measures, for the per-rep checks


@dataclass(frozen=True)
class PhaseTimes:
    """A rep's timing from its samples so far. ``top_out``/``end`` are None while unknown."""

    start: float
    top_in: float
    top_out: float | None
    end: float | None
    up_s: float
    down_s: float | None

    def hold_at(self, t: float) -> float:
        """Seconds held at the top by time ``t`` (frozen once the top is left)."""
        out = self.top_out if self.top_out is not None else t
        return max(0.0, min(out, t) - self.top_in)

    def phase_at(self, t: float) -> Phase:
        if self.top_out is not None and t >= self.top_out:
            return Phase.DOWN
        return Phase.HOLD if t >= self.top_in else Phase.UP


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
        self.state = Phase.READY
        self._rest: deque[Sample] = deque()
        self._rep: list[Sample] = []
        self._start_level = 0.0
        self._peak = -math.inf
        self._last_t: float | None = None
        self._low_since: float | None = None
        self._falling = False
        #: The lowest sample since the rep began to fall, and its index in ``_rep``.
        self._valley: Sample | None = None
        self._valley_i = 0
        self._level = RollingQuantile(self.params.rest_window_s, 0.25)
        self._times: PhaseTimes | None = None

    @property
    def in_rep(self) -> bool:
        return self.state is not Phase.READY

    @property
    def start_level(self) -> float:
        return self._start_level

    @property
    def hold_s(self) -> float:
        """The live hold timer (0 outside a rep)."""
        if not self.in_rep or self._times is None or self._last_t is None:
            return 0.0
        return self._times.hold_at(self._last_t)

    def reset(self) -> None:
        self.state = Phase.READY
        self._rep.clear()
        self._rest.clear()
        self._level.clear()
        self._times = None
        self._falling = False

    def push(self, sample: Sample | None, t: float) -> RepEvent | None:
        """Feed one frame (None = no usable pose). Returns a rep when one completes."""
        p = self.params
        if sample is None or not math.isfinite(sample.opening):
            if self._last_t is not None and t - self._last_t > p.max_gap_s:
                self.reset()
            return None
        self._last_t = sample.t
        if self.state is Phase.READY:
            return self._in_rest(sample)
        self._rep.append(sample)
        if sample.t - self._rep[0].t > p.max_rep_s:
            self.reset()
            return None
        if sample.opening > self._peak:
            self._peak = sample.opening
            self._falling = False
        amp = self._peak - self._start_level
        if not self._falling and sample.opening < self._peak - max(p.top_margin_deg, p.top_fraction * amp) - 0.5:
            self._falling = True
            self._valley = None
        self._update_phase(sample.t)
        if self._falling:
            end_level = self._start_level + max(p.end_margin_deg, p.end_fraction * amp)
            low_level = self._start_level + p.settle_fraction * amp
            if self._valley is None or sample.opening <= self._valley.opening:
                self._valley, self._valley_i = sample, len(self._rep) - 1
            elif self._valley.opening <= low_level and sample.opening >= self._valley.opening + p.start_deg:
                # Down most of the way and rising again before it settled: the next rep began
                # at the valley (the knee often stops a degree or two short of its rest).
                return self._split_at_valley()
            if sample.opening > low_level:
                self._low_since = None
            elif self._low_since is None:
                self._low_since = sample.t
            settled = self._low_since is not None and sample.t - self._low_since >= p.settle_s
            if sample.opening <= end_level or settled or self._stopped_low(sample.t, amp):
                return self._finish()
        return None

    def _stopped_low(self, now: float, amp: float) -> bool:
        """Below ``still_settle_fraction`` of the rep and still, for the last settle_s."""
        p = self.params
        since = now - p.settle_s
        if self._rep[0].t > since - 1e-9:
            return False
        top, low = -math.inf, math.inf
        for s in reversed(self._rep):
            if s.t < since - 1e-9:
                break
            top, low = max(top, s.opening), min(low, s.opening)
        still = top - low <= max(p.top_margin_deg, p.still_fraction * amp)
        return still and top <= self._start_level + p.still_settle_fraction * amp

    def _update_phase(self, now: float) -> None:
        t = np.fromiter((x.t for x in self._rep), float, len(self._rep))
        v = np.fromiter((x.opening for x in self._rep), float, len(self._rep)) - self._start_level
        times = phase_times(t, v, int(np.argmax(v)), float(v.max()))
        if times is not None:
            self._times = times
        if self._times is None:
            self.state = Phase.UP
        else:
            self.state = self._times.phase_at(now)

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
            self._falling = False
            self._times = None
            self._update_phase(s.t)
        return None

    def _split_at_valley(self) -> RepEvent | None:
        """End the rep at its valley and start the next one there, rising from it."""
        assert self._valley is not None
        valley, rising = self._valley, self._rep[self._valley_i:]
        self._rep = self._rep[: self._valley_i + 1]
        rest_before = tuple(self._rest)
        event = self._finish()
        if event is not None:
            # No rest between them: the next rep stands against the same rest's jitter.
            self._rest = deque(rest_before)
        self._start_level = valley.opening
        self._rep = list(rising)
        self._peak = max(s.opening for s in rising)
        self._low_since = None
        self._falling = False
        self._valley = None
        self._times = None
        self._update_phase(rising[-1].t)
        return event

    def _finish(self) -> RepEvent | None:
        p = self.params
        samples = self._rep
        rest = tuple(self._rest)
        self.state = Phase.READY
        self._rep = []
        self._times = None
        amp = self._peak - self._start_level
        if amp < max(p.min_rep_deg, p.noise_factor * _jitter(rest)):
            # Not a rep: it was rest all along, and counts toward the rest's level and jitter.
            for r in samples:
                if not self._rest or r.t > self._rest[-1].t:
                    self._rest.append(r)
            return None
        self._rest.clear()
        self._level.clear()
        for r in samples[-1:]:
            self._rest.append(r)
        t = np.array([x.t for x in samples])
        v = np.array([x.opening for x in samples]) - self._start_level
        k_peak = int(np.argmax(v))
        times = phase_times(t, v, k_peak, amp, final=True)
        if times is None or times.end is None or times.top_out is None or times.down_s is None:
            return None
        if times.end - times.start < p.min_rep_s:
            return None
        keep = (t >= times.start - 1e-9) & (t <= times.end + 1e-9)
        kept = tuple(s for s, k in zip(samples, keep) if k) or tuple(samples)
        return RepEvent(
            start_s=times.start, peak_s=float(t[k_peak]), end_s=times.end,
            start_level=self._start_level, peak_opening=self._peak,
            up_s=times.up_s, hold_s=times.hold_at(times.end), down_s=times.down_s,
            samples=kept, rest_samples=rest,
        )


def _jitter(rest: tuple[Sample, ...]) -> float:
    """How much the opening wanders at rest: the robust spread (MAD, as an SD) of the rest
    before the rep (smoothing turns jitter into slow wander, so values, not differences)."""
    v = np.array([s.opening for s in rest], float)
    v = v[np.isfinite(v)]
    if len(v) < 8:
        return UNSEEN_JITTER_DEG
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


#: Before enough rest has been seen to measure it (right after the setup): the jitter assumed,
#: BlazePose's at rest on the tuning clips' raised views (degrees of opening).
UNSEEN_JITTER_DEG = 0.9


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


def phase_times(t: np.ndarray, v: np.ndarray, k_peak: int, amp: float, *, final: bool = False) -> PhaseTimes | None:
    """A rep's timing from its samples so far (``v`` relative to the start level), from the
    10%/90% crossings of the amplitude so far. None until the rise has crossed 90%. ``final``:
    the rep is over (a rep that settled above 10% ends at its last sample)."""
    if not amp > 0:
        return None
    lo, hi = 0.1 * amp, 0.9 * amp
    up10 = _crossing(t, v, lo, k_peak, -1, -1)
    up90 = _crossing(t, v, hi, 0, k_peak + 1, 1)
    up10 = float(t[0]) if up10 is None else up10      # the rise began before we looked
    if up90 is None:
        return None
    up = (up90 - up10) / _MJ_MID
    start = up10 - _MJ_TAIL * up
    top_in = start + up
    dn90 = _crossing(t, v, hi, len(v) - 1, k_peak - 1, -1) if k_peak < len(v) - 1 else None
    if dn90 is None or dn90 <= t[k_peak]:
        return PhaseTimes(start=start, top_in=top_in, top_out=None, end=None, up_s=up, down_s=None)
    dn10 = _crossing(t, v, lo, k_peak, len(v), 1)
    settled_high = dn10 is None and final
    if settled_high:
        dn10 = float(t[-1])
    if dn10 is None:
        # On the way down, not yet at 10%: the down time is taken as the up time so far.
        return PhaseTimes(start=start, top_in=top_in, top_out=max(top_in, dn90 - _MJ_TAIL * up),
                          end=None, up_s=up, down_s=None)
    down = (dn10 - dn90) / _MJ_MID
    # A rep that stopped above 10% ends where it stopped (the next may rise from there).
    end = dn10 if settled_high else dn10 + _MJ_TAIL * down
    return PhaseTimes(start=start, top_in=top_in, top_out=max(top_in, end - down), end=end,
                      up_s=up, down_s=down)
