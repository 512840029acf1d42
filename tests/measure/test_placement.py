"""A placement's coarse view name (for tables and the report) from the camera's angles."""

import pytest

from clamcoach.measure.placement import CameraMove, Placement


def placement(elev, azim):
    return Placement(elevation_deg=elev, azimuth_deg=azim, roll_sd_deg=2.0, opening_sd_deg=1.0,
                     move=CameraMove.NONE, roll_sd_after_move_deg=2.0)


@pytest.mark.parametrize("elev, azim, view", [
    (35, 0, "oblique"), (20, 0, "oblique"), (19, 0, "front"), (-5, 10, "front"),
    (60, 0, "overhead"), (59, 0, "oblique"), (80, 45, "overhead"),
    (30, -90, "feet"), (30, -51, "feet"), (30, -50, "oblique"), (30, 90, "head"), (30, 129, "head"),
    (30, 130, "oblique"), (70, 60, "head"),
])
def test_view_names(elev, azim, view):
    assert placement(elev, azim).view == view


@pytest.mark.parametrize("mirrored", [False, True])
@pytest.mark.parametrize("d_elev, d_azim, elev, azim", [
    (20.0, -30.0, 55.0, -20.0), (-10.0, 45.0, 25.0, 55.0),
    (70.0, 0.0, 85.0, 10.0),     # no higher than 85 deg (straight down loses the body's depth)
    (-60.0, 0.0, -5.0, 10.0),    # no lower than 5 deg under the table's plane
])
def test_a_moved_camera_goes_round_the_body_on_its_sphere_and_still_looks_at_it(mirrored, d_elev, d_azim, elev, azim):
    import numpy as np

    from clamcoach.measure.placement import moved
    from tests.measure.helpers import camera_at, prior_rest

    target = prior_rest().points().mean(axis=0)
    cam = camera_at(35.0, 10.0, mirrored=mirrored)
    new = moved(cam, target, d_elev, d_azim)
    assert new.elevation_deg(target) == pytest.approx(elev, abs=1e-9)
    assert new.azimuth_deg(target) == pytest.approx(azim, abs=1e-9)
    assert np.linalg.norm(new.centre_body - target) == pytest.approx(np.linalg.norm(cam.centre_body - target), rel=1e-12)
    assert np.allclose(new.project(target[None])[0], (cam.cx, cam.cy), atol=1e-6)
    assert new.mirrored is mirrored and (new.fx, new.cx, new.cy) == (cam.fx, cam.cx, cam.cy)
    # the same camera as one placed there from the start
    there = camera_at(elev, azim, mirrored=mirrored)
    assert np.allclose(new.R, there.R, atol=1e-9) and np.allclose(new.t, there.t, atol=1e-9)
