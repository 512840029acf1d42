"""Exact synthetic landmarks made by the body model itself, seen through a known camera."""

from __future__ import annotations

import math

import numpy as np

from clamcoach.measure.camera import Camera
from clamcoach.measure.landmarks import ANCHOR
from clamcoach.measure.model import BodyModel, RestBody
from clamcoach.measure.profiles import BLAZEPOSE, BODY_PARAMS
from clamcoach.measure.setup_fit import look_at, rest_from_params


def prior_rest(**changes: float) -> RestBody:
    """The BlazePose profile's mean body, with some parameters changed."""
    b = np.array([changes.get(n, BLAZEPOSE.priors[n].mean) for n in BODY_PARAMS])
    return rest_from_params(b)


def camera_at(elevation_deg: float, azimuth_deg: float = 0.0, distance: float = 2.3,
              width: int = 640, height: int = 480, hfov_deg: float = 65.0, mirrored: bool = False,
              rest: RestBody | None = None) -> Camera:
    rest = rest or prior_rest()
    target = rest.points().mean(axis=0)
    e, a = math.radians(elevation_deg), math.radians(azimuth_deg)
    centre = target + distance * np.array([math.cos(e) * math.sin(a), -math.cos(e) * math.cos(a), math.sin(e)])
    M = np.array([1.0, -1.0, 1.0]) if mirrored else np.ones(3)
    R = look_at(centre * M, target * M)
    f = width / 2 / math.tan(math.radians(hfov_deg) / 2)
    return Camera(R=R, t=-R @ (centre * M), fx=f, fy=f, cx=width / 2, cy=height / 2, mirrored=mirrored)


def landmarks(rest: RestBody, camera: Camera, pose=(0.0, 0.0, 0.0, 0.0), foot_offset_px: float = 6.0) -> np.ndarray:
    """(12, 2) observed points: the model's joints projected, foot points beside their ankles."""
    X = BodyModel(rest).joints(np.array([pose], float))[0]
    pts = camera.project(X)[ANCHOR].copy()
    pts[8:] += foot_offset_px
    return pts
