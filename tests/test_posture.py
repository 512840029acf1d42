"""Lying on the side or upright, from the pose model's world landmarks (``posture``)."""

from __future__ import annotations

import numpy as np
import pytest

from clamcoach.posture import posture
from clamcoach.types import BodyFrame, Side
from tests.skeleton import Camera, Pose, pose_frame

#: BlazePose's world depth is compressed: a lying body seen from the feet end reads its trunk
#: about 0.75 as deep as it is (tuning clips from the feet end: 0.59-0.78 for true 0.84-0.97).
DEPTH_SHARE = 0.6


def body(cam: Camera, *, depth: float = DEPTH_SHARE, quarter_turn: int = 0) -> BodyFrame:
    frame = pose_frame(Pose(), cam)
    world = frame.world * np.array([1.0, 1.0, depth])
    if quarter_turn:  # the picture a quarter turn round (+1 head up, -1 head down)
        world = world[:, [1, 0, 2]] * np.array([-quarter_turn, quarter_turn, 1.0])
    return BodyFrame(t=0.0, image=frame.image, world=world, width=frame.width, height=frame.height,
                     top=Side.LEFT, quality=1.0)


@pytest.mark.parametrize("pitch", [20.0, 35.0, 50.0])
def test_a_body_seen_from_its_feet_by_a_raised_camera_lies_although_its_head_is_above_its_hips(pitch):
    post = posture(body(Camera(pitch=pitch, yaw=90.0)))
    assert post.upright > 0.3          # the head is up the picture ...
    assert post.receding >= 0.42       # ... because it is further away
    assert post.side_lying


@pytest.mark.parametrize("pitch", [20.0, 35.0])
def test_a_body_seen_from_its_head_end_by_a_raised_camera_lies(pitch):
    post = posture(body(Camera(pitch=pitch, yaw=-90.0)))
    assert post.receding <= -0.42 and post.side_lying


@pytest.mark.parametrize("turn", [1, -1], ids=["head up", "head down"])
def test_a_body_upright_across_the_line_of_sight_is_not_lying(turn):
    """As a video stored a quarter turn off shows a lying body: ``sideways`` turns it back."""
    post = posture(body(Camera(pitch=0.0), quarter_turn=turn))
    assert post.upright > 0.95 and abs(post.receding) < 0.1
    assert not post.side_lying


def test_from_the_front_the_lying_body_lies():
    post = posture(body(Camera(pitch=10.0)))
    assert abs(post.upright) < 0.3 and post.side_lying
