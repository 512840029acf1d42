"""What produced an analysis: the program, the protocol's exact values, the measurement model
with its parameters and priors, and the pose model's files, recorded in every report
(``provenance``) so a result can be traced back."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from typing import TYPE_CHECKING, Any

from clamcoach import __version__
from clamcoach.jsonio import rounded
from clamcoach.protocol import Protocol

if TYPE_CHECKING:
    from clamcoach.measure.profiles import LandmarkProfile
    from clamcoach.measure.stage import MeasureStage
    from clamcoach.pose import PoseEstimator

#: The program that wrote a report, as reports and the batch's resume index name it.
PROGRAM = f"clamcoach {__version__}"

#: Pose backends whose model files this module knows how to find (the registry's runners).
_RUNNERS = ("litert", "mediapipe")


def protocol_hash(protocol: Protocol) -> str:
    """SHA-256 of the protocol's values (sorted keys), so a report names the exact thresholds."""
    text = json.dumps(protocol.raw, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def measurement_provenance(stage: MeasureStage) -> dict:
    """The measurement model, its parameters, the landmark profile's priors and the setup it
    fitted."""
    from clamcoach.measure import MODEL_VERSION
    from clamcoach.measure.lifting import weights_id
    from clamcoach.measure.stage import OpeningReading, RollReading

    s = stage.setup
    return {
        "model": MODEL_VERSION,
        "landmarks": stage.profile.name,
        "params": dataclasses.asdict(stage.params),
        "profile": profile_provenance(stage.profile),
        "noise_rel": dict(stage.noise_rel),
        "calibrations": stage.calibrations,
        "focal_px": rounded(s.camera.fx, 2) if s else None,
        "setup_rms_rel": rounded(s.rms_rel, 4) if s else None,
        "lifting_network": weights_id() if (stage.params.roll_reading is RollReading.NETWORK
                                            or stage.params.opening_reading is OpeningReading.FUSED) else None,
    }


def profile_provenance(profile: LandmarkProfile) -> dict[str, Any]:
    """A landmark profile's priors and biases, compactly: each body parameter as
    ``[mean, sd]`` (metres; angles in degrees), each ratio as ``[length, ratio, sd]``."""
    angles = {"roll0", "trunk_twist0", "hip_flexion", "knee_flexion", "thigh_drop"}

    def prior(name: str, value: float) -> float:
        return round(math.degrees(value), 3) if name in angles else round(value, 5)

    return {
        "name": profile.name,
        "priors": {name: [prior(name, p.mean), prior(name, p.sd)] for name, p in profile.priors.items()},
        "ratios": [[length, ratio, sd] for length, ratio, sd in profile.ratios],
        "biases_deg": {
            "hip_line_roll": profile.hip_line_roll_bias_deg,
            "shoulder_line_roll": profile.shoulder_line_roll_bias_deg,
            "roll_sd": profile.roll_bias_sd_deg,
            "hip_flexion": profile.hip_flexion_bias_deg,
            "knee_flexion": profile.knee_flexion_bias_deg,
            "flexion_sd": profile.flexion_sd_deg,
        },
        "setup_noise_rel": dict(profile.setup_noise_rel),
    }


def pose_provenance(estimator: PoseEstimator) -> dict:
    """The pose model behind an analysis: the backend that ran it, the variant and the SHA-256
    of the model files as loaded (LiteRT: the two ``.tflite`` networks; MediaPipe: the ``.task``
    bundle). A file's hash is null when it can no longer be read; a backend of unknown files
    (a test's replay) records only its name."""
    from clamcoach.pose import models

    backend = getattr(estimator, "name", type(estimator).__name__)
    variant = getattr(estimator, "variant", None)
    out: dict[str, Any] = {"backend": backend}
    inner = getattr(estimator, "backend", None)
    if backend == "segments" and isinstance(inner, str):
        # Segments run the registry's backend ``inner`` in worker processes, opened with its
        # default model: name the runner and the files those workers load.
        backend, variant = _registry_runner(inner)
        out = {"backend": backend, "segmented": True}
    if backend not in _RUNNERS or variant not in models.VARIANTS:
        return out
    if backend == "mediapipe":
        from clamcoach.pose import bundle

        return {**out, "variant": variant, "bundle_sha256": models.readable_sha256(bundle.bundle_file(variant))}
    return {**out, **models.provenance(variant)}


def _registry_runner(name: str) -> tuple[str, str]:
    """The backend and variant ``open_estimator(name)`` opens (see :mod:`clamcoach.pose`):
    ``blazepose`` is the default backend, ``blazepose-<variant>`` it with that model."""
    from clamcoach.pose import DEFAULT_BACKEND
    from clamcoach.pose.models import DEFAULT_VARIANT

    base, _, variant = name.partition("-")
    return (DEFAULT_BACKEND if base == "blazepose" else base), (variant or DEFAULT_VARIANT)


__all__ = ["PROGRAM", "protocol_hash", "measurement_provenance", "profile_provenance", "pose_provenance"]
