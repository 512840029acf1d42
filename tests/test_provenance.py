"""Provenance: every report names the program, the protocol and its hash, the measurement
model with its parameters and priors, and the SHA-256 of the pose model files actually loaded."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.batch import index as batch_index
from clamcoach.measure import MODEL_VERSION
from clamcoach.measure.profiles import BLAZEPOSE, JOINT_CENTRES
from clamcoach.measure.stage import MeasureParams, MeasureStage
from clamcoach.pose import models
from clamcoach.protocol import load_protocol
from clamcoach.provenance import (
    PROGRAM,
    measurement_provenance,
    pose_provenance,
    profile_provenance,
    protocol_hash,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- the measurement model ------------------------------------------------------------------


def test_the_measurement_records_every_parameter_it_ran_with():
    params = MeasureParams(settle_s=1.25, lost_s=2.5, still_rel=0.03)
    got = measurement_provenance(MeasureStage(params, profile=JOINT_CENTRES))
    assert got["model"] == MODEL_VERSION and got["landmarks"] == "joint-centres"
    assert got["params"] == dataclasses.asdict(params)
    assert got["params"]["settle_s"] == 1.25 and got["params"]["lost_s"] == 2.5
    assert set(got["params"]) == {f.name for f in dataclasses.fields(MeasureParams)}
    assert got["profile"] == profile_provenance(JOINT_CENTRES)
    assert got["calibrations"] == 0 and got["focal_px"] is None  # nothing fitted yet


def test_a_profile_is_recorded_with_its_priors_in_degrees_and_its_biases():
    got = profile_provenance(BLAZEPOSE)
    assert got["name"] == "blazepose"
    assert list(got["priors"]) == list(BLAZEPOSE.priors)
    assert got["priors"]["thigh"] == [0.41, 0.05]                 # metres as they are
    assert got["priors"]["hip_flexion"] == [40.0, 15.0]          # radians shown in degrees
    assert got["priors"]["trunk_twist0"] == [-4.0, 7.0]
    assert got["ratios"][0] == ["shin", 1.01, 0.06]
    assert got["biases_deg"] == {"hip_line_roll": 13.2, "shoulder_line_roll": 16.9, "roll_sd": 8.2,
                                 "hip_flexion": 6.5, "knee_flexion": 4.1, "flexion_sd": 5.7}
    assert got["setup_noise_rel"]["shoulder"] == 0.04
    assert profile_provenance(JOINT_CENTRES)["priors"]["roll0"] == [8.0, 15.0]
    json.dumps(got, allow_nan=False)  # plain JSON


# ---- the pose model's files -----------------------------------------------------------------


class Stub:
    """An estimator as provenance sees it: a name and, for BlazePose, a variant."""

    def __init__(self, name: str, variant: str | None = None, backend: str | None = None) -> None:
        self.name = name
        if variant is not None:
            self.variant = variant
        if backend is not None:
            self.backend = backend


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model folder whose files are not the pinned ones: a report must name what is there."""
    monkeypatch.setenv("CLAMCOACH_MODEL_DIR", str(tmp_path))
    models.detector_file().write_bytes(b"a detector")
    for variant in models.VARIANTS:
        models.landmark_file(variant).write_bytes(f"landmarks {variant}".encode())
    (tmp_path / "pose_landmarker_full.task").write_bytes(b"a bundle")
    return tmp_path


def test_litert_records_the_hashes_of_the_files_on_disk_not_the_pinned_ones(model_dir: Path):
    got = pose_provenance(Stub("litert", "lite"))
    assert got == {"backend": "litert", "variant": "lite", "detector_sha256": sha(b"a detector"),
                   "landmarks_sha256": sha(b"landmarks lite")}


def test_segments_name_the_backend_and_files_their_workers_load(model_dir: Path):
    assert pose_provenance(Stub("segments", backend="blazepose-heavy")) == {
        "backend": "litert", "segmented": True, "variant": "heavy",
        "detector_sha256": sha(b"a detector"), "landmarks_sha256": sha(b"landmarks heavy")}
    assert pose_provenance(Stub("segments", backend="blazepose"))["landmarks_sha256"] == sha(b"landmarks full")
    assert pose_provenance(Stub("segments", backend="mediapipe")) == {
        "backend": "mediapipe", "segmented": True, "variant": "full", "bundle_sha256": sha(b"a bundle")}


def test_mediapipe_records_the_bundle_it_loads(model_dir: Path):
    assert pose_provenance(Stub("mediapipe", "full")) == {
        "backend": "mediapipe", "variant": "full", "bundle_sha256": sha(b"a bundle")}


def test_a_file_gone_since_it_was_loaded_is_null_and_an_unknown_backend_only_named(model_dir: Path):
    models.landmark_file("full").unlink()
    got = pose_provenance(Stub("litert", "full"))
    assert got["landmarks_sha256"] is None and got["detector_sha256"] == sha(b"a detector")
    assert pose_provenance(Stub("replay")) == {"backend": "replay"}
    assert pose_provenance(Stub("segments", backend="replay")) == {"backend": "replay", "segmented": True}


def test_a_file_is_hashed_once_per_process_and_again_once_replaced(tmp_path: Path):
    path = tmp_path / "m.tflite"
    path.write_bytes(b"first")
    before = models._sha256_of.cache_info()
    assert models.file_sha256(path) == sha(b"first")
    assert models.file_sha256(path) == sha(b"first")
    assert models.file_problem(path, sha(b"first")) is None  # the load-time check shares it
    after = models._sha256_of.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)
    replacement = tmp_path / "new"
    replacement.write_bytes(b"second, longer")
    os.replace(replacement, path)  # as an install writes it
    assert models.file_sha256(path) == sha(b"second, longer")
    assert models.file_problem(path, sha(b"first")) == "is damaged (unexpected checksum)"


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=4096))
def test_file_sha256_is_the_sha256_of_the_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes):
    path = tmp_path_factory.mktemp("h") / "f"
    path.write_bytes(data)
    assert models.file_sha256(path) == sha(data)


# ---- the program and the protocol -----------------------------------------------------------


def test_the_batch_keys_results_with_the_reports_program_and_protocol_hash():
    proto = load_protocol(overrides=["roll_back.error_deg=12"])
    assert batch_index.protocol_sha256(proto) == protocol_hash(proto)
    assert batch_index.PROGRAM_VERSION == PROGRAM
    # One canonical text: sorted keys, no spaces; a changed value changes it.
    text = json.dumps(proto.raw, sort_keys=True, separators=(",", ":"), default=str)
    assert protocol_hash(proto) == sha(text.encode())
    assert protocol_hash(load_protocol()) != protocol_hash(proto)


def test_the_engines_report_carries_the_whole_provenance():
    from tests.test_engine import run

    a, _ = run(n_reps=1)
    prov = json.loads(json.dumps(a.to_dict({"path": "x.mp4"})))["provenance"]
    assert prov["program"] == PROGRAM and prov["protocol_sha256"] == protocol_hash(a.protocol)
    m = prov["measurement"]
    assert m["params"] == dataclasses.asdict(MeasureParams())
    assert m["profile"]["name"] == m["landmarks"]
    assert m["calibrations"] >= 1 and math.isfinite(m["focal_px"])
