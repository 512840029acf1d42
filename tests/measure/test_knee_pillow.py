"""A pillow between the knees (the method allows one): from above, the picture does not show
how high the top knee rests, so the patient says so and the prior moves by a pillow; where the
knees-together fit still puts the knee well up, the picture said it, and the stage measures the
set as if the pillow had been declared (``knee_pillow_seen``)."""

import dataclasses
import math

import numpy as np
import pytest
from scipy.optimize import brentq

from clamcoach.measure.landmarks import landmark_indices
from clamcoach.measure.model import J, BodyModel, RestBody
from clamcoach.measure.profiles import BLAZEPOSE, KNEE_PILLOW_M, KNEE_PILLOW_SD_M
from clamcoach.measure.stage import MeasureParams, MeasureStage, StageState
from clamcoach.types import BodyFrame, Side
from tests.measure.helpers import camera_at, landmarks, prior_rest

def resting_on_a_pillow(stacked: RestBody, thickness: float) -> RestBody:
    """The stacked body with its top knee turned up its circle until the knees are a pillow's
    thickness further apart (as the renderer places a knee on a pillow)."""
    model = BodyModel(stacked)

    def knee(a: float) -> np.ndarray:
        return model.joints(np.array([[0.0, 0.0, a, 0.0]]))[0, J["top_knee"]]

    gap0 = np.linalg.norm(stacked.top_knee - stacked.bottom_knee)
    a = brentq(lambda a: np.linalg.norm(knee(a) - stacked.bottom_knee) - gap0 - thickness, 0.0, 1.5)
    return dataclasses.replace(stacked, top_knee=knee(a))


STACKED = prior_rest()
ON_PILLOW = resting_on_a_pillow(STACKED, KNEE_PILLOW_M)
PILLOW_HEIGHT = float(ON_PILLOW.top_knee[2] - ON_PILLOW.bottom_knee[2])


def frame(points: np.ndarray, t: float, width: int = 640, height: int = 480) -> BodyFrame:
    image = np.full((33, 3), np.nan)
    image[landmark_indices(Side.RIGHT), :2] = points
    image[landmark_indices(Side.RIGHT), 2] = 1.0
    return BodyFrame(t=t, image=image, world=np.zeros((33, 3)), width=width, height=height,
                     top=Side.RIGHT, quality=1.0)


#: The stage that measures only what the patient declared, never a pillow it saw.
UNSEEING = MeasureParams(pillow_seen_above_m=math.inf)


def opening_read(elevation: float, declared: bool, opening_deg: float = 25.0, body: RestBody = ON_PILLOW,
                 params: MeasureParams = UNSEEING) -> tuple[MeasureStage, float]:
    """The stage's opening at the top of one rep of a body (by default resting its knee on a
    pillow)."""
    cam = camera_at(elevation, 10.0, rest=body)
    stage = MeasureStage(params=params, focal_px=cam.fx, knee_pillow=declared)
    fps = 30
    t = 0.0
    for _ in range(fps):  # a second at rest: the setup
        stage.push(frame(landmarks(body, cam), t))
        t += 1 / fps
    assert stage.state is StageState.TRACKING
    kin = None
    for a in np.linspace(0.0, opening_deg, fps):  # up in a second
        kin = stage.push(frame(landmarks(body, cam, (0.0, 0.0, math.radians(a), 0.0)), t))
        t += 1 / fps
    assert kin is not None
    # These landmarks are the model's own points, so they turn on the landmarks' circle: read
    # the turn there (the stage reports the joints' turn, test_opening_scale.py).
    return stage, kin.opening_deg / stage._opening_scale


def rest_knee_height(stage: MeasureStage) -> float:
    rest = stage.setup.rest
    return float(rest.top_knee[2] - rest.bottom_knee[2])


def test_the_pillow_raises_the_rest_knees_prior_by_a_pillow_and_widens_it_by_the_pillows_spread():
    pillow = BLAZEPOSE.with_knee_pillow()
    stacked = BLAZEPOSE.priors["knee_dz"]
    assert pillow.priors["knee_dz"].mean == pytest.approx(stacked.mean + KNEE_PILLOW_M)
    assert pillow.priors["knee_dz"].sd == pytest.approx(math.hypot(stacked.sd, KNEE_PILLOW_SD_M))
    assert {k: v for k, v in pillow.priors.items() if k != "knee_dz"} == \
        {k: v for k, v in BLAZEPOSE.priors.items() if k != "knee_dz"}


def test_from_above_a_declared_pillow_reads_the_opening_from_the_pillow():
    """Undeclared, the fit rests the knee near the stacked prior and the knee's circle starts
    too low: the same picture then needs a larger turn (read several degrees high)."""
    declared, with_pillow = opening_read(70.0, declared=True)
    undeclared, without = opening_read(70.0, declared=False)
    assert rest_knee_height(declared) == pytest.approx(PILLOW_HEIGHT, abs=0.03)
    assert rest_knee_height(undeclared) < PILLOW_HEIGHT - 0.05
    assert with_pillow == pytest.approx(25.0, abs=2.5)
    assert without - 25.0 > 5.0


def test_from_a_low_camera_the_knees_gap_is_in_the_picture_and_the_declaration_changes_nothing():
    declared, with_pillow = opening_read(15.0, declared=True)
    undeclared, without = opening_read(15.0, declared=False)
    assert rest_knee_height(declared) == pytest.approx(rest_knee_height(undeclared), abs=1e-9)
    assert with_pillow == pytest.approx(without, abs=1e-9)


@pytest.mark.parametrize("elevation", [15.0, 45.0, 70.0])
def test_knees_resting_a_pillow_apart_are_seen_and_measured_as_if_the_pillow_were_declared(elevation):
    seeing = MeasureParams()
    seen, read = opening_read(elevation, declared=False, params=seeing)
    declared, declared_read = opening_read(elevation, declared=True, params=seeing)
    assert seen.knee_pillow_seen is True and declared.knee_pillow_seen is False  # declared: nothing to see
    assert rest_knee_height(seen) == pytest.approx(rest_knee_height(declared), abs=1e-9)
    assert read == pytest.approx(declared_read, abs=1e-9)
    if elevation >= seeing.pillow_min_elevation_deg:  # where the pillow's prior is used at all
        assert read == pytest.approx(25.0, abs=2.5)


@pytest.mark.parametrize("elevation", [15.0, 45.0, 70.0])
def test_knees_together_are_not_taken_for_a_pillow(elevation):
    stage, read = opening_read(elevation, declared=False, body=STACKED, params=MeasureParams())
    assert stage.knee_pillow_seen is False
    assert read == pytest.approx(25.0, abs=2.5)


def test_a_pillow_is_not_looked_for_from_the_feet_end():
    # From the feet or the head end BlazePose squeezes the left-right pairs: the knees' height
    # apart read there says nothing about a pillow (tuning: 0.119-0.172 m either way).
    cam = camera_at(20.0, 80.0, rest=ON_PILLOW)
    stage = MeasureStage(focal_px=cam.fx)
    t = 0.0
    for _ in range(30):
        stage.push(frame(landmarks(ON_PILLOW, cam), t))
        t += 1 / 30
    assert stage.state is StageState.TRACKING
    assert stage.knee_pillow_seen is False
