"""The pose-estimator contract every backend implements, and the registry that picks one.

A backend turns one RGB frame and its time into :class:`clamcoach.types.PoseFrame` s. It
keeps its own tracking state between calls (frames must come in time order) and must open
no network connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np

from clamcoach.errors import UsageError
from clamcoach.types import PoseFrame


@runtime_checkable
class PoseEstimator(Protocol):
    """One pose backend. Use as a context manager, or call :meth:`close`."""

    name: str

    def estimate(self, rgb: np.ndarray, t: float) -> PoseFrame | None:
        """The most confident person in ``rgb`` ((H, W, 3) uint8) at time ``t`` s, or None."""
        ...

    def estimate_all(self, rgb: np.ndarray, t: float) -> list[PoseFrame]:
        """Every person found (up to the backend's ``num_poses``), most confident first."""
        ...

    def close(self) -> None: ...

    # A backend that subclasses this protocol inherits these two; one that only matches it
    # structurally writes its own.
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


EstimatorFactory = Callable[..., PoseEstimator]
_REGISTRY: dict[str, EstimatorFactory] = {}


def register_backend(name: str, factory: EstimatorFactory) -> None:
    """Make ``factory(num_poses=..., **options)`` available as ``open_estimator(name)``."""
    _REGISTRY[name] = factory


def available_backends() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


#: Interpreter threads of one estimator alone on this machine: 96 -> 105 frames/s from one
#: thread to two on the 2-core bench machine. Where several estimators share the cores (a
#: batch, segments of a long video) each gets its share (``threads=``), as more threads than
#: cores make every one of them slower (two 2-thread estimators: 86 frames/s each).
DEFAULT_THREADS = 2


def open_estimator(name: str = "blazepose", *, num_poses: int = 1, **options: Any) -> PoseEstimator:
    """Open the pose backend called ``name`` (see :func:`available_backends`)."""
    factory = _REGISTRY.get(name)
    if factory is None:
        raise UsageError(
            f"unknown pose backend {name!r}; available: {', '.join(available_backends())}"
        )
    if num_poses < 1:
        raise UsageError(f"num_poses must be at least 1, got {num_poses}")
    return factory(num_poses=num_poses, **options)


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Return ``rgb`` as a C-contiguous (H, W, 3) uint8 array, or raise ValueError."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", type(rgb).__name__)
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got shape {shape} dtype {dtype}")
    return np.ascontiguousarray(rgb)
