"""BlazePose's processing graph around its two networks, in numpy: what MediaPipe's pose
graph does between the detector and the landmark model, and after it.

    image -> letterbox 224 -> detector -> anchors decode -> weighted NMS -> detection
          -> region of interest (rotated square around the body) -> crop 256 -> landmarks
          -> heatmap refinement -> project back to the image -> ROI for the next frame

Rectangles are in pixels (``Roi``); the landmark model's outputs are normalised to its
256 x 256 input. Constants are those of MediaPipe's ``pose_detection`` and ``pose_landmark``
graphs (0.10.21).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
N_MODEL_LANDMARKS = 39  # 33 body points, then 6 auxiliary ones (33: hip centre, 34: scale point)
N_BODY = 33

# SSD anchors of the detector (MediaPipe's SsdAnchorsCalculator options for pose detection).
_STRIDES = (8, 16, 32, 32, 32)
_MIN_SCALE, _MAX_SCALE = 0.1484375, 0.75
_MIN_SCORE = 0.5
_NMS_IOU = 0.3
_SCORE_CLIP = 100.0
_ROI_SCALE = 1.25  # the region around the body is 1.25 times the body's circle
_HEATMAP_KERNEL = 7
_HEATMAP_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True, slots=True)
class Detection:
    """A detected person: score, box and 4 keypoints, normalised to the image."""

    score: float
    box: np.ndarray  # (4,) x_min, y_min, x_max, y_max
    keypoints: np.ndarray  # (4, 2) x, y; 0: hip centre, 1: full-body scale point


@dataclass(frozen=True, slots=True)
class Roi:
    """A rotated square region in pixels: centre, side and rotation (radians, clockwise on
    screen, as MediaPipe's ``NormalizedRect.rotation``)."""

    cx: float
    cy: float
    size: float
    rotation: float


def ssd_anchors() -> np.ndarray:
    """(2254, 2) anchor centres in [0, 1] (every anchor is 1 x 1: fixed anchor size)."""
    centres: list[tuple[float, float]] = []
    n_layers = len(_STRIDES)
    layer = 0
    while layer < n_layers:
        per_cell = 0
        last = layer
        # Layers sharing a stride share one grid.
        while last < n_layers and _STRIDES[last] == _STRIDES[layer]:
            per_cell += 2  # aspect ratio 1, plus the interpolated scale
            last += 1
        cells = math.ceil(DETECTOR_SIZE / _STRIDES[layer])
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell)
        layer = last
    return np.asarray(centres, dtype=np.float32)


_ANCHORS = ssd_anchors()


def sigmoid(x: np.ndarray) -> np.ndarray:
    # Clipped: exp overflows past ~88 in float32, and the answer is 0 or 1 long before.
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


def letterbox_roi(width: int, height: int) -> Roi:
    """The whole image as a square (padded at the short sides), for the detector."""
    return Roi(cx=width / 2.0, cy=height / 2.0, size=float(max(width, height)), rotation=0.0)


def crop(rgb: np.ndarray, roi: Roi, out_size: int, *, border_zero: bool) -> np.ndarray:
    """The rotated square ``roi`` of ``rgb`` resampled to (out_size, out_size, 3) float32 0-255."""
    half = roi.size / 2.0
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)

    def corner(dx: float, dy: float) -> tuple[float, float]:
        return roi.cx + dx * cos - dy * sin, roi.cy + dx * sin + dy * cos

    src = np.float32([corner(-half, -half), corner(half, -half), corner(half, half)])
    dst = np.float32([[0, 0], [out_size, 0], [out_size, out_size]])
    matrix = cv2.getAffineTransform(src, dst)
    border = cv2.BORDER_CONSTANT if border_zero else cv2.BORDER_REPLICATE
    out = cv2.warpAffine(rgb, matrix, (out_size, out_size), flags=cv2.INTER_LINEAR,
                         borderMode=border, borderValue=(0, 0, 0))
    return out.astype(np.float32)


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, width: int, height: int,
                      *, max_detections: int) -> list[Detection]:
    """The detector's outputs as detections in image coordinates (NMS and letterbox undone)."""
    scores = sigmoid(np.clip(raw_scores.reshape(-1), -_SCORE_CLIP, _SCORE_CLIP))
    keep = np.flatnonzero(scores >= _MIN_SCORE)
    if keep.size == 0:
        return []
    raw = raw_boxes.reshape(-1, 12)[keep] / DETECTOR_SIZE
    anchors = _ANCHORS[keep]
    cx, cy = raw[:, 0] + anchors[:, 0], raw[:, 1] + anchors[:, 1]
    w, h = raw[:, 2], raw[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    keypoints = raw[:, 4:12].reshape(-1, 4, 2) + anchors[:, None, :]
    found = _weighted_nms(scores[keep], boxes, keypoints, max_detections)
    return [_remove_letterbox(d, width, height) for d in found]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _weighted_nms(scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray,
                  max_detections: int) -> list[Detection]:
    """MediaPipe's weighted non-maximum suppression: each cluster of overlapping candidates
    becomes their score-weighted mean, with the best candidate's score."""
    order = np.argsort(-scores, kind="stable")
    out: list[Detection] = []
    while order.size and len(out) < max_detections:
        best = order[0]
        overlap = _iou(boxes[best], boxes[order])
        cluster = order[overlap > _NMS_IOU]
        weights = scores[cluster][:, None]
        total = float(weights.sum())
        box = (boxes[cluster] * weights).sum(axis=0) / total
        kps = (keypoints[cluster] * weights[:, :, None]).sum(axis=0) / total
        out.append(Detection(float(scores[best]), box, kps))
        order = order[overlap <= _NMS_IOU]
    return out


def _remove_letterbox(d: Detection, width: int, height: int) -> Detection:
    side = max(width, height)
    pad_x = (side - width) / 2.0 / side
    pad_y = (side - height) / 2.0 / side
    sx, sy = 1.0 - 2 * pad_x, 1.0 - 2 * pad_y
    box = (d.box - np.array([pad_x, pad_y, pad_x, pad_y])) / np.array([sx, sy, sx, sy])
    kps = (d.keypoints - np.array([pad_x, pad_y])) / np.array([sx, sy])
    return Detection(d.score, box, kps)


def roi_from_points(centre_px: np.ndarray, scale_px: np.ndarray) -> Roi:
    """The landmark model's region: a square around the body's circle (centre and a point on
    its edge), turned so the body stands upright in it, enlarged by 1.25."""
    dx, dy = float(scale_px[0] - centre_px[0]), float(scale_px[1] - centre_px[1])
    size = 2.0 * math.hypot(dx, dy) * _ROI_SCALE
    rotation = _normalize_radians(math.pi / 2 - math.atan2(-dy, dx))
    return Roi(cx=float(centre_px[0]), cy=float(centre_px[1]), size=size, rotation=rotation)


def roi_from_detection(d: Detection, width: int, height: int) -> Roi:
    scale = np.array([width, height], dtype=np.float64)
    return roi_from_points(d.keypoints[0] * scale, d.keypoints[1] * scale)


def _normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


@dataclass(frozen=True, slots=True)
class RawLandmarks:
    """One run of the landmark model, projected into the image.

    ``image``: (39, 3) x px, y px, z (px, relative); ``visibility`` / ``presence``: (39,);
    ``world``: (39, 3) metres, camera-aligned; ``score``: the pose-presence flag (0-1)."""

    image: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray
    score: float


def decode_landmarks(raw: np.ndarray, flag: np.ndarray, heatmap: np.ndarray, world: np.ndarray,
                     roi: Roi) -> RawLandmarks:
    """The landmark model's outputs (for the 256 x 256 crop of ``roi``) in image terms."""
    lm = raw.reshape(N_MODEL_LANDMARKS, 5).astype(np.float64)
    norm = lm[:, :3] / LANDMARK_SIZE
    norm[:N_BODY, :2] = refine_from_heatmap(norm[:N_BODY, :2], heatmap.reshape(heatmap.shape[-3:]))
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    x, y = norm[:, 0] - 0.5, norm[:, 1] - 0.5
    image = np.column_stack([
        roi.cx + (cos * x - sin * y) * roi.size,
        roi.cy + (sin * x + cos * y) * roi.size,
        norm[:, 2] * roi.size,
    ])
    w = world.reshape(N_MODEL_LANDMARKS, 3).astype(np.float64)
    world_rot = np.column_stack([cos * w[:, 0] - sin * w[:, 1], sin * w[:, 0] + cos * w[:, 1], w[:, 2]])
    return RawLandmarks(
        image=image, visibility=sigmoid(lm[:, 3]), presence=sigmoid(lm[:, 4]), world=world_rot,
        # The presence flag is a probability already (measured: 4e-5 on a blank crop, 0.99999 on
        # a person); visibility and presence are logits.
        score=float(np.asarray(flag, dtype=np.float64).reshape(-1)[0]),
    )


def refine_from_heatmap(xy: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """Move each landmark to the confidence-weighted mean of the heatmap around it, when the
    heatmap is confident there (MediaPipe's RefineLandmarksFromHeatmapCalculator). All the
    landmarks' windows at once: a loop over them cost a millisecond a frame, under the GIL."""
    rows, cols = heatmap.shape[:2]
    n = xy.shape[0]
    offset = (_HEATMAP_KERNEL - 1) // 2
    col = (xy[:, 0] * cols).astype(int)  # truncated toward zero, as int() does
    row = (xy[:, 1] * rows).astype(int)
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    step = np.arange(-offset, offset + 1)
    rr = row[:, None] + step  # (n, k) each window's rows, some past the border
    cc = col[:, None] + step
    in_r, in_c = (rr >= 0) & (rr < rows), (cc >= 0) & (cc < cols)
    window = heatmap[np.clip(rr, 0, rows - 1)[:, :, None], np.clip(cc, 0, cols - 1)[:, None, :],
                     np.arange(n)[:, None, None]].astype(np.float64)
    confidence = sigmoid(window) * (in_r[:, :, None] & in_c[:, None, :])  # the border cuts the window
    total = confidence.sum(axis=(1, 2))
    use = inside & (confidence.max(axis=(1, 2)) >= _HEATMAP_MIN_CONFIDENCE) & (total > 0)
    out = xy.copy()
    safe = np.where(use, total, 1.0)
    out[use, 0] = ((cc[:, None, :] * confidence).sum(axis=(1, 2)) / cols / safe)[use]
    out[use, 1] = ((rr[:, :, None] * confidence).sum(axis=(1, 2)) / rows / safe)[use]
    return out


def roi_iou(a: Roi, b: Roi) -> float:
    """Overlap of two regions' axis-aligned squares (enough to tell people apart)."""
    box_a = np.array([a.cx - a.size / 2, a.cy - a.size / 2, a.cx + a.size / 2, a.cy + a.size / 2])
    box_b = np.array([[b.cx - b.size / 2, b.cy - b.size / 2, b.cx + b.size / 2, b.cy + b.size / 2]])
    return float(_iou(box_a, box_b)[0])
