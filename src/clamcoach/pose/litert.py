"""BlazePose's own ``.tflite`` networks run with LiteRT (``ai-edge-litert``), no mediapipe.

The graph around the networks (detection, region of interest, landmark projection, tracking)
is :mod:`clamcoach.pose.graph`; smoothing is :mod:`clamcoach.pose.smoothing`. Like MediaPipe's
video mode, the detector runs only when fewer people are tracked than asked for: a tracked
person's next region comes from their landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clamcoach.errors import ClamcoachError, ModelMissing
from clamcoach.pose import graph, models
from clamcoach.pose.base import DEFAULT_THREADS, PoseEstimator, check_rgb
from clamcoach.pose.quiet import native_stderr_quiet
from clamcoach.pose.rotation import unrotate
from clamcoach.pose.smoothing import PoseSmoother, RoiSmoother
from clamcoach.types import N_LANDMARKS, PoseFrame

INSTALL_HINT = "pip install ai-edge-litert (a dependency of clamcoach: reinstall it)"
# A new detection this similar to a tracked person's region is that person again.
_SAME_PERSON_IOU = 0.5


def _interpreter(path: str, threads: int) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as err:
        raise ModelMissing(f"the LiteRT runtime cannot be imported ({err}): {INSTALL_HINT}") from err
    try:
        interpreter = Interpreter(model_path=path, num_threads=threads)
        interpreter.allocate_tensors()
    except (RuntimeError, ValueError, OSError) as err:
        raise ModelMissing(f"the pose model {path} could not be loaded: {err}: {models.SETUP_HINT}") from err
    return interpreter


class _Network:
    """One interpreter with its input and its outputs found by shape."""

    def __init__(self, path: str, threads: int, output_shapes: dict[str, tuple[int, ...]]) -> None:
        self._interp = _interpreter(path, threads)
        self._input = self._interp.get_input_details()[0]["index"]
        by_shape = {tuple(d["shape"]): d["index"] for d in self._interp.get_output_details()}
        missing = [name for name, shape in output_shapes.items() if shape not in by_shape]
        if missing:
            raise ModelMissing(f"{path} is not the expected BlazePose model (no output {missing})")
        self._outputs = {name: by_shape[shape] for name, shape in output_shapes.items()}
        self._invoked = False

    def __call__(self, tensor: np.ndarray) -> dict[str, np.ndarray]:
        self._interp.set_tensor(self._input, tensor[None])
        if self._invoked:
            self._interp.invoke()
        else:  # LiteRT notes its CPU delegate on fd 2 at the first run: not for a patient's eyes
            with native_stderr_quiet():
                self._interp.invoke()
            self._invoked = True
        return {name: self._interp.get_tensor(i) for name, i in self._outputs.items()}


@dataclass
class _Track:
    roi: graph.Roi
    smoother: PoseSmoother = field(default_factory=PoseSmoother)
    roi_smoother: RoiSmoother = field(default_factory=RoiSmoother)

    def follow(self, found: graph.RawLandmarks, t: float, smooth: bool) -> None:
        """The next frame's region, from this frame's auxiliary points."""
        aux = found.image[graph.N_BODY : graph.N_BODY + 2, :2]
        if smooth:
            aux = self.roi_smoother(aux, t, graph.roi_from_points(aux[0], aux[1]).size)
        self.roi = graph.roi_from_points(aux[0], aux[1])


class LiteRTPoseEstimator(PoseEstimator):
    """BlazePose landmarks (33 image + 33 world points) for each frame, in time order.

    ``model``: "lite", "full" (default) or "heavy". ``threads``: the interpreters' threads
    (at most the cores this estimator may have). ``rotation_fallback`` as in the MediaPipe
    backend: where nobody is found, look again in the frame turned a quarter turn each way.
    """

    name = "litert"

    def __init__(
        self,
        *,
        num_poses: int = 1,
        model: str = models.DEFAULT_VARIANT,
        threads: int = DEFAULT_THREADS,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        rotation_fallback: bool = False,
        smooth: bool = True,
    ) -> None:
        if model not in models.VARIANTS:
            raise ModelMissing(f"unknown pose model {model!r}; choose from {', '.join(models.VARIANTS)}")
        files = models.model_files(model)
        self.num_poses = num_poses
        self.variant = model
        self.threads = threads
        self.rotation_fallback = rotation_fallback
        self.smooth = smooth
        self._min_detection = min_detection_confidence
        self._min_presence = min_presence_confidence
        self._min_tracking = min_tracking_confidence
        # LiteRT prints a delegate note on fd 2 while the interpreters start.
        with native_stderr_quiet():
            self._detector = _Network(str(files.detector), threads, {
                "boxes": (1, 2254, 12), "scores": (1, 2254, 1)})
            self._landmarks = _Network(str(files.landmarks), threads, {
                "landmarks": (1, 195), "flag": (1, 1), "heatmap": (1, 64, 64, 39), "world": (1, 117)})
        self._tracks: list[_Track] = []
        self._closed = False
        #: Frames where only the rotation fallback found someone (for diagnostics).
        self.fallback_hits = 0

    # -- the protocol ----------------------------------------------------------------------

    def estimate(self, rgb: np.ndarray, t: float) -> PoseFrame | None:
        poses = self.estimate_all(rgb, t)
        return poses[0] if poses else None

    def estimate_all(self, rgb: np.ndarray, t: float) -> list[PoseFrame]:
        rgb = check_rgb(rgb)
        if self._closed:
            raise ClamcoachError("the pose estimator is closed")
        height, width = rgb.shape[:2]
        poses: list[PoseFrame] = []
        kept: list[_Track] = []
        for track in self._tracks:
            found = self._landmarks_in(rgb, track.roi)
            if found is not None and found.score >= self._min_tracking:
                poses.append(self._pose(found, track, t, width, height))
                track.follow(found, t, self.smooth)
                kept.append(track)
        self._tracks = kept
        if len(self._tracks) < self.num_poses:
            poses += self._detect_new(rgb, t)
        if not poses and self.rotation_fallback:
            poses = self._look_rotated(rgb, t)
            self.fallback_hits += bool(poses)
        poses.sort(key=lambda p: p.presence, reverse=True)
        return poses

    def reset(self) -> None:
        """Forget tracking state (e.g. before a different video)."""
        self._tracks = []

    def close(self) -> None:
        self._closed = True
        self._tracks = []

    # -- the graph -------------------------------------------------------------------------

    def _detections(self, rgb: np.ndarray) -> list[graph.Detection]:
        height, width = rgb.shape[:2]
        tensor = graph.crop(rgb, graph.letterbox_roi(width, height), graph.DETECTOR_SIZE, border_zero=True)
        out = self._run(self._detector, tensor * (2.0 / 255.0) - 1.0)
        found = graph.decode_detections(out["boxes"], out["scores"], width, height,
                                        max_detections=self.num_poses + len(self._tracks))
        return [d for d in found if d.score >= self._min_detection]

    def _detect_new(self, rgb: np.ndarray, t: float) -> list[PoseFrame]:
        height, width = rgb.shape[:2]
        poses = []
        for detection in self._detections(rgb):
            if len(self._tracks) >= self.num_poses:
                break
            roi = graph.roi_from_detection(detection, width, height)
            if any(graph.roi_iou(roi, track.roi) > _SAME_PERSON_IOU for track in self._tracks):
                continue
            found = self._landmarks_in(rgb, roi)
            if found is None or found.score < self._min_presence:
                continue
            track = _Track(roi)
            poses.append(self._pose(found, track, t, width, height))
            track.follow(found, t, self.smooth)
            self._tracks.append(track)
        return poses

    def _landmarks_in(self, rgb: np.ndarray, roi: graph.Roi) -> graph.RawLandmarks | None:
        if not (roi.size > 1.0 and np.isfinite([roi.cx, roi.cy, roi.size, roi.rotation]).all()):
            return None
        tensor = graph.crop(rgb, roi, graph.LANDMARK_SIZE, border_zero=False) * (1.0 / 255.0)
        out = self._run(self._landmarks, tensor)
        return graph.decode_landmarks(out["landmarks"], out["flag"], out["heatmap"], out["world"], roi)

    def _run(self, network: _Network, tensor: np.ndarray) -> dict[str, np.ndarray]:
        try:
            return network(np.ascontiguousarray(tensor, dtype=np.float32))
        except (RuntimeError, ValueError) as err:
            raise ClamcoachError(f"pose estimation failed: {err}") from err

    def _pose(self, found: graph.RawLandmarks, track: _Track, t: float, width: int,
              height: int) -> PoseFrame:
        body = slice(0, N_LANDMARKS)
        image, world, visibility = found.image[body], found.world[body], found.visibility[body]
        if self.smooth:
            image, world, visibility = track.smoother(image, world, visibility, t)
        return PoseFrame(
            t=t,
            image=np.column_stack([image[:, :2], visibility]),
            world=world.copy(),
            width=width,
            height=height,
            presence=float(np.mean(found.presence[body])),
        )

    def _look_rotated(self, rgb: np.ndarray, t: float) -> list[PoseFrame]:
        height, width = rgb.shape[:2]
        for quarter_turns in (1, 3):
            turned = np.ascontiguousarray(np.rot90(rgb, k=quarter_turns))
            poses = []
            for detection in self._detections(turned)[: self.num_poses]:
                roi = graph.roi_from_detection(detection, turned.shape[1], turned.shape[0])
                found = self._landmarks_in(turned, roi)
                if found is not None and found.score >= self._min_presence:
                    pose = self._pose(found, _Track(roi), t, turned.shape[1], turned.shape[0])
                    poses.append(unrotate(pose, quarter_turns, width, height))
            if poses:
                return poses
        return []
