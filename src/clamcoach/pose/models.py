"""BlazePose model files: taken from registry packages once, cached, never fetched at run time.

``python -m clamcoach.pose.models install [--variant full|lite|heavy]`` builds a MediaPipe
Tasks ``.task`` bundle (a zip, stored not deflated, holding ``pose_detector.tflite`` and
``pose_landmarks_detector.tflite``) in the model folder: ``$CLAMCOACH_MODEL_DIR``, else
``$XDG_CACHE_HOME/clamcoach/models``, else ``~/.cache/clamcoach/models``.

Sources (both Apache-2.0, checked against the SHA-256 sums below):
- PyPI ``mediapipe==0.10.21`` ships the detector and the *full* landmark model;
- npm ``@mediapipe/pose@0.5.1675469404`` ships the *lite* and *heavy* landmark models
  (optional; needs the ``npm`` client). The detector always comes from the wheel.

The legacy files carry no TFLite metadata, so the input normalisation the Tasks API
requires is added here (see ``_tflite_metadata``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from clamcoach.errors import ModelMissing
from clamcoach.io.atomic import atomic_path

VARIANTS: tuple[str, ...] = ("full", "lite", "heavy")
DEFAULT_VARIANT = "full"

MEDIAPIPE_WHEEL_SPEC = "mediapipe==0.10.21"
NPM_POSE_SPEC = "@mediapipe/pose@0.5.1675469404"
SETUP_HINT = "run `make setup` (or `python -m clamcoach.pose.models install`)"

DETECTOR_MEMBER = "pose_detector.tflite"
LANDMARKS_MEMBER = "pose_landmarks_detector.tflite"


@dataclass(frozen=True)
class _Source:
    archive: str  # "wheel" or "npm"
    member: str  # path inside the archive
    sha256: str


_DETECTOR = _Source(
    "wheel",
    "mediapipe/modules/pose_detection/pose_detection.tflite",
    "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
)
_LANDMARKS = {
    "full": _Source(
        "wheel",
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
    "lite": _Source(
        "npm",
        "package/pose_landmark_lite.tflite",
        "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    ),
    "heavy": _Source(
        "npm",
        "package/pose_landmark_heavy.tflite",
        "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
    ),
}

# Input normalisation, (pixel - mean) / std: detector sees [-1, 1], landmark model [0, 1].
_DETECTOR_NORM = (127.5, 127.5)
_LANDMARKS_NORM = (0.0, 255.0)


def model_dir() -> Path:
    """The folder that holds the installed ``.task`` bundles."""
    explicit = os.environ.get("CLAMCOACH_MODEL_DIR")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "clamcoach" / "models"


def bundle_file(variant: str = DEFAULT_VARIANT, *, directory: Path | None = None) -> Path:
    """Where the bundle for ``variant`` lives (whether or not it is installed)."""
    _check_variant(variant)
    return (directory or model_dir()) / f"pose_landmarker_{variant}.task"


def bundle_path(variant: str = DEFAULT_VARIANT, *, directory: Path | None = None) -> Path:
    """The installed bundle for ``variant``; raises :class:`ModelMissing` with a hint if absent."""
    path = bundle_file(variant, directory=directory)
    if not path.is_file():
        raise ModelMissing(f"pose model '{variant}' is not installed at {path}: {SETUP_HINT}")
    problem = bundle_problem(path)
    if problem:
        raise ModelMissing(f"pose model at {path} is unusable ({problem}): {SETUP_HINT}")
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


def install(
    variant: str = DEFAULT_VARIANT,
    *,
    directory: Path | None = None,
    wheel: Path | None = None,
    npm_tarball: Path | None = None,
    force: bool = False,
) -> Path:
    """Build the bundle for ``variant`` unless a valid one is already there; return its path.

    ``wheel`` / ``npm_tarball`` use already-downloaded packages instead of asking the registry.
    """
    dest = bundle_file(variant, directory=directory)
    if not force and dest.is_file() and bundle_problem(dest) is None:
        return dest
    from clamcoach.pose._tflite_metadata import with_image_normalization

    landmarks_source = _LANDMARKS[variant]
    with tempfile.TemporaryDirectory(prefix="clamcoach-models-") as tmp:
        archives = {"wheel": wheel or _pip_download(Path(tmp))}
        if landmarks_source.archive == "npm":
            archives["npm"] = npm_tarball or _npm_pack(Path(tmp))
        detector = _read_verified(archives, _DETECTOR)
        landmarks = _read_verified(archives, landmarks_source)
    members = {
        DETECTOR_MEMBER: with_image_normalization(
            detector, mean=_DETECTOR_NORM[0], std=_DETECTOR_NORM[1], name="pose_detector"
        ),
        LANDMARKS_MEMBER: with_image_normalization(
            landmarks, mean=_LANDMARKS_NORM[0], std=_LANDMARKS_NORM[1],
            name=f"pose_landmarks_detector_{variant}",
        ),
    }
    with atomic_path(dest) as tmp_path:
        _write_bundle(tmp_path, members)
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


def _read_verified(archives: dict[str, Path], source: _Source) -> bytes:
    archive = archives[source.archive]
    try:
        if source.archive == "wheel":
            with zipfile.ZipFile(archive) as zf:
                data = zf.read(source.member)
        else:
            with tarfile.open(archive) as tf:
                member = tf.extractfile(source.member)
                if member is None:
                    raise KeyError(source.member)
                data = member.read()
    except (OSError, KeyError, zipfile.BadZipFile, tarfile.TarError) as err:
        raise ModelMissing(f"cannot read {source.member} from {archive}: {err}") from err
    digest = hashlib.sha256(data).hexdigest()
    if digest != source.sha256:
        raise ModelMissing(
            f"{source.member} in {archive.name} has SHA-256 {digest[:12]}..., "
            f"expected {source.sha256[:12]}...; refusing an unknown model file"
        )
    return data


def _pip_download(into: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--only-binary=:all:", "--python-version", "3.11",
        "--platform", "manylinux_2_28_x86_64", MEDIAPIPE_WHEEL_SPEC, "-d", str(into),
    ]
    _run(cmd, what=f"pip download {MEDIAPIPE_WHEEL_SPEC}")
    wheels = sorted(into.glob("mediapipe-0.10.21-*.whl"))
    if not wheels:
        raise ModelMissing(f"pip download {MEDIAPIPE_WHEEL_SPEC} produced no wheel")
    return wheels[0]


def _npm_pack(into: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise ModelMissing(
            f"the lite and heavy models come from npm {NPM_POSE_SPEC}, and `npm` is not "
            "installed; install Node.js/npm or use the default 'full' model"
        )
    _run([npm, "pack", "--silent", NPM_POSE_SPEC], what=f"npm pack {NPM_POSE_SPEC}", cwd=into)
    tarballs = sorted(into.glob("mediapipe-pose-*.tgz"))
    if not tarballs:
        raise ModelMissing(f"npm pack {NPM_POSE_SPEC} produced no tarball")
    return tarballs[0]


def _run(cmd: list[str], *, what: str, cwd: Path | None = None) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ModelMissing(f"{what} failed: {err}") from err
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelMissing(f"{what} failed (exit {proc.returncode}): {last}")


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"unknown pose model variant {variant!r}; choose from {VARIANTS}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clamcoach.pose.models", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    inst = sub.add_parser("install", help="build the model bundle(s) if not already there")
    inst.add_argument("--variant", choices=VARIANTS, action="append",
                      help=f"model variant (repeatable; default {DEFAULT_VARIANT})")
    inst.add_argument("--dir", type=Path, help="model folder (default: see above)")
    inst.add_argument("--wheel", type=Path, help=f"an already downloaded {MEDIAPIPE_WHEEL_SPEC} wheel")
    inst.add_argument("--npm-tarball", type=Path, help=f"an already packed {NPM_POSE_SPEC} tarball")
    inst.add_argument("--force", action="store_true", help="rebuild even if a valid bundle exists")
    sub.add_parser("path", help="print the installed bundle's path (exit 8 if missing)")
    args = parser.parse_args(argv)

    try:
        if args.command == "path":
            print(bundle_path())
            return 0
        for variant in args.variant or [DEFAULT_VARIANT]:
            path = install(variant, directory=args.dir, wheel=args.wheel,
                           npm_tarball=args.npm_tarball, force=args.force)
            print(f"pose model '{variant}': {path}")
    except ModelMissing as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
