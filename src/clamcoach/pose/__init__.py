"""Pose estimation: one small protocol, backends chosen by name, model files installed once.

    with open_estimator("blazepose", num_poses=1) as estimator:
        pose = estimator.estimate(rgb, t)      # PoseFrame | None

Importing this package loads no model and no mediapipe; opening an estimator does.
"""

from __future__ import annotations

from typing import Any

from clamcoach.pose.base import (
    PoseEstimator,
    available_backends,
    open_estimator,
    register_backend,
)


def _open_blazepose(**options: Any) -> PoseEstimator:
    from clamcoach.pose.blazepose import (
        BlazePoseEstimator,  # mediapipe loads only when used
    )

    return BlazePoseEstimator(**options)


register_backend("blazepose", _open_blazepose)

__all__ = ["PoseEstimator", "available_backends", "open_estimator", "register_backend"]
