"""Which BlazePose landmarks the body model is fitted to, by top and bottom side."""

import math

import numpy as np

from clamcoach.measure.landmarks import ANCHOR, ATTACHED, GROUP_OF, N_POINTS, POINTS, landmark_indices, observe
from clamcoach.measure.model import J
from clamcoach.types import LM, Side


def test_the_top_side_picks_the_landmarks_of_that_side():
    left_top = dict(zip(POINTS, landmark_indices(Side.LEFT)))
    assert left_top["top_hip"] == LM["left_hip"] and left_top["bottom_hip"] == LM["right_hip"]
    assert left_top["top_toe"] == LM["left_foot_index"] and left_top["bottom_heel"] == LM["right_heel"]
    assert left_top["top_shoulder"] == LM["left_shoulder"]
    right_top = dict(zip(POINTS, landmark_indices(Side.RIGHT)))
    assert right_top["top_knee"] == LM["right_knee"] and right_top["bottom_ankle"] == LM["left_ankle"]
    assert len(set(left_top.values())) == N_POINTS == 12


def test_foot_points_hang_on_their_ankles():
    anchor = dict(zip(POINTS, ANCHOR))
    assert anchor["top_heel"] == anchor["top_toe"] == J["top_ankle"]
    assert anchor["bottom_heel"] == anchor["bottom_toe"] == J["bottom_ankle"]
    assert [POINTS[i] for i in ATTACHED] == ["bottom_heel", "top_heel", "bottom_toe", "top_toe"]
    assert dict(zip(POINTS, GROUP_OF))["top_toe"] == "foot" and GROUP_OF[:2] == ("hip", "hip")


def test_observe_gives_pixels_and_visibility_with_unseen_points_at_zero():
    image = np.full((33, 3), math.nan)
    image[LM["left_hip"]] = (100.0, 200.0, 0.9)
    image[LM["right_knee"]] = (150.0, 250.0, math.nan)
    pts, vis = observe(image, Side.LEFT)
    order = dict(zip(POINTS, range(N_POINTS)))
    assert pts.shape == (12, 2) and vis.shape == (12,)
    assert tuple(pts[order["top_hip"]]) == (100.0, 200.0) and vis[order["top_hip"]] == 0.9
    assert tuple(pts[order["bottom_knee"]]) == (150.0, 250.0) and vis[order["bottom_knee"]] == 0.0
    assert np.isnan(pts[order["top_knee"]]).all() and vis[order["top_knee"]] == 0.0


def test_a_profile_must_list_its_priors_in_parameter_order():
    import dataclasses

    import pytest

    from clamcoach.measure.profiles import BLAZEPOSE

    shuffled = dict(reversed(list(BLAZEPOSE.priors.items())))
    with pytest.raises(AssertionError, match=r"^a profile's priors are in BODY_PARAMS order$"):
        dataclasses.replace(BLAZEPOSE, priors=shuffled)
    assert dataclasses.replace(BLAZEPOSE, name="copy").priors == BLAZEPOSE.priors
