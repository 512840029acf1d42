"""BlazePose model files: taken from registry packages once, cached, never fetched at run time.

``clamcoach models install [--variant full|lite|heavy | --all]`` puts the detector and the
landmark model(s) in the model folder: ``$CLAMCOACH_MODEL_DIR``, else
``$XDG_CACHE_HOME/clamcoach/models``, else ``~/.cache/clamcoach/models``.

Sources (both Apache-2.0, checked against the SHA-256 sums below):
- PyPI ``mediapipe==0.10.21`` ships the detector and the *full* landmark model (the wheel is
  downloaded with ``pip download``, never installed);
- npm ``@mediapipe/pose@0.5.1675469404`` ships the *lite* and *heavy* landmark models
  (needs the ``npm`` client, or ``--npm-tarball``). The detector always comes from the wheel.

The LiteRT backend reads the ``.tflite`` files as they are; the MediaPipe backend needs a
Tasks ``.task`` bundle, built from them by :mod:`clamcoach.pose.bundle`.
"""

from __future__ import annotations

import argparse
import functools
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
from clamcoach.io.atomic import write_bytes_atomic

VARIANTS: tuple[str, ...] = ("full", "lite", "heavy")
DEFAULT_VARIANT = "full"

MEDIAPIPE_WHEEL_SPEC = "mediapipe==0.10.21"
NPM_POSE_SPEC = "@mediapipe/pose@0.5.1675469404"
SETUP_HINT = "run `clamcoach models install` (or `make setup`)"

DETECTOR_FILE = "pose_detection.tflite"


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


def model_dir() -> Path:
    """The folder that holds the installed model files."""
    explicit = os.environ.get("CLAMCOACH_MODEL_DIR")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "clamcoach" / "models"


def detector_file(*, directory: Path | None = None) -> Path:
    return (directory or model_dir()) / DETECTOR_FILE


def landmark_file(variant: str = DEFAULT_VARIANT, *, directory: Path | None = None) -> Path:
    """Where the landmark model for ``variant`` lives (whether or not it is installed)."""
    _check_variant(variant)
    return (directory or model_dir()) / f"pose_landmark_{variant}.tflite"


@dataclass(frozen=True)
class ModelFiles:
    """The two networks of one BlazePose variant."""

    variant: str
    detector: Path
    landmarks: Path


def provenance(variant: str = DEFAULT_VARIANT, *, directory: Path | None = None) -> dict[str, str | None]:
    """What a report records of the pose model: the variant and the SHA-256 of its files as
    they are on disk (the files the LiteRT backend loads; null for a file that cannot be read)."""
    _check_variant(variant)
    return {"variant": variant,
            "detector_sha256": readable_sha256(detector_file(directory=directory)),
            "landmarks_sha256": readable_sha256(landmark_file(variant, directory=directory))}


def file_sha256(path: Path) -> str:
    """SHA-256 of the file at ``path``. A model file is a few MB and is hashed when it is
    checked and again for every report, so each version of a file (its size, time and inode)
    is hashed once per process; raises OSError when it cannot be read."""
    st = path.stat()
    return _sha256_of(str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def readable_sha256(path: Path) -> str | None:
    """:func:`file_sha256`, or None when the file cannot be read."""
    try:
        return file_sha256(path)
    except OSError:
        return None


@functools.lru_cache(maxsize=32)
def _sha256_of(path: str, size: int, mtime_ns: int, inode: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def model_files(variant: str = DEFAULT_VARIANT, *, directory: Path | None = None) -> ModelFiles:
    """The installed files for ``variant``; raises :class:`ModelMissing` with a hint if absent
    or not the expected files."""
    files = ModelFiles(variant, detector_file(directory=directory),
                       landmark_file(variant, directory=directory))
    for path, source in ((files.detector, _DETECTOR), (files.landmarks, _LANDMARKS[variant])):
        problem = file_problem(path, source.sha256)
        if problem:
            extra = f" --variant {variant}" if variant != DEFAULT_VARIANT else ""
            raise ModelMissing(f"pose model '{variant}' {problem} ({path}): run "
                               f"`clamcoach models install{extra}`")
    return files


def file_problem(path: Path, sha256: str) -> str | None:
    """Why ``path`` is not the expected model file, or None if it is."""
    try:
        digest = file_sha256(path)
    except FileNotFoundError:
        return "is not installed"
    except OSError as err:
        return f"cannot be read: {err.strerror or err}"
    if digest != sha256:
        return "is damaged (unexpected checksum)"
    return None


def installed_variants(*, directory: Path | None = None) -> tuple[str, ...]:
    out = []
    for variant in VARIANTS:
        try:
            model_files(variant, directory=directory)
        except ModelMissing:
            continue
        out.append(variant)
    return tuple(out)


def install(
    variant: str = DEFAULT_VARIANT,
    *,
    directory: Path | None = None,
    wheel: Path | None = None,
    npm_tarball: Path | None = None,
    force: bool = False,
) -> ModelFiles:
    """Put the files for ``variant`` in the model folder unless valid ones are there.

    ``wheel`` / ``npm_tarball`` use already-downloaded packages instead of asking the registry.
    """
    _check_variant(variant)
    if not force:
        try:
            return model_files(variant, directory=directory)
        except ModelMissing:
            pass
    folder = directory or model_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelMissing(f"cannot create the model folder {folder}: {err.strerror or err}") from err
    wanted = [(detector_file(directory=folder), _DETECTOR),
              (landmark_file(variant, directory=folder), _LANDMARKS[variant])]
    missing = [(p, s) for p, s in wanted if force or file_problem(p, s.sha256)]
    with tempfile.TemporaryDirectory(prefix="clamcoach-models-") as tmp:
        archives: dict[str, Path] = {}
        for path, source in missing:
            if source.archive not in archives:
                archives[source.archive] = _fetch(source.archive, Path(tmp), wheel, npm_tarball)
            write_bytes_atomic(path, _read_verified(archives, source))
    return model_files(variant, directory=folder)


def _fetch(archive: str, into: Path, wheel: Path | None, npm_tarball: Path | None) -> Path:
    if archive == "wheel":
        return wheel or _pip_download(into)
    return npm_tarball or _npm_pack(into)


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
            "installed; install Node.js/npm (or pass --npm-tarball) or use the default 'full' model"
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``clamcoach models`` (also ``python -m clamcoach.pose.models``)."""
    parser.add_argument("action", choices=["install", "path", "list"],
                        help="install the model files, print their folder, or list what is installed")
    parser.add_argument("--variant", choices=VARIANTS, action="append",
                        help=f"model variant (repeatable; default {DEFAULT_VARIANT})")
    parser.add_argument("--all", action="store_true", help="every variant (lite and heavy need npm)")
    parser.add_argument("--dir", type=Path, help="model folder (default: see above)")
    parser.add_argument("--wheel", type=Path, help=f"an already downloaded {MEDIAPIPE_WHEEL_SPEC} wheel")
    parser.add_argument("--npm-tarball", type=Path, help=f"an already packed {NPM_POSE_SPEC} tarball")
    parser.add_argument("--force", action="store_true", help="fetch again even if valid files exist")


def run(args: argparse.Namespace) -> int:
    """Carry out ``clamcoach models ACTION``; raises ModelMissing on failure."""
    if args.action == "path":
        print(model_files(directory=args.dir).landmarks.parent)
        return 0
    if args.action == "list":
        found = installed_variants(directory=args.dir)
        print(f"{args.dir or model_dir()}: " + (", ".join(found) if found else "nothing installed"))
        return 0
    variants = list(VARIANTS) if args.all else (args.variant or [DEFAULT_VARIANT])
    for variant in variants:
        files = install(variant, directory=args.dir, wheel=args.wheel,
                        npm_tarball=args.npm_tarball, force=args.force)
        print(f"pose model '{variant}': {files.landmarks}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clamcoach.pose.models", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except ModelMissing as err:
        print(f"clamcoach: error: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
