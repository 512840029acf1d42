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


@dataclass(frozen=True)
class ViewCalibration:
    pelvis_roll: LinearModel
    trunk_roll: LinearModel
    opening: LinearModel


@dataclass(frozen=True)
class Calibration:
    views: dict[View, ViewCalibration]
    source: str = "default"

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
    views = {
        View(name): ViewCalibration(
            pelvis_roll=_model(v["pelvis_roll"]), trunk_roll=_model(v["trunk_roll"]),
            opening=_model(v["opening"]))
        for name, v in data["views"].items()
    }
    return Calibration(views=views, source=data.get("source", "packaged"))


@dataclass(frozen=True)
class ViewParams:
    window: int = 45                # frames in the running median
    feet_axis_depth: float = 0.6    # long axis mostly along the viewing direction
    oblique_min_pitch: float = 20.0
    overhead_min_pitch: float = 60.0


class ViewClassifier:
    """Online camera-view estimate from the body's orientation in camera axes."""

    def __init__(self, params: ViewParams = ViewParams()) -> None:
        self.p = params
        self._pitch: deque[float] = deque(maxlen=params.window)
        self._depth: deque[float] = deque(maxlen=params.window)
        self.view = View.UNKNOWN

    def push(self, feats: dict[str, float]) -> View:
        if math.isfinite(feats["pitch"]) and math.isfinite(feats["axis_depth"]):
            self._pitch.append(feats["pitch"])
            self._depth.append(feats["axis_depth"])
        if len(self._pitch) >= 5:
            self.view = classify_view(float(np.median(self._pitch)), float(np.median(self._depth)), self.p)
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
    views: ViewClassifier = field(default_factory=ViewClassifier)

    def __post_init__(self) -> None:
        self._opening_hist: deque[tuple[float, float]] = deque()
        self._knee_gap_hist: deque[tuple[float, float]] = deque()

    @property
    def view(self) -> View:
        return self.views.view

    def can_see_roll(self, view: View | None = None) -> bool:
        return self.calibration.for_view(view or self.view).pelvis_roll.usable

    def push(self, body: BodyFrame) -> tuple[Kinematics, dict[str, float]]:
        f = features(body)
        view = self.views.push(f)
        cal = self.calibration.for_view(view)
        opening_abs = cal.opening(f)
        opening = opening_abs - self._baseline(self._opening_hist, body.t, opening_abs)
        knee_gap = f["knee_gap_m"] * 100
        lift = knee_gap - self._baseline(self._knee_gap_hist, body.t, knee_gap)
        q = body.quality
        roll_conf = q * _model_conf(cal.pelvis_roll)
        kin = Kinematics(
            t=body.t,
            hip_flexion_deg=f["hip_flex"],
            knee_flexion_deg=f["knee_flex"],
            opening_deg=opening,
            knee_lift_cm=lift,
            pelvis_roll_deg=cal.pelvis_roll(f),
            trunk_roll_deg=cal.trunk_roll(f),
            ankle_gap_cm=f["ankle_gap_m"] * 100,
            hand_on_hip=1.0 if f["hand_dist"] <= self.params.hand_on_hip_max else 0.0,
            shin_length_cm=f["shin_m"] * 100,
            confidence={
                "hip_flexion_deg": q, "knee_flexion_deg": q,
                "opening_deg": q * _model_conf(cal.opening), "knee_lift_cm": q,
                "pelvis_roll_deg": roll_conf, "trunk_roll_deg": q * _model_conf(cal.trunk_roll),
                "ankle_gap_cm": q, "hand_on_hip": q,
            },
        )
        return kin, f

    def _baseline(self, hist: deque[tuple[float, float]], t: float, value: float) -> float:
        """The closed-legs level: a low percentile of the recent past (online)."""
        if math.isfinite(value):
            hist.append((t, value))
        while hist and hist[0][0] < t - self.params.baseline_window_s:
            hist.popleft()
        if not hist:
            return value
        return float(np.percentile([v for _, v in hist], self.params.baseline_quantile))


def _model_conf(model: LinearModel) -> float:
    if not model.usable:
        return 0.0
    if not math.isfinite(model.rmse_deg):
        return 0.5
    return float(np.clip(1.0 - model.rmse_deg / 10.0, 0.0, 1.0))
