"""Low-lag online smoothing (the One Euro filter), gap-aware.

The One Euro filter (Casiez et al., CHI 2012) lowers its cut-off when the signal is still and
raises it when it moves, so jitter is removed at rest without lagging real motion: what live
coaching needs. It works on arrays of any shape; NaN entries stay NaN and a gap longer than
``reset_after_s`` restarts the filter, so values never bleed across a gap.
"""

from __future__ import annotations

import math

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
        if self._x is None or self._t is None or t - self._t > self.reset_after_s or t <= self._t:
            if self._t is not None and t <= self._t and self._x is not None:
                return self._x.copy()  # a repeated timestamp: nothing new to filter
            self._t, self._x, self._dx = t, x.copy(), np.zeros_like(x)
            return x.copy()
        dt = t - self._t
        prev = np.where(np.isnan(self._x), x, self._x)  # a value reappearing starts fresh
        dx = (x - prev) / dt
        a_d = _alpha(self.d_cutoff_hz, dt)
        dx_hat = a_d * dx + (1 - a_d) * np.nan_to_num(self._dx)
        cutoff = self.min_cutoff_hz + self.beta * np.abs(dx_hat)
        tau = 1.0 / (2.0 * math.pi * cutoff)
        a = 1.0 / (1.0 + tau / dt)
        out = a * x + (1 - a) * prev
        self._t, self._x, self._dx = t, out, dx_hat
        return out.copy()
