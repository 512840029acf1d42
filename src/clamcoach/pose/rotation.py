"""Map a pose found in a frame turned by quarter turns back onto the original frame."""

from __future__ import annotations

import numpy as np

from clamcoach.types import PoseFrame


def unrotate(pose: PoseFrame, quarter_turns: int, width: int, height: int) -> PoseFrame:
    """Map a pose found in ``np.rot90(frame, quarter_turns)`` back to the (width x height) frame.

    The world landmarks are camera-aligned, so their x/y axes turn with the image too.
    """
    xr, yr = pose.image[:, 0], pose.image[:, 1]
    wx, wy = pose.world[:, 0], pose.world[:, 1]
    if quarter_turns == 1:  # the frame was turned counter-clockwise
        x, y = width - yr, xr
        world_x, world_y = -wy, wx
    elif quarter_turns == 3:  # clockwise
        x, y = yr, height - xr
        world_x, world_y = wy, -wx
    else:
        raise ValueError(f"quarter_turns must be 1 or 3, got {quarter_turns}")
    image = np.column_stack([x, y, pose.image[:, 2]])
    world = np.column_stack([world_x, world_y, pose.world[:, 2]])
    return PoseFrame(t=pose.t, image=image, world=world, width=width, height=height,
                     presence=pose.presence)
