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
