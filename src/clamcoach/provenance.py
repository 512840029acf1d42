"""What produced an analysis: the protocol's exact values, the measurement model and the pose
model's files, recorded in every report (``provenance``) so a result can be traced back."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from clamcoach.jsonio import rounded
from clamcoach.protocol import Protocol

if TYPE_CHECKING:
    from clamcoach.measure.stage import MeasureStage
    from clamcoach.pose import PoseEstimator


def protocol_hash(protocol: Protocol) -> str:
    """SHA-256 of the protocol's values (sorted keys), so a report names the exact thresholds."""
    text = json.dumps(protocol.raw, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def measurement_provenance(stage: MeasureStage) -> dict:
    """The measurement model, its parameters and the setup it fitted."""
    from clamcoach.measure import MODEL_VERSION

    s = stage.setup
    return {
        "model": MODEL_VERSION,
        "landmarks": stage.profile.name,
        "noise_rel": dict(stage.noise_rel),
        "calibrations": stage.calibrations,
        "focal_px": rounded(s.camera.fx, 2) if s else None,
        "setup_rms_rel": rounded(s.rms_rel, 4) if s else None,
    }


def pose_provenance(estimator: PoseEstimator) -> dict:
    """The pose model behind an analysis: backend, variant and its files' SHA-256."""
    from clamcoach.pose import models

    out = {"backend": getattr(estimator, "name", type(estimator).__name__)}
    variant = getattr(estimator, "variant", None)
    if variant in models.VARIANTS:
        out.update(models.provenance(variant))
    return out


__all__ = ["protocol_hash", "measurement_provenance", "pose_provenance"]
