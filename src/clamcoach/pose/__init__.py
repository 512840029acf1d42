"""Pose estimation: one small protocol, backends chosen by name, model files installed once.

    with open_estimator("litert", model="heavy") as estimator:
        pose = estimator.estimate(rgb, t)      # PoseFrame | None

Backends:

- ``litert``: BlazePose's networks run with LiteRT and the graph written here (the default;
  ``model="lite" | "full" | "heavy"``, default full);
- ``mediapipe``: the same networks through MediaPipe's Tasks API (``clamcoach[mediapipe]``),
  kept for comparison;
- ``blazepose``: the default backend; ``blazepose-lite``, ``blazepose-full``,
  ``blazepose-heavy``: the default backend with that model.

Importing this package loads no model, no LiteRT and no mediapipe; opening an estimator does.
"""

from __future__ import annotations

from typing import Any

from clamcoach.pose.base import (
    PoseEstimator,
    available_backends,
    open_estimator,
    register_backend,
)
from clamcoach.pose.models import VARIANTS

#: What "blazepose" means. LiteRT matched MediaPipe's landmarks and was faster (make bench).
DEFAULT_BACKEND = "litert"


def _open_litert(**options: Any) -> PoseEstimator:
    from clamcoach.pose.litert import LiteRTPoseEstimator  # LiteRT loads only when used

    return LiteRTPoseEstimator(**options)


def _open_mediapipe(**options: Any) -> PoseEstimator:
    from clamcoach.pose.blazepose import BlazePoseEstimator  # mediapipe loads only when used

    if "model" in options:
        options["variant"] = options.pop("model")
    options.pop("threads", None)  # MediaPipe's Tasks API picks its own threads
    return BlazePoseEstimator(**options)


_OPENERS = {"litert": _open_litert, "mediapipe": _open_mediapipe}


def _with_model(opener: Any, variant: str) -> Any:
    def open_variant(**options: Any) -> PoseEstimator:
        return opener(**{"model": variant, **options})

    return open_variant


register_backend("litert", _open_litert)
register_backend("mediapipe", _open_mediapipe)
register_backend("blazepose", _OPENERS[DEFAULT_BACKEND])
for _variant in VARIANTS:
    register_backend(f"blazepose-{_variant}", _with_model(_OPENERS[DEFAULT_BACKEND], _variant))

__all__ = ["DEFAULT_BACKEND", "PoseEstimator", "available_backends", "open_estimator", "register_backend"]
