"""Low-lag online smoothing (the One Euro filter), gap-aware.

The One Euro filter (Casiez et al., CHI 2012) lowers its cut-off when the signal is still and
raises it when it moves, so jitter is removed at rest without lagging real motion: what live
coaching needs. It works on arrays of any shape; NaN entries stay NaN and a gap longer than
``reset_after_s`` restarts the filter, so values never bleed across a gap.
"""

from __future__ import annotations

import bisect
import math
from collections import deque

import numpy as np


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    def __init__(
        self,
        *,
        min_cutoff_hz: float = 1.2,
        beta: float = 0.3,
        d_cutoff_hz: float = 1.0,
        reset_after_s: float = 0.5,
    ) -> None:
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self.reset_after_s = reset_after_s
        self._t: float | None = None
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None

    def reset(self) -> None:
        self._t = self._x = self._dx = None

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self._x is not None and self._t is not None and t == self._t:
            return self._x.copy()  # a repeated timestamp: nothing new to filter
        if self._x is None or self._t is None or t - self._t > self.reset_after_s or t < self._t:
            # First value, a long gap, or time went backwards: start afresh, never freeze.
            self._t, self._x, self._dx = t, x.copy(), np.zeros_like(x)
            return x.copy()
        dt = t - self._t
        prev = np.where(np.isnan(self._x), x, self._x)  # a value reappearing starts fresh
        dx = (x - prev) / dt
        a_d = _alpha(self.d_cutoff_hz, dt)
        dx_hat = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff_hz + self.beta * np.abs(dx_hat)
        tau = 1.0 / (2.0 * math.pi * cutoff)
        a = 1.0 / (1.0 + tau / dt)
        out = a * x + (1 - a) * prev
        self._t, self._x, self._dx = t, out, dx_hat
        return out.copy()


class RollingQuantile:
    """A quantile of the values seen in the last ``window_s`` seconds, online.

    Keeps the window sorted (bisect), so each frame costs a few microseconds instead of a
    full percentile computation; NaN values are skipped.
    """

    def __init__(self, window_s: float, q: float) -> None:
        self.window_s = window_s
        self.q = q
        self._times: deque[tuple[float, float]] = deque()
        self._sorted: list[float] = []

    def push(self, t: float, value: float) -> float:
        """Add ``value`` at time ``t``; return the window's quantile (``value`` if empty)."""
        if math.isfinite(value):
            self._times.append((t, value))
            bisect.insort(self._sorted, value)
        while self._times and self._times[0][0] < t - self.window_s:
            _, old = self._times.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        if not self._sorted:
            return value
        return self._sorted[int(self.q * (len(self._sorted) - 1))]

    def clear(self) -> None:
        self._times.clear()
        self._sorted.clear()
