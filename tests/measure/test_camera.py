"""The pinhole camera seen from the body."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clamcoach.measure.camera import focal_from_35mm, focal_from_hfov, rodrigues, rotation_vector
from tests.measure.helpers import camera_at, prior_rest

vectors = st.tuples(st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3)).map(np.array)


@settings(max_examples=80, deadline=None)
@given(vectors)
def test_rotation_vectors_round_trip(v):
    R = rodrigues(v)
    assert np.allclose(R @ R.T, np.eye(3), atol=1e-9) and np.linalg.det(R) == pytest.approx(1.0)
    assert np.allclose(rodrigues(rotation_vector(R)), R, atol=1e-6)


@pytest.mark.parametrize("elev, azim", [(0, 0), (35, 0), (35, 30), (80, -20), (20, -90)])
def test_a_camera_knows_where_it_stands(elev, azim):
    rest = prior_rest()
    cam = camera_at(elev, azim, rest=rest)
    target = rest.points().mean(axis=0)
    assert cam.elevation_deg(target) == pytest.approx(elev, abs=1e-6)
    assert cam.azimuth_deg(target) == pytest.approx(azim, abs=1e-6)
    # ... and sees the body in the middle of the picture.
    assert np.allclose(cam.project(target[None])[0], (cam.cx, cam.cy), atol=1e-6)


@pytest.mark.parametrize("azim", [0, 30, -40])
def test_a_mirrored_body_is_seen_as_the_mirror_image(azim):
    """A person lying on the right side is the mirror image of one on the left: the camera
    placed the same way round each sees pictures that are mirror images left to right."""
    rest = prior_rest()
    pts = rest.points()
    plain = camera_at(35, azim, rest=rest)
    mirrored = camera_at(35, azim, rest=rest, mirrored=True)
    a, b = plain.project(pts), mirrored.project(pts)
    assert np.allclose(a[:, 0] - plain.cx, -(b[:, 0] - mirrored.cx), atol=1e-6)
    assert np.allclose(a[:, 1], b[:, 1], atol=1e-6)


def test_focal_lengths():
    assert focal_from_hfov(640, 90.0) == pytest.approx(320.0)
    # A 43.27 mm equivalent lens has a diagonal field of view of 2*atan(0.5) = 53.1 deg.
    f = focal_from_35mm(640, 480, 43.27)
    assert math.degrees(2 * math.atan(400 / f)) == pytest.approx(53.13, abs=0.01)


@pytest.mark.parametrize("width, hfov, f", [(640, 60.0, 320.0 * math.sqrt(3)), (1920, 120.0, 960.0 / math.sqrt(3)),
                                            (1000, 2 * math.degrees(math.atan(0.25)), 2000.0)])
def test_the_focal_length_of_a_field_of_view_in_closed_form(width, hfov, f):
    # half the width over the tangent of half the angle
    assert focal_from_hfov(width, hfov) == pytest.approx(f, rel=1e-12)


def test_without_a_target_a_camera_places_itself_about_the_body_frames_origin():
    import numpy as np

    cam = camera_at(35, 20)
    assert cam.elevation_deg() == cam.elevation_deg(np.zeros(3))
    assert cam.azimuth_deg() == cam.azimuth_deg(np.zeros(3))
    # the origin (the bottom hip) is off the body's middle that camera_at aims at
    assert cam.elevation_deg() != pytest.approx(35, abs=0.5)


def test_rotation_vectors_in_closed_form_including_half_turns():
    import numpy as np

    # a quarter turn about x takes y to z; half a radian about z is the plane rotation
    assert np.allclose(rodrigues(np.array([math.pi / 2, 0.0, 0.0])) @ [0.0, 1.0, 0.0], [0.0, 0.0, 1.0])
    c, s = math.cos(0.5), math.sin(0.5)
    assert np.allclose(rodrigues(np.array([0.0, 0.0, 0.5])), [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    assert np.array_equal(rotation_vector(np.eye(3)), np.zeros(3))
    # half turns: the axis comes from the symmetric part (the usual formula divides by sin pi)
    for axis in ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [1.0, -2.0, 2.0]):
        k = np.array(axis) / np.linalg.norm(axis)
        R = 2.0 * np.outer(k, k) - np.eye(3)        # a half turn about k, exactly
        v = rotation_vector(R)
        assert np.linalg.norm(v) == pytest.approx(math.pi, abs=1e-9)
        assert abs(float(v @ k)) == pytest.approx(math.pi, abs=1e-9)   # along the axis, either way
        assert np.allclose(rodrigues(v), R, atol=1e-9)


def test_a_point_close_to_the_camera_projects_by_the_pinhole():
    import numpy as np

    from clamcoach.measure.camera import Camera

    cam = Camera(R=np.eye(3), t=np.zeros(3), fx=500.0, fy=400.0, cx=320.0, cy=240.0)
    assert np.allclose(cam.project(np.array([[0.1, 0.2, 0.5], [0.3, -0.3, 3.0]])),
                       [[320.0 + 100.0, 240.0 + 160.0], [320.0 + 50.0, 240.0 - 40.0]], atol=1e-9)
