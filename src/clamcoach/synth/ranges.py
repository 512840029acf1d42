"""Drawing a set's scene, body and cameras from ranges (the recipes in ``make_sets`` name them).

A ``SetRanges`` says, for every parameter the analyser must cope with, the interval (or the
choices) a set is drawn from; ``draw_set`` turns it and a seed into explicit ``SetSpec`` fields,
so every value a set was made with is in its spec, its manifest entry and its ground truth.
Intervals given as several bands (``Bands``) draw a band first, then a value inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .body import Shape, height_param
from .camera import PLACEMENTS, CameraSpec, view_label
from .options import Hand, Support

Band = tuple[float, float]


def _uniform(rng: np.random.Generator, bands: tuple[Band, ...]) -> float:
    lo, hi = bands[int(rng.integers(len(bands)))] if len(bands) > 1 else bands[0]
    return float(rng.uniform(lo, hi))


def _signed(rng: np.random.Generator, band: Band) -> float:
    """A magnitude from ``band`` with a random sign."""
    return float(rng.uniform(*band)) * (1.0 if rng.random() < 0.5 else -1.0)


@dataclass(frozen=True)
class SetRanges:
    """Where a family of sets lies in the space of what users will do."""

    fps: tuple[float, ...] = (15.0, 30.0)
    resolutions: tuple[tuple[int, int], ...] = ((480, 360), (640, 480))
    #: camera elevation bands (deg above horizontal); a set's cameras are spread over them
    elevation: tuple[Band, ...] = ((0.0, 70.0),)
    yaw_abs: Band = (0.0, 25.0)  # |yaw| from the placement's direction, deg
    roll_abs: Band = (0.0, 3.0)
    lens_35mm: tuple[Band, ...] = ((26.0, 45.0),)
    fill: Band = (0.6, 0.88)
    feet_end_chance: float = 0.15  # a camera at the feet end instead of in front
    cameras_per_set: tuple[int, ...] = (2, 3)
    supports: tuple[Support, ...] = (Support.TABLE, Support.FLOOR)
    hands: tuple[Hand, ...] = (Hand.HIP, Hand.MAT, Hand.THIGH)
    pillow_chance: float = 0.3
    pillow_cm: Band = (8.0, 15.0)
    loose_chance: float = 0.5
    looseness_cm: Band = (1.0, 3.0)
    age_years: Band = (25.0, 70.0)
    weight: Band = (0.05, 0.8)  # anny's weight parameter: light .. heavy
    light_scale: Band = (0.6, 1.3)
    light_tint: Band = (-1.0, 1.0)
    table_top_m: Band = (0.6, 0.8)
    bed_top_m: Band = (0.45, 0.62)

    def describe(self) -> dict:
        """The ranges as plain data (for manifests)."""
        out = {}
        for k, v in self.__dict__.items():
            if isinstance(v, tuple) and v and isinstance(v[0], (Hand, Support)):
                v = [x.value for x in v]
            out[k] = v
        return out


@dataclass
class DrawnSet:
    """Explicit SetSpec fields drawn from ranges, and what was drawn (for the manifest)."""

    spec: dict
    params: dict = field(default_factory=dict)


def draw_shape(rng: np.random.Generator, ranges: SetRanges, sex: str | None = None) -> Shape:
    if sex is None:
        sex = "male" if rng.random() < 0.5 else "female"
    gender = float(rng.uniform(0.0, 0.2)) if sex == "male" else float(rng.uniform(0.8, 1.0))
    years = float(rng.uniform(*ranges.age_years))
    target = rng.uniform(1.65, 1.92) if sex == "male" else rng.uniform(1.52, 1.80)
    return Shape(gender=gender, age=float(2.0 / 3.0 + (years - 25.0) / 65.0 / 3.0),
                 muscle=float(rng.uniform(0.3, 0.7)), weight=float(rng.uniform(*ranges.weight)),
                 height=float(np.clip(height_param(target, gender), 0.0, 1.0)),
                 proportions=float(rng.uniform(0.35, 0.65)))


def draw_cameras(rng: np.random.Generator, ranges: SetRanges, n: int) -> dict[str, CameraSpec]:
    """``n`` cameras, their elevations stratified over the elevation bands (one sub-interval each,
    so a set is seen from low and high); keyed by their view label (+ a digit when repeated)."""
    bands = ranges.elevation
    # stratify: split the union of the bands into n equal slices by length
    total = sum(hi - lo for lo, hi in bands)
    slots = (np.arange(n) + rng.uniform(0.05, 0.95, size=n)) / n * total
    rng.shuffle(slots)
    cams: dict[str, CameraSpec] = {}
    for pos in slots:
        el = _from_union(bands, float(pos))
        placement = "feet" if rng.random() < ranges.feet_end_chance and el <= 50.0 else "front"
        spec = CameraSpec(placement, None, el, _signed(rng, ranges.yaw_abs), float(rng.uniform(*ranges.fill)),
                          _signed(rng, ranges.roll_abs), _uniform(rng, ranges.lens_35mm))
        label = spec_view_label(spec)
        key, k = label, 2
        while key in cams:
            key, k = f"{label}{k}", k + 1
        cams[key] = spec
    return cams


def _from_union(bands: tuple[Band, ...], pos: float) -> float:
    for lo, hi in bands:
        if pos <= hi - lo:
            return lo + pos
        pos -= hi - lo
    return bands[-1][1]


def spec_view_label(spec: CameraSpec) -> str:
    """The view label a camera spec will get (same rule as the rendered camera's)."""
    az_world = PLACEMENTS[spec.view] + spec.yaw
    azimuth = (-90.0 - az_world + 180.0) % 360.0 - 180.0
    return view_label(spec.pitch, azimuth)


def draw_set(ranges: SetRanges, seed: int, overrides: dict | None = None) -> DrawnSet:
    """Explicit spec fields for one set (values in ``overrides`` win; they are not drawn)."""
    o = dict(overrides or {})
    rng = np.random.default_rng([seed, 101])
    spec: dict = {}
    spec["fps"] = float(o.pop("fps", ranges.fps[int(rng.integers(len(ranges.fps)))]))
    w, h = o.pop("resolution", ranges.resolutions[int(rng.integers(len(ranges.resolutions)))])
    spec["width"], spec["height"] = int(w), int(h)
    support = Support(o.pop("support", ranges.supports[int(rng.integers(len(ranges.supports)))]))
    spec["support"] = support
    top = ranges.bed_top_m if support is Support.BED else ranges.table_top_m
    spec["support_top_m"] = None if support is Support.FLOOR else float(rng.uniform(*top))
    spec["hand"] = Hand(o.pop("hand", ranges.hands[int(rng.integers(len(ranges.hands)))]))
    pillow = rng.random() < ranges.pillow_chance
    thick = float(rng.uniform(*ranges.pillow_cm))
    spec["knee_pillow_cm"] = float(o.pop("knee_pillow_cm", thick if pillow else 0.0))
    loose = rng.random() < ranges.loose_chance
    amount = float(rng.uniform(*ranges.looseness_cm))
    spec["looseness_cm"] = float(o.pop("looseness_cm", amount if loose else 0.0))
    spec["light_scale"] = float(rng.uniform(*ranges.light_scale))
    spec["light_tint"] = float(rng.uniform(*ranges.light_tint))
    sex = o.pop("sex", None)
    spec["shape"] = draw_shape(rng, ranges, sex)
    n_cams = int(o.pop("n_cameras", ranges.cameras_per_set[int(rng.integers(len(ranges.cameras_per_set)))]))
    cams = o.pop("cameras", None) or draw_cameras(rng, ranges, n_cams)
    spec["cameras"] = cams
    spec["views"] = tuple(cams)
    spec.update(o)
    params = {
        "fps": spec["fps"], "resolution": [spec["width"], spec["height"]], "support": support.value,
        "support_top_m": spec["support_top_m"], "hand": spec["hand"].value,
        "knee_pillow_cm": round(spec["knee_pillow_cm"], 2), "looseness_cm": round(spec["looseness_cm"], 2),
        "light_scale": round(spec["light_scale"], 3), "light_tint": round(spec["light_tint"], 3),
        "body": {"age_years": round(spec["shape"].age_years, 1), "weight": round(spec["shape"].weight, 3),
                 "gender": round(spec["shape"].gender, 3)},
        "cameras": {k: {"placement": c.view, "elevation_deg": round(c.pitch, 2), "yaw_deg": round(c.yaw, 2),
                        "roll_deg": round(c.roll, 2), "lens_35mm_mm": round(c.focal35, 2) if c.focal35 else None,
                        "fill": round(c.fill, 3), "distance_m": c.distance}
                    for k, c in cams.items()},
    }
    return DrawnSet(spec=spec, params=params)
