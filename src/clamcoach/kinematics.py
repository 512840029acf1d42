"""Kinematics stage: per-frame measures in the body's frame, each with a confidence.

Raw geometry comes from ``geometry.features``. Two measures go through a per-view linear
calibration fitted on the rendered *tuning* set only (``calibration.json``, written by
``benchmarks/fit_calibration.py``): the pelvis/trunk roll, where the leg's motion leaks into
the hip landmarks and the view decides what is visible, and the opening. Where a view cannot
see a measure the calibration says so, and the measure's confidence is 0.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from clamcoach.filters import RollingQuantile
from clamcoach.geometry import features
from clamcoach.types import BodyFrame, Kinematics, View


@dataclass(frozen=True)
class LinearModel:
    weights: dict[str, float]
    bias: float = 0.0
    rmse_deg: float = math.nan
    usable: bool = True

    def __call__(self, feats: dict[str, float]) -> float:
        return self.bias + sum(w * feats[k] for k, w in self.weights.items())


#: Ankle-centre gap of stacked (closed) feet, as a share of shin length: the level the
#: calibrated change in ankle gap is added to (6-8 cm on a 40-48 cm shin).
CLOSED_ANKLE_FRACTION = 0.15


@dataclass(frozen=True)
class ViewCalibration:
    """Per-view models. Required: pelvis_roll, trunk_roll, opening. Optional: hip_flexion,
    knee_flexion (absolute) and ankle_frac (change of the ankle gap over shin length)."""

    models: dict[str, LinearModel]

    @property
    def pelvis_roll(self) -> LinearModel:
        return self.models["pelvis_roll"]

    @property
    def trunk_roll(self) -> LinearModel:
        return self.models["trunk_roll"]

    @property
    def opening(self) -> LinearModel:
        return self.models["opening"]

    def get(self, name: str) -> LinearModel | None:
        return self.models.get(name)


@dataclass(frozen=True)
class ViewCentroids:
    """A nearest-centroid camera-view classifier fitted on the tuning set: per view, the
    median of a few features over a clip; features are compared in units of ``scale``."""

    features: tuple[str, ...]
    scale: tuple[float, ...]
    centroids: dict[View, tuple[float, ...]]

    def classify(self, medians: dict[str, float]) -> View:
        x = np.array([medians[k] for k in self.features])
        sc = np.array(self.scale)
        best = min(self.centroids.items(), key=lambda kv: float(np.sum(((x - np.array(kv[1])) / sc) ** 2)))
        return best[0]


@dataclass(frozen=True)
class Calibration:
    views: dict[View, ViewCalibration]
    source: str = "default"
    view_centroids: ViewCentroids | None = None

    def for_view(self, view: View) -> ViewCalibration:
        return self.views.get(view) or self.views[View.UNKNOWN]


def _model(d: dict) -> LinearModel:
    return LinearModel(weights=dict(d["weights"]), bias=float(d.get("bias", 0.0)),
                       rmse_deg=float(d.get("rmse_deg", math.nan)), usable=bool(d.get("usable", True)))


def load_calibration(text: str | None = None) -> Calibration:
    """The packaged calibration (or one given as JSON text)."""
    if text is None:
        text = resources.files("clamcoach").joinpath("calibration.json").read_text("utf-8")
    data = json.loads(text)
    views = {View(name): ViewCalibration({k: _model(m) for k, m in v.items()})
             for name, v in data["views"].items()}
    vc = data.get("view_classifier")
    centroids = None
    if vc:
        centroids = ViewCentroids(features=tuple(vc["features"]), scale=tuple(vc["scale"]),
                                  centroids={View(k): tuple(v) for k, v in vc["centroids"].items()})
    return Calibration(views=views, source=data.get("source", "packaged"), view_centroids=centroids)


def geometric_calibration() -> Calibration:
    """The measures straight from 3-D geometry (no fitted weights): exact on exact landmarks,
    used for the closed-form tests. The roll counts as visible from raised views only."""
    def views(roll_usable: bool) -> ViewCalibration:
        return ViewCalibration({
            "pelvis_roll": LinearModel({"roll3d_hip": 1.0}, usable=roll_usable),
            "trunk_roll": LinearModel({"roll3d_sh": 1.0}, usable=roll_usable),
            "opening": LinearModel({"opening_hinge": 1.0}),
        })

    return Calibration(
        views={v: views(v in (View.OBLIQUE, View.OVERHEAD)) for v in View},
        source="geometric (no fitting)",
    )


@dataclass(frozen=True)
class ViewParams:
    window: int = 45                # frames in the running median
    feet_axis_depth: float = 0.6    # long axis mostly along the viewing direction
    oblique_min_pitch: float = 20.0
    overhead_min_pitch: float = 60.0


class ViewClassifier:
    """Online camera-view estimate: running medians of a few features, classified by the
    tuning-set centroids when there are some, else by the body's orientation in camera axes."""

    def __init__(self, params: ViewParams = ViewParams(), centroids: ViewCentroids | None = None) -> None:
        self.p = params
        self.centroids = centroids
        names = set(centroids.features if centroids else ()) | {"pitch", "axis_depth"}
        self._hist: dict[str, deque[float]] = {k: deque(maxlen=params.window) for k in names}
        self._n = 0
        self._same = 0          # consecutive classifications that agreed
        self.view = View.UNKNOWN

    @property
    def confident(self) -> bool:
        """Enough frames seen, and the answer has stopped changing."""
        return len(self._hist["pitch"]) >= self.p.window * 2 // 3 and self._same >= 4

    def push(self, feats: dict[str, float]) -> View:
        if all(math.isfinite(feats[k]) for k in self._hist):
            for k, h in self._hist.items():
                h.append(feats[k])
        self._n += 1
        if len(self._hist["pitch"]) >= 5 and (self._n % 5 == 0 or self.view is View.UNKNOWN):
            med = {k: float(np.median(h)) for k, h in self._hist.items()}
            if self.centroids is not None:
                view = self.centroids.classify(med)
            else:
                view = classify_view(med["pitch"], med["axis_depth"], self.p)
            self._same = self._same + 1 if view is self.view else 0
            self.view = view
        return self.view


def classify_view(pitch_deg: float, axis_depth: float, p: ViewParams = ViewParams()) -> View:
    if axis_depth >= p.feet_axis_depth:
        return View.FEET
    if pitch_deg >= p.overhead_min_pitch:
        return View.OVERHEAD
    if pitch_deg >= p.oblique_min_pitch:
        return View.OBLIQUE
    return View.FRONT


@dataclass(frozen=True)
class KinematicsParams:
    baseline_window_s: float = 8.0     # how far back the closed-legs baseline looks
    baseline_quantile: float = 10.0    # percentile of the opening taken as "closed"
    hand_on_hip_max: float = 0.45      # top wrist to top hip, over trunk length


@dataclass
class KinematicsStage:
    """Online: ``push(body) -> (Kinematics, raw features)``."""

    calibration: Calibration = field(default_factory=load_calibration)
    params: KinematicsParams = field(default_factory=KinematicsParams)
    views: ViewClassifier | None = None

    def __post_init__(self) -> None:
        if self.views is None:
            self.views = ViewClassifier(centroids=self.calibration.view_centroids)
        q = self.params.baseline_quantile / 100.0
        self._opening_base = RollingQuantile(self.params.baseline_window_s, q)
        self._knee_gap_base = RollingQuantile(self.params.baseline_window_s, q)
        self._ankle_base = RollingQuantile(self.params.baseline_window_s, q)
        self._view = View.UNKNOWN
        self.locked = False

    @property
    def view(self) -> View:
        return self._view

    def lock_view(self) -> bool:
        """Keep the current view (and its calibration) once the classifier is sure of it: the
        camera does not move mid-set, and a view flipping mid-rep would switch calibrations
        under the rep's own baseline. Returns whether the view is now locked."""
        if not self.locked and self._view is not View.UNKNOWN and self.views.confident:
            self.locked = True
        return self.locked

    def unlock_view(self) -> None:
        self.locked = False

    def can_see_roll(self, view: View | None = None) -> bool:
        return self.calibration.for_view(view or self.view).pelvis_roll.usable

    def push(self, body: BodyFrame) -> tuple[Kinematics, dict[str, float]]:
        f = features(body)
        classified = self.views.push(f)
        view = self._view if self.locked else classified
        if view is not self._view:
            # Another view means another calibration: levels from the old one do not apply.
            self._view = view
            for base in (self._opening_base, self._knee_gap_base, self._ankle_base):
                base.clear()
        cal = self.calibration.for_view(view)
        opening_abs = cal.opening(f)
        # The closed-legs level: a low quantile of the recent past (online).
        opening = opening_abs - self._opening_base.push(body.t, opening_abs)
        knee_gap = f["knee_gap_m"] * 100
        lift = knee_gap - self._knee_gap_base.push(body.t, knee_gap)
        q = body.quality
        roll_conf = q * _model_conf(cal.pelvis_roll)
        hip_model, knee_model, ankle_model = cal.get("hip_flexion"), cal.get("knee_flexion"), cal.get("ankle_frac")
        shin_cm = f["shin_m"] * 100
        if ankle_model is not None:
            frac = ankle_model(f)
            ankle_cm = shin_cm * (CLOSED_ANKLE_FRACTION + frac - self._ankle_base.push(body.t, frac))
        else:
            ankle_cm = f["ankle_gap_m"] * 100
        kin = Kinematics(
            t=body.t,
            hip_flexion_deg=hip_model(f) if hip_model else f["hip_flex"],
            knee_flexion_deg=knee_model(f) if knee_model else f["knee_flex"],
            opening_deg=opening,
            knee_lift_cm=lift,
            pelvis_roll_deg=cal.pelvis_roll(f),
            trunk_roll_deg=cal.trunk_roll(f),
            ankle_gap_cm=ankle_cm,
            hand_on_hip=1.0 if f["hand_dist"] <= self.params.hand_on_hip_max else 0.0,
            shin_length_cm=shin_cm,
            confidence={
                "hip_flexion_deg": q, "knee_flexion_deg": q,
                "opening_deg": q * _model_conf(cal.opening), "knee_lift_cm": q,
                "pelvis_roll_deg": roll_conf, "trunk_roll_deg": q * _model_conf(cal.trunk_roll),
                "ankle_gap_cm": q, "hand_on_hip": q,
            },
        )
        return kin, f


def _model_conf(model: LinearModel) -> float:
    if not model.usable:
        return 0.0
    if not math.isfinite(model.rmse_deg):
        return 0.5
    return float(np.clip(1.0 - model.rmse_deg / 10.0, 0.0, 1.0))
