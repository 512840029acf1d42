"""The opening is the knee joint's turn, read through landmarks that keep constant offsets from
the joints: their geometry bends the knee less (the profile's knee-flexion bias), so its circle
is smaller than the joints', and the landmark moves as far as the joint does."""

import dataclasses
import math

import numpy as np
import pytest

from clamcoach.measure.landmarks import landmark_indices
from clamcoach.measure.profiles import BLAZEPOSE, BODY_PARAMS, JOINT_CENTRES
from clamcoach.measure.setup_fit import rest_from_params
from clamcoach.measure.stage import MeasureStage, StageState, joint_circle_scale
from clamcoach.types import BodyFrame, Side
from tests.measure.helpers import camera_at, landmarks

MEANS = np.array([BLAZEPOSE.priors[n].mean for n in BODY_PARAMS])
LANDMARK_BODY = rest_from_params(MEANS)
bent = MEANS.copy()
bent[BODY_PARAMS.index("knee_flexion")] += math.radians(BLAZEPOSE.knee_flexion_bias_deg)
JOINT_BODY = rest_from_params(bent)


def frame(points: np.ndarray, t: float) -> BodyFrame:
    image = np.full((33, 3), np.nan)
    image[landmark_indices(Side.RIGHT), :2] = points
    image[landmark_indices(Side.RIGHT), 2] = 1.0
    return BodyFrame(t=t, image=image, world=np.zeros((33, 3)), width=640, height=480, top=Side.RIGHT, quality=1.0)


def opening_read(profile, elevation: float, opening_deg: float = 30.0) -> tuple[MeasureStage, float]:
    """The joints turn the knee ``opening_deg``; the landmarks are the landmark body at rest
    plus the joints' movement in the picture (constant offsets)."""
    cam = camera_at(elevation, 15.0, rest=LANDMARK_BODY)
    offsets = landmarks(LANDMARK_BODY, cam) - landmarks(JOINT_BODY, cam)
    stage = MeasureStage(focal_px=cam.fx, profile=profile)
    t, kin = 0.0, None
    for a in [0.0] * 30 + list(np.linspace(0.0, opening_deg, 30)):
        kin = stage.push(frame(landmarks(JOINT_BODY, cam, (0.0, 0.0, math.radians(a), 0.0)) + offsets, t))
        t += 1 / 30
    assert stage.state is StageState.TRACKING and kin is not None
    return stage, kin.opening_deg


@pytest.mark.parametrize("elevation", [35.0, 60.0])
def test_the_joints_turn_is_read_through_landmarks_whose_geometry_bends_the_knee_less(elevation):
    stage, opening = opening_read(BLAZEPOSE, elevation)
    assert opening == pytest.approx(30.0, abs=2.0)
    # Without the joints' circle the same picture reads the landmarks' own, smaller circle.
    unscaled = opening / stage._opening_scale
    assert unscaled - 30.0 > 2.0


def test_the_scale_is_the_ratio_of_the_two_circles_and_one_for_joint_centre_landmarks():
    stage, _ = opening_read(BLAZEPOSE, 35.0)
    assert 0.85 < joint_circle_scale(stage.setup, BLAZEPOSE) < 0.97
    assert joint_circle_scale(stage.setup, JOINT_CENTRES) == 1.0
    straighter = dataclasses.replace(BLAZEPOSE, knee_flexion_bias_deg=0.0)
    assert joint_circle_scale(stage.setup, straighter) == 1.0
