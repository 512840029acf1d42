"""What the landmarks are: priors of the setup's body in the landmarks' own geometry.

The body model is fitted to whatever points the pose model reports. BlazePose puts its hip and
shoulder points on the body's surface, pulled toward the body's middle and forward of the joint
centres, so the body those points describe is narrower and rolled less far forward than the
skeleton. A profile holds the priors of that landmark geometry and the constant differences
(biases) between angles read from it and the joint-centre angles the method means.

- ``BLAZEPOSE``: measured by triangulating BlazePose's landmarks over the views of the tuning
  sets (``benchmarks/measure_priors.py``), the SDs widened to cover other bodies.
- ``JOINT_CENTRES``: an average adult's joint centres (anthropometric tables), for landmarks
  that are joint centres (the exact synthetic sets of the tests, ground truth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

r = math.radians

#: A pillow between the knees: the method's 8-15 cm, as a mean and an SD.
KNEE_PILLOW_M = 0.115
KNEE_PILLOW_SD_M = 0.025


@dataclass(frozen=True)
class Prior:
    mean: float
    sd: float


#: The setup's body parameters (metres, radians), in the order of a parameter vector.
BODY_PARAMS: tuple[str, ...] = (
    "thigh", "shin", "half_pelvis", "half_shoulders", "trunk", "roll0", "trunk_twist0",
    "shoulder_dy", "shoulder_dz", "hip_flexion", "knee_flexion", "thigh_drop",
    "knee_dx", "knee_dy", "knee_dz", "ankle_dx", "ankle_dy", "ankle_dz",
)


@dataclass(frozen=True)
class LandmarkProfile:
    name: str
    priors: dict[str, Prior]
    #: Proportions, known better than sizes: (length, its ratio to the thigh, SD of the ratio).
    ratios: tuple[tuple[str, float, float], ...]
    #: Added to the forward roll read off the landmarks' hip and shoulder lines (degrees).
    hip_line_roll_bias_deg: float = 0.0
    shoulder_line_roll_bias_deg: float = 0.0
    #: The spread of those biases between bodies (degrees), part of the setup roll's SD.
    roll_bias_sd_deg: float = 0.0
    #: Added to the hip and knee flexion read off the landmarks (degrees), and their SD.
    hip_flexion_bias_deg: float = 0.0
    knee_flexion_bias_deg: float = 0.0
    flexion_sd_deg: float = 5.0
    #: The opening's gain varies between setups more than one frame's fit can tell (BlazePose's
    #: per-body drift): this share of the opening is added to its SD.
    opening_gain_sd_rel: float = 0.0
    #: How far (share of the body's image size) the points sit from the model's at the setup,
    #: per landmark group: for BlazePose mostly the between-body spread of its offsets.
    setup_noise_rel: dict[str, float] = field(default_factory=lambda: dict(
        hip=0.03, knee=0.02, ankle=0.02, shoulder=0.04, foot=0.03))

    def __post_init__(self) -> None:
        assert tuple(self.priors) == BODY_PARAMS, "a profile's priors are in BODY_PARAMS order"

    def with_knee_pillow(self) -> "LandmarkProfile":
        """The same geometry with a pillow between the knees: the top knee's point rests a
        pillow's thickness higher, known to within the spread of pillows. Straight up, not
        turned along the knee's circle as a joint centre would be: on tuning renders from
        raised cameras that read BlazePose's openings 4-8 deg higher than this (its knee
        points on a pillow are not where the joints' circle puts them)."""
        stacked = self.priors["knee_dz"]
        priors = dict(self.priors)
        priors["knee_dz"] = Prior(stacked.mean + KNEE_PILLOW_M, math.hypot(stacked.sd, KNEE_PILLOW_SD_M))
        return replace(self, name=f"{self.name}+knee-pillow", priors=priors)


#: Each body parameter's prior in each landmark geometry: (BlazePose's, joint centres'), in
#: BODY_PARAMS order, side by side so the two geometries read against each other.
_PRIORS: dict[str, tuple[Prior, Prior]] = {
    # BlazePose: sizes consistent with its ratios below (thigh 0.41 m times each ratio).
    "thigh": (Prior(0.41, 0.05), Prior(0.42, 0.05)),
    "shin": (Prior(0.414, 0.06), Prior(0.41, 0.06)),
    "half_pelvis": (Prior(0.0925, 0.03), Prior(0.09, 0.015)),
    "half_shoulders": (Prior(0.141, 0.04), Prior(0.18, 0.025)),
    "trunk": (Prior(0.51, 0.07), Prior(0.49, 0.06)),
    # The method asks for a little forward roll; BlazePose's hip line reads ~10 deg less.
    "roll0": (Prior(r(0.0), r(15.0)), Prior(r(8.0), r(15.0))),
    # BlazePose's shoulder line reads a little behind its hip line on a lying body.
    "trunk_twist0": (Prior(r(-4.0), r(7.0)), Prior(r(0.0), r(6.0))),
    "shoulder_dy": (Prior(0.003, 0.02), Prior(0.0, 0.03)),
    "shoulder_dz": (Prior(0.075, 0.03), Prior(0.0, 0.04)),
    # BlazePose-point angles read ~7 and ~5 deg under the joint centres' (biases below).
    "hip_flexion": (Prior(r(40.0), r(15.0)), Prior(r(45.0), r(15.0))),
    "knee_flexion": (Prior(r(46.0), r(20.0)), Prior(r(50.0), r(20.0))),
    "thigh_drop": (Prior(r(2.5), r(3.0)), Prior(r(0.0), r(5.0))),
    # Knees and ankles stacked (a pillow between the knees moves the knees apart).
    "knee_dx": (Prior(0.006, 0.015), Prior(0.0, 0.02)),
    "knee_dy": (Prior(-0.01, 0.025), Prior(0.0, 0.03)),
    "knee_dz": (Prior(0.15, 0.04), Prior(0.12, 0.04)),
    "ankle_dx": (Prior(-0.004, 0.015), Prior(0.0, 0.02)),
    "ankle_dy": (Prior(0.0, 0.015), Prior(0.0, 0.02)),
    "ankle_dz": (Prior(0.066, 0.02), Prior(0.07, 0.02)),
}

BLAZEPOSE = LandmarkProfile(
    name="blazepose",
    priors={name: blazepose for name, (blazepose, _) in _PRIORS.items()},
    # 23 tuning sets (benchmarks/measure_priors.py): hip width / thigh 0.451 +- 0.050, shoulder
    # width 0.687 +- 0.075, trunk 1.245 +- 0.078, shin 1.012 +- 0.057.
    ratios=(("shin", 1.01, 0.06), ("half_pelvis", 0.2255, 0.025), ("half_shoulders", 0.344, 0.038),
            ("trunk", 1.245, 0.08)),
    # Joint-centre line minus BlazePose line (LiteRT, full model): hips 13.2 +- 8.2, shoulders
    # 16.9 +- 7.8 deg (MediaPipe's landmarks: 12.3 +- 7.8 and 16.4 +- 7.4).
    hip_line_roll_bias_deg=13.2, shoulder_line_roll_bias_deg=16.9, roll_bias_sd_deg=8.2,
    # Mean of both legs, joint centres minus BlazePose's points: hip 6.5 +- 5.7, knee 4.1 +- 4.3.
    hip_flexion_bias_deg=6.5, knee_flexion_bias_deg=4.1, flexion_sd_deg=5.7,
    # 52 tuning sets: per-set gain (read / true peak opening) log-SD 0.20; a tenth of the opening
    # added kept tuning's 90% intervals at 93% of frames (92% without, 96% with 0.19). Since the
    # setup's own doubt is added too (gain_spread, 0.14-0.8 of the opening), tuning's hold on 96%
    # with or without this tenth; kept for BlazePose's pose-dependent drift, which no setup shows.
    opening_gain_sd_rel=0.10,
)

JOINT_CENTRES = LandmarkProfile(
    name="joint-centres",
    priors={name: centres for name, (_, centres) in _PRIORS.items()},
    ratios=(("shin", 0.97, 0.06), ("half_pelvis", 0.21, 0.02), ("half_shoulders", 0.43, 0.04),
            ("trunk", 1.17, 0.1)),
    flexion_sd_deg=4.0,
    setup_noise_rel=dict(hip=0.005, knee=0.005, ankle=0.005, shoulder=0.005, foot=0.005),
)
