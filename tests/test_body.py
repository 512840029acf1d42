import numpy as np
import pytest

from clamcoach.body import BodyTracker, select_person
from clamcoach.types import LM, Side
from skeleton import Camera, Pose, pose_frame


def _run(frames):
    bt = BodyTracker()
    out = [bt.push(f) for f in frames]
    return bt, out


@pytest.mark.parametrize("top", ["left", "right"])
@pytest.mark.parametrize("pitch", [0.0, 35.0, 80.0])
def test_top_side_by_geometry(top, pitch):
    frames = [pose_frame(Pose(opening=5.0 * (i % 4)), Camera(pitch=pitch), t=i / 30, top=top) for i in range(20)]
    bt, out = _run(frames)
    assert bt.top_side is Side(top)
    assert all(b is not None and b.top is Side(top) for b in out)


@pytest.mark.parametrize("top", ["left", "right"])
def test_label_swaps_are_undone(top):
    """The model swaps left/right labels on some frames: the body stage must not care."""
    rng = np.random.default_rng(1)
    frames = [pose_frame(Pose(opening=20.0), Camera(pitch=35), t=i / 30, top=top, swap=bool(rng.random() < 0.4))
              for i in range(30)]
    _, out = _run(frames)
    ref = pose_frame(Pose(opening=20.0), Camera(pitch=35), top=top)
    knee = LM[f"{top}_knee"]
    for b in out:
        assert np.allclose(b.world[knee], ref.world[knee], atol=1e-6)


def test_unusable_frame_is_a_gap_not_zeros():
    f = pose_frame(Pose(), Camera(), visibility=0.1)
    bt = BodyTracker()
    assert bt.push(f) is None
    assert bt.push(None) is None


def test_exerciser_is_chosen_among_several_people():
    lying = pose_frame(Pose(), Camera(pitch=35))
    # A "standing" person: the same landmarks turned 90 degrees in the image (long axis vertical).
    img = lying.image.copy()
    cx, cy = 100.0, 100.0
    img[:, 0], img[:, 1] = cx + (lying.image[:, 1] - cy) * 0.5, cy + (lying.image[:, 0] - cx) * 0.5
    standing = type(lying)(t=0, image=img, world=lying.world, width=lying.width, height=lying.height)
    assert select_person([standing, lying], None) is lying
    # Once tracked, the nearest to the tracked hips wins even if the other lies down too.
    hip = (lying.image[LM["left_hip"], :2] + lying.image[LM["right_hip"], :2]) / 2
    assert select_person([standing, lying], hip) is lying
