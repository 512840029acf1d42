"""The MediaPipe Tasks ``.task`` bundle the MediaPipe backend needs, built from the installed
``.tflite`` files (see :mod:`clamcoach.pose.models`) the first time that backend opens.

A bundle is a zip, stored not deflated, holding ``pose_detector.tflite`` and
``pose_landmarks_detector.tflite``. The legacy files carry no TFLite metadata, so the input
normalisation the Tasks API requires is added here (see ``_tflite_metadata``). Needs the
``mediapipe`` extra.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from clamcoach.errors import ModelMissing
from clamcoach.io.atomic import atomic_path
from clamcoach.pose import models

DETECTOR_MEMBER = "pose_detector.tflite"
LANDMARKS_MEMBER = "pose_landmarks_detector.tflite"

# Input normalisation, (pixel - mean) / std: detector sees [-1, 1], landmark model [0, 1].
_DETECTOR_NORM = (127.5, 127.5)
_LANDMARKS_NORM = (0.0, 255.0)


def bundle_file(variant: str = models.DEFAULT_VARIANT, *, directory: Path | None = None) -> Path:
    """Where the bundle for ``variant`` lives (whether or not it is built)."""
    models.landmark_file(variant)  # checks the variant's name
    return (directory or models.model_dir()) / f"pose_landmarker_{variant}.task"


def bundle_path(variant: str = models.DEFAULT_VARIANT, *, directory: Path | None = None) -> Path:
    """The bundle for ``variant``, built from the installed model files if need be; raises
    :class:`ModelMissing` with a hint when the files are not installed."""
    path = bundle_file(variant, directory=directory)
    if path.is_file() and bundle_problem(path) is None:
        return path
    files = models.model_files(variant, directory=directory)
    build(files, path)
    return path


def bundle_problem(path: Path) -> str | None:
    """Why ``path`` is not a usable bundle, or None if it is."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {info.filename: info for info in zf.infolist()}
            for name in (DETECTOR_MEMBER, LANDMARKS_MEMBER):
                info = infos.get(name)
                if info is None:
                    return f"{name} missing"
                if info.compress_type != zipfile.ZIP_STORED:
                    return f"{name} is compressed"
                head = zf.open(info).read(8)
                if head[4:8] != b"TFL3":
                    return f"{name} is not a TFLite model"
            if zf.testzip() is not None:
                return "corrupt zip member"
    except (OSError, zipfile.BadZipFile) as err:
        return f"not a readable zip: {err}"
    return None


def build(files: models.ModelFiles, dest: Path) -> Path:
    from clamcoach.pose._tflite_metadata import with_image_normalization

    members = {
        DETECTOR_MEMBER: with_image_normalization(
            files.detector.read_bytes(), mean=_DETECTOR_NORM[0], std=_DETECTOR_NORM[1],
            name="pose_detector"),
        LANDMARKS_MEMBER: with_image_normalization(
            files.landmarks.read_bytes(), mean=_LANDMARKS_NORM[0], std=_LANDMARKS_NORM[1],
            name=f"pose_landmarks_detector_{files.variant}"),
    }
    try:
        with atomic_path(dest) as tmp_path:
            _write_bundle(tmp_path, members)
    except OSError as err:
        raise ModelMissing(f"cannot build the MediaPipe bundle {dest}: {err}") from err
    return dest


def _write_bundle(path: Path, members: dict[str, bytes]) -> None:
    # mediapipe's aligned zip (members 4-byte aligned so they can be mmapped); a fixed
    # timestamp makes the bundle byte-for-byte reproducible.
    from mediapipe.tasks.python.metadata.metadata_writers.model_asset_bundle_utils import (
        AlignZipFile,
    )

    with AlignZipFile(path, mode="w", alignment=4) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            zf.writestr(info, data)
