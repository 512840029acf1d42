"""The body model: exact laws of its degrees of freedom."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.measure.model import J, BodyModel, hip_flexion_deg, knee_flexion_deg, rot_x
from tests.measure.helpers import prior_rest

REST = prior_rest()
MODEL = BodyModel(REST)
rad = math.radians

poses = st.tuples(st.floats(-40, 25), st.floats(-10, 10), st.floats(-20, 90), st.floats(-5, 35)).map(
    lambda p: np.radians(p))


def test_a_zero_pose_is_the_rest_body():
    assert np.allclose(MODEL.joints(np.zeros((1, 4)))[0], REST.points(), atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(poses)
def test_every_pose_keeps_the_legs_lengths_and_the_bottom_side_on_the_table(pose):
    X = MODEL.joints(pose[None])[0]
    assert np.linalg.norm(X[J["top_knee"]] - X[J["top_hip"]]) == pytest.approx(MODEL.l1, abs=1e-6)
    assert np.linalg.norm(X[J["top_ankle"]] - X[J["top_knee"]]) == pytest.approx(MODEL.l2, abs=1e-6)
    # The bottom leg and the roll's pivot (the bottom hip) never move.
    for name in ("bottom_hip", "bottom_knee", "bottom_ankle"):
        assert np.allclose(X[J[name]], REST.points()[J[name]], atol=1e-12)
    # The pelvis and trunk turn rigidly: the hip line keeps its length.
    assert np.linalg.norm(X[J["top_hip"]]) == pytest.approx(np.linalg.norm(REST.top_hip), abs=1e-9)


def test_a_roll_back_turns_the_top_hip_backward_by_its_angle():
    X = MODEL.joints(np.radians([[-15.0, 0, 0, 0]]))[0]
    before, after = REST.top_hip, X[J["top_hip"]]
    turned = math.degrees(math.atan2(-after[1], after[2]) - math.atan2(-before[1], before[2]))
    assert turned == pytest.approx(-15.0, abs=1e-6)
    assert after[1] > before[1]  # backward is +y


def test_the_opening_turns_the_knee_up_about_the_hinge_and_the_feet_stay():
    X = MODEL.joints(np.radians([[0, 0, 30.0, 0]]))[0]
    assert np.allclose(X[J["top_ankle"]], REST.top_ankle, atol=1e-12)
    assert X[J["top_knee"]][2] > REST.top_knee[2] + 0.05
    hip, ankle = X[J["top_hip"]], X[J["top_ankle"]]
    a = (ankle - hip) / np.linalg.norm(ankle - hip)
    u, v = REST.top_knee - hip, X[J["top_knee"]] - hip
    u, v = u - a * (u @ a), v - a * (v @ a)
    assert math.degrees(math.acos(u @ v / np.linalg.norm(u) / np.linalg.norm(v))) == pytest.approx(30.0, abs=1e-6)


def test_abduction_lifts_the_ankle_off_the_bottom_one():
    X = MODEL.joints(np.radians([[0, 0, 0, 15.0]]))[0]
    gap0 = np.linalg.norm(REST.top_ankle - REST.bottom_ankle)
    assert np.linalg.norm(X[J["top_ankle"]] - X[J["bottom_ankle"]]) > gap0 + 0.08
    assert X[J["top_ankle"]][2] > REST.top_ankle[2]


def test_flexion_angles_in_closed_form():
    hip, knee, ankle = np.zeros(3), np.array([-0.3, -0.3, 0.0]), np.array([-0.3, -0.3, 0.0]) + np.array([-0.4, 0, 0])
    assert hip_flexion_deg(hip, knee, np.array([0, 0, 1.0]), 0.0) == pytest.approx(45.0)
    assert knee_flexion_deg(hip, knee, ankle) == pytest.approx(45.0)


@settings(max_examples=60, deadline=None)
@given(poses)
def test_with_the_feet_together_the_knee_opening_is_the_opening_degree_of_freedom(pose):
    pose = pose.copy()
    pose[3] = 0.0
    assert MODEL.knee_opening(pose[None])[0] == pytest.approx(pose[2], abs=1e-9)


def test_feet_apart_raise_the_knee_opening_with_the_leg():
    """Abduction carries the knee up off the other knee: the knee opening (from knees together)
    grows with it, though the opening about the lifted leg's hip-ankle line stays 0."""
    abductions = np.radians([0.0, 5.0, 10.0, 20.0])
    openings = MODEL.knee_opening(np.array([[0.0, 0.0, 0.0, a] for a in abductions]))
    assert openings[0] == pytest.approx(0.0, abs=1e-9)
    assert np.all(np.diff(openings) > 0) and openings[-1] > rad(20)


rolls = st.floats(-40, 40)
flexions = st.floats(-30, 120)
points = st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1)).map(np.array)


@settings(max_examples=60, deadline=None)
@given(rolls, flexions, points, st.floats(0.2, 0.6))
def test_hip_flexion_is_the_thighs_angle_in_the_rolled_pelvis_sagittal_plane(roll_deg, flex_deg, hip, length):
    """A thigh at ``flex`` from the pelvis' downward axis (-x) toward its front (-y rolled by
    ``roll``) reads ``flex`` wherever the hip is and however far the pelvis rolled."""
    roll, flex = rad(roll_deg), rad(flex_deg)
    R = rot_x(np.array([roll]))[0]
    front, lateral = R @ np.array([0.0, -1.0, 0.0]), R @ np.array([0.0, 0.0, 1.0])
    knee = hip + length * (math.cos(flex) * np.array([-1.0, 0.0, 0.0]) + math.sin(flex) * front)
    # a thigh off the sagittal plane (along the hip line) reads the same: only its projection counts
    assert hip_flexion_deg(hip, knee + 0.1 * lateral, lateral, roll) == pytest.approx(flex_deg, abs=1e-7)


def test_hip_flexion_measures_the_projection_on_the_plane_square_to_a_tilted_hip_line():
    # The hip line tilted 30 deg toward the back; the thigh square to it, down and forward:
    # its forward part is cos 30 in the plane, so it reads atan(cos 30) = 40.89 deg.
    s, c = math.sin(rad(30)), math.cos(rad(30))
    thigh, lateral = np.array([-1.0, -c, s]), np.array([0.0, s, c])
    assert hip_flexion_deg(np.zeros(3), thigh, lateral, 0.0) == pytest.approx(math.degrees(math.atan(c)), abs=1e-9)
    # a part along the hip line is no part of the flexion
    assert hip_flexion_deg(np.zeros(3), thigh + 0.3 * lateral, lateral, 0.0) == pytest.approx(
        math.degrees(math.atan(c)), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 180), points, st.floats(0.2, 0.6), st.floats(0.2, 0.6))
def test_knee_flexion_is_180_minus_the_inside_angle(inside_deg, knee, thigh, shin):
    a = rad(inside_deg)
    hip = knee + thigh * np.array([1.0, 0.0, 0.0])
    ankle = knee + shin * np.array([math.cos(a), math.sin(a), 0.0])
    # (1e-3: the 1e-12 guard on the norms costs ~2e-4 deg next to a straight or folded knee)
    assert knee_flexion_deg(hip, knee, ankle) == pytest.approx(180.0 - inside_deg, abs=1e-3)


def test_rot_x_turns_up_toward_the_front_by_its_angle():
    R = rot_x(np.radians([0.0, 90.0, 30.0]))
    assert np.allclose(R[0], np.eye(3))
    assert np.allclose(R[1] @ np.array([0.0, 0.0, 1.0]), [0.0, -1.0, 0.0])   # +z toward -y
    assert np.allclose(R[2] @ np.array([0.0, 1.0, 0.0]), [0.0, math.cos(rad(30)), math.sin(rad(30))])
    assert np.allclose(R[2] @ np.array([5.0, 0.0, 0.0]), [5.0, 0.0, 0.0])     # x is the axis


@settings(max_examples=40, deadline=None)
@given(st.floats(-20, 90))
def test_the_knee_opening_is_the_opening_dof_with_the_feet_together(opening_deg):
    pose = np.radians([[0.0, 0.0, opening_deg, 0.0]])
    assert math.degrees(MODEL.knee_opening(pose)[0]) == pytest.approx(opening_deg, abs=1e-6)
    # ... and with the pelvis rolled too (the circle moves with the hip, the opening does not)
    rolled = np.radians([[-15.0, 3.0, opening_deg, 0.0]])
    assert math.degrees(MODEL.knee_opening(rolled)[0]) == pytest.approx(opening_deg, abs=1e-6)


@pytest.mark.parametrize("changes", [{}, {"hip_flexion": rad(-30.0)}, {"hip_flexion": rad(120.0)},
                                     {"knee_flexion": rad(150.0)}, {"roll0": rad(60.0)}])
def test_a_model_of_any_rest_body_opens_the_knee_up_and_abducts_the_leg_up_in_its_own_plane(changes):
    """Built here (not at import), for rest bodies whose legs point different ways: a positive
    opening raises the top knee, a positive abduction raises the top ankle, and abduction turns
    the leg about a horizontal axis square to it, so the leg keeps its direction seen from above."""
    rest = prior_rest(**changes)
    model = BodyModel(rest)
    opened, abducted = model.joints(np.radians([[0.0, 0.0, 20.0, 0.0], [0.0, 0.0, 0.0, 15.0]]))
    assert opened[J["top_knee"]][2] > rest.top_knee[2] + 0.02
    assert abducted[J["top_ankle"]][2] > rest.top_ankle[2] + 0.05
    before = rest.top_ankle - rest.top_hip
    after = abducted[J["top_ankle"]] - abducted[J["top_hip"]]
    assert math.atan2(after[1], after[0]) == pytest.approx(math.atan2(before[1], before[0]), abs=1e-9)
    assert np.linalg.norm(after) == pytest.approx(np.linalg.norm(before), rel=1e-12)


def test_the_trunk_twist_turns_the_shoulders_on_from_the_pelvis_roll():
    """Shoulders turn by roll + twist about the long axis, the pelvis by the roll alone."""
    X = MODEL.joints(np.radians([[5.0, 10.0, 0.0, 0.0]]))[0]

    def turned(point, rest_point):
        return math.degrees(math.atan2(-point[1], point[2]) - math.atan2(-rest_point[1], rest_point[2]))

    assert turned(X[J["top_shoulder"]], REST.top_shoulder) == pytest.approx(15.0, abs=1e-9)
    assert turned(X[J["top_hip"]], REST.top_hip) == pytest.approx(5.0, abs=1e-9)
