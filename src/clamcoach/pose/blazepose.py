"""BlazePose through the MediaPipe Tasks ``PoseLandmarker``, in VIDEO mode (tracks between frames).

Kept for comparison with the LiteRT backend (``clamcoach[mediapipe]``). The model bundle is
built from the installed model files (:mod:`clamcoach.pose.bundle`; never downloaded here).
mediapipe errors are mapped into :mod:`clamcoach.errors`.
"""

from __future__ import annotations

import functools
import math
from contextlib import ExitStack
import mmap
from pathlib import Path
from typing import Any

import numpy as np

from clamcoach.errors import ClamcoachError, ModelMissing
from clamcoach.pose import bundle, models
from clamcoach.pose.base import PoseEstimator, check_rgb
from clamcoach.pose.quiet import native_stderr_quiet
from clamcoach.pose.rotation import unrotate as _unrotate
from clamcoach.types import N_LANDMARKS, PoseFrame

# mediapipe builds with the C-API library (0.10.30+, 1.x) post usage reports to Google from
# their C++ code (found with strace: HttpLoggingClient -> play.googleapis.com/log, at every
# landmarker start). Python-level socket guards cannot stop it, so such builds are refused.
_TELEMETRY_LIBRARY = Path("tasks", "c", "libmediapipe.so")
_TELEMETRY_MARKER = b"play.googleapis.com/log"
SUPPORTED_MEDIAPIPE = "mediapipe==0.10.21"


def _import_mediapipe() -> Any:
    try:
        import mediapipe
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions
    except ImportError as err:
        raise ModelMissing(
            f"the MediaPipe backend needs mediapipe ({err}): pip install 'clamcoach[mediapipe]' "
            f"then pip install --no-deps {SUPPORTED_MEDIAPIPE} (or use the default litert backend)"
        ) from err
    library = telemetry_library(Path(mediapipe.__file__).parent)
    if library is not None:
        raise ModelMissing(
            f"the installed mediapipe {getattr(mediapipe, '__version__', '?')} sends usage "
            f"telemetry to Google ({library.name}); clamcoach must stay offline. Install "
            f"{SUPPORTED_MEDIAPIPE} instead: run `make setup`"
        )
    return mediapipe, vision, BaseOptions


@functools.cache
def telemetry_library(mediapipe_root: Path) -> Path | None:
    """The mediapipe library that contains the usage-report client, or None if there is none."""
    library = mediapipe_root / _TELEMETRY_LIBRARY
    try:
        with open(library, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return library if m.find(_TELEMETRY_MARKER) >= 0 else None
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return library  # present but unreadable: assume the worst


_QUIET_RUNS = 3


class BlazePoseEstimator(PoseEstimator):
    """BlazePose landmarks (33 image + 33 world points) for each frame, in time order.

    ``rotation_fallback``: when tracking finds nobody, look again in the frame turned a
    quarter turn each way and map the landmarks back (two extra model runs, only on frames
    where nobody was found). Off by default: BlazePose already finds people lying on their
    side (measured: rendered side-lying demo 406/406 frames without it; a walking person
    turned 90/270 deg, 222-223/230 frames without it and 224-225/230 with it).
    """

    name = "mediapipe"

    def __init__(
        self,
        *,
        num_poses: int = 1,
        variant: str = models.DEFAULT_VARIANT,
        model_path: str | None = None,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        rotation_fallback: bool = False,
    ) -> None:
        self.num_poses = num_poses
        self.variant = variant
        self.rotation_fallback = rotation_fallback
        self._mp, self._vision, base_options_cls = _import_mediapipe()
        path = model_path or str(bundle.bundle_path(variant))
        self._make_options = lambda mode: self._vision.PoseLandmarkerOptions(
            base_options=base_options_cls(model_asset_path=path),
            running_mode=mode,
            num_poses=num_poses,
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_presence_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        # The native start-up notes come from worker threads during creation and the first
        # inferences, so stderr stays quiet until those are over (or the estimator closes).
        self._quiet = ExitStack()
        self._quiet.enter_context(native_stderr_quiet())
        try:
            self._tracker = self._create(self._vision.RunningMode.VIDEO)
        except BaseException:
            self._quiet.close()  # never leave stderr silenced behind an error
            raise
        self._still: Any = None  # IMAGE-mode landmarker for the rotation fallback, made on demand
        self._last_ms = -1
        self._runs = 0
        #: Frames where only the rotation fallback found someone (for diagnostics).
        self.fallback_hits = 0

    def _create(self, mode: Any) -> Any:
        try:
            return self._vision.PoseLandmarker.create_from_options(self._make_options(mode))
        except (RuntimeError, ValueError, OSError) as err:
            raise ModelMissing(f"the pose model could not be loaded: {err}: {models.SETUP_HINT}") from err

    def estimate(self, rgb: np.ndarray, t: float) -> PoseFrame | None:
        poses = self.estimate_all(rgb, t)
        return poses[0] if poses else None

    def estimate_all(self, rgb: np.ndarray, t: float) -> list[PoseFrame]:
        rgb = check_rgb(rgb)
        if self._tracker is None:
            raise ClamcoachError("the pose estimator is closed")
        height, width = rgb.shape[:2]
        result = self._run(self._tracker, rgb, self._next_timestamp_ms(t))
        poses = _to_pose_frames(result, t, width, height)
        if not poses and self.rotation_fallback:
            poses = self._look_rotated(rgb, t)
            self.fallback_hits += bool(poses)
        poses.sort(key=lambda p: p.presence, reverse=True)
        return poses

    def _look_rotated(self, rgb: np.ndarray, t: float) -> list[PoseFrame]:
        if self._still is None:
            self._still = self._create(self._vision.RunningMode.IMAGE)
        height, width = rgb.shape[:2]
        for quarter_turns in (1, 3):
            turned = np.ascontiguousarray(np.rot90(rgb, k=quarter_turns))
            result = self._run(self._still, turned, None)
            poses = _to_pose_frames(result, t, turned.shape[1], turned.shape[0])
            if poses:
                return [_unrotate(p, quarter_turns, width, height) for p in poses]
        return []

    def _run(self, landmarker: Any, rgb: np.ndarray, timestamp_ms: int | None) -> Any:
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        try:
            self._runs += 1
            if self._runs > _QUIET_RUNS:
                self._quiet.close()
            return self._detect(landmarker, image, timestamp_ms)
        except (RuntimeError, ValueError) as err:
            raise ClamcoachError(f"pose estimation failed: {err}") from err

    @staticmethod
    def _detect(landmarker: Any, image: Any, timestamp_ms: int | None) -> Any:
        if timestamp_ms is None:
            return landmarker.detect(image)
        return landmarker.detect_for_video(image, timestamp_ms)

    def _next_timestamp_ms(self, t: float) -> int:
        # MediaPipe's VIDEO mode needs strictly increasing integer milliseconds; repeated or
        # sub-millisecond times are nudged forward rather than rejected.
        ms = round(t * 1000.0) if math.isfinite(t) else self._last_ms + 1
        ms = max(ms, self._last_ms + 1)
        self._last_ms = ms
        return ms

    def reset(self) -> None:
        """Forget tracking state (e.g. before a different video)."""
        if self._tracker is not None:
            self._tracker.close()
        self._tracker = self._create(self._vision.RunningMode.VIDEO)
        self._last_ms = -1

    def close(self) -> None:
        self._quiet.close()
        for landmarker in (self._tracker, self._still):
            if landmarker is not None:
                landmarker.close()
        self._tracker = self._still = None


def _to_pose_frames(result: Any, t: float, width: int, height: int) -> list[PoseFrame]:
    frames = []
    for image_lms, world_lms in zip(result.pose_landmarks, result.pose_world_landmarks):
        image = np.array(
            [(lm.x * width, lm.y * height, _score(lm.visibility)) for lm in image_lms], dtype=np.float64
        )
        world = np.array([(lm.x, lm.y, lm.z) for lm in world_lms], dtype=np.float64)
        if image.shape != (N_LANDMARKS, 3) or world.shape != (N_LANDMARKS, 3):
            continue  # not the 33-point BlazePose topology; never expected
        presence = float(np.nanmean([_score(lm.presence) for lm in image_lms]))
        frames.append(PoseFrame(t=t, image=image, world=world, width=width, height=height,
                                presence=presence))
    return frames


def _score(value: float | None) -> float:
    return math.nan if value is None else float(value)
