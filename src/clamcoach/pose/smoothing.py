"""The landmark smoothing MediaPipe's pose tracker applies in video mode, so the LiteRT backend
hands the engine the same kind of signal its calibration was fitted on.

- image landmarks: a One Euro filter per coordinate, its speed measured relative to the
  body's size (min cutoff 0.05 Hz, beta 80, derivative cutoff 1 Hz);
- world landmarks: the same filter with min cutoff 0.1 Hz, beta 40;
- visibility: a low-pass filter, alpha 0.1;
- the two auxiliary points the next frame's region comes from: min cutoff 0.01 Hz, beta 10,
  speed relative to the region's size (measured here: median distance to MediaPipe's landmarks
  1.43 -> 1.24 px on two tuning clips with it).
"""

from __future__ import annotations

import math

import numpy as np

_DEFAULT_HZ = 30.0


class OneEuroFilter:
    """A One Euro filter over an array of values (each filtered independently)."""

    def __init__(self, *, min_cutoff: float, beta: float, derivative_cutoff: float = 1.0) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivative_cutoff = derivative_cutoff
        self._last_t: float | None = None
        self._x: np.ndarray | None = None  # filtered value
        self._raw: np.ndarray | None = None  # last raw value
        self._dx: np.ndarray | None = None  # filtered derivative

    def reset(self) -> None:
        self._last_t = self._x = self._raw = self._dx = None

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, rate_hz: float) -> np.ndarray | float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau * rate_hz)

    def __call__(self, value: np.ndarray, t: float, *, value_scale: float = 1.0) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self._x is None or self._last_t is None or self._raw is None or self._dx is None:
            self._last_t, self._x, self._raw, self._dx = t, value.copy(), value.copy(), np.zeros_like(value)
            return value.copy()
        if t <= self._last_t:  # MediaPipe passes such a frame through unfiltered
            return value.copy()
        rate = 1.0 / (t - self._last_t) if t > self._last_t else _DEFAULT_HZ
        self._last_t = t
        dvalue = (value - self._raw) * value_scale * rate
        a_d = self._alpha(self.derivative_cutoff, rate)
        self._dx = a_d * dvalue + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = self._alpha(cutoff, rate)
        self._x = a * value + (1 - a) * self._x
        self._raw = value.copy()
        return self._x.copy()


class RoiSmoother:
    """Smooths the auxiliary points (hip centre, scale point) a tracked region follows."""

    def __init__(self) -> None:
        self._filter = OneEuroFilter(min_cutoff=0.01, beta=10.0)

    def __call__(self, points: np.ndarray, t: float, size: float) -> np.ndarray:
        return self._filter(points, t, value_scale=1.0 / size if size > 1e-6 else 1.0)


class PoseSmoother:
    """Smooths one tracked person's landmarks from frame to frame."""

    def __init__(self) -> None:
        self._image = OneEuroFilter(min_cutoff=0.05, beta=80.0)
        self._world = OneEuroFilter(min_cutoff=0.1, beta=40.0)
        self._visibility: np.ndarray | None = None

    def reset(self) -> None:
        self._image.reset()
        self._world.reset()
        self._visibility = None

    def __call__(self, image_xyz: np.ndarray, world: np.ndarray, visibility: np.ndarray,
                 t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xy = image_xyz[:, :2]
        # Speeds relative to the body's size: the same motion smooths alike near and far.
        size = float(np.mean(np.ptp(xy, axis=0)))
        scale = 1.0 / size if size > 1e-6 else 1.0
        image = self._image(image_xyz, t, value_scale=scale)
        world_out = self._world(world, t)
        if self._visibility is None:
            self._visibility = visibility.copy()
        else:
            self._visibility = 0.1 * visibility + 0.9 * self._visibility
        return image, world_out, self._visibility.copy()
