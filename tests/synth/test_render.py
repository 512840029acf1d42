"""A few-frame render: the mp4 decodes and the person is in the picture (slow: renderer)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_few_frame_render(synth_body, tmp_path):
    pytest.importorskip("pyrender")
    from clamcoach.synth.render import SetSpec, render_set
    from clamcoach.synth.video import read_frames

    spec = SetSpec(reps=1, views=("front", "overhead"), width=160, height=120, fps=10.0, seed=4,
                   tempo=(0.4, 0.2, 0.4, 0.1), side="right", nominal_cameras=True)
    docs, r = render_set(spec, tmp_path / "s.mp4")
    for view in ("front", "overhead"):
        mp4 = tmp_path / f"s_{view}.mp4"
        doc = json.loads((tmp_path / f"s_{view}.json").read_text())
        frames = read_frames(mp4)
        assert len(frames) == doc["n_frames"] == r.n_frames
        assert frames[0].shape == (120, 160, 3)
        assert doc["camera"]["view"] == view and doc["setup"]["side_lying_on"] == "right"
        # the person's pixels: around the visible hip/knee projections the image is not the
        # empty scene's colour
        empty = _empty_scene(r, doc, view)
        f = frames[len(frames) // 2].astype(int)
        diff = np.abs(f - empty.astype(int)).sum(axis=2) > 40
        assert diff.mean() > 0.03, diff.mean()
        names = doc["joints2d_names"]
        j = doc["frames"][len(frames) // 2]["joints2d"]
        hits = 0
        for n in ("left_hip", "right_hip", "left_knee", "right_knee", "left_shoulder", "right_shoulder"):
            x, y, vis = j[names.index(n)]
            if vis:
                xi, yi = int(round(x)), int(round(y))
                hits += int(diff[max(0, yi - 2):yi + 3, max(0, xi - 2):xi + 3].any())
        assert hits >= 3


def _empty_scene(r, doc, view):
    from clamcoach.synth.scene import Stage

    cams = r.cameras((view,), *[r.pose_frame(0.0)[2]] * 2)
    st = Stage(r.room, r.setup.mat_top, 0.0, r.poser.pillow, 160, 120, mirror=r.mirror)
    try:
        v = r.pose_frame(0.0)[2] - [0, 0, 50.0]  # the body far below the floor
        st.set_body(v, r.faces, r.normals(v), r.colours)
        rgb, _ = st.render(cams[view])
    finally:
        st.close()
    return rgb


def test_lesson_renders(synth_body, tmp_path):
    pytest.importorskip("pyrender")
    from clamcoach.synth.lesson import render_lesson
    from clamcoach.synth.video import read_frames

    out = tmp_path / "lesson.mp4"
    seconds = render_lesson(str(out), width=320, height=240, fps=1.0)
    frames = read_frames(out)
    assert 40 <= seconds <= 70 and len(frames) == round(seconds)
    assert frames[0].shape == (240, 320, 3)


def test_few_frame_render_of_a_drawn_set(synth_body, tmp_path):
    """A set drawn from the shifted ranges (bed, pillow, loose clothes, hand on the thigh, a lens)
    renders, and its ground truth matches the video."""
    pytest.importorskip("pyrender")
    from clamcoach.synth.make_sets import SHIFTED_RANGES
    from clamcoach.synth.ranges import draw_set
    from clamcoach.synth.render import SetSpec, render_set
    from clamcoach.synth.video import read_frames

    d = draw_set(SHIFTED_RANGES, 5, {"resolution": (160, 120), "n_cameras": 2})
    d.spec["shape"] = synth_body.shape  # the session's body (building another takes a while)
    spec = SetSpec(reps=1, seed=5, tempo=(0.4, 0.2, 0.4, 0.1), side="left", **d.spec)
    spec.fps = 8.0
    docs, r = render_set(spec, tmp_path / "s.mp4")
    assert len(docs) == 2
    for key, doc in docs.items():
        frames = read_frames(tmp_path / f"s_{key}.mp4")
        assert len(frames) == doc["n_frames"] == r.n_frames and frames[0].shape == (120, 160, 3)
        cam = doc["camera"]
        assert cam["view"] in ("front", "overhead")  # elevation 0-10 or 70-80
        assert 24 <= cam["focal_length_35mm_mm"] <= 26 or 45 <= cam["focal_length_35mm_mm"] <= 50
        assert doc["setup"]["support"] == "bed" and doc["setup"]["hand"] == "thigh"
        assert 8 <= doc["setup"]["knee_pillow_cm"] <= 15 and doc["body"]["clothes_looseness_cm"] >= 3
        # most limb joints are seen (the depth test with the looseness added) in the middle frame
        names = doc["joints2d_names"]
        j = doc["frames"][len(frames) // 2]["joints2d"]
        seen = [j[names.index(n)][2] for n in ("left_knee", "right_knee", "left_ankle", "right_ankle",
                                                 "left_hip", "right_hip", "left_shoulder", "right_shoulder")]
        assert sum(seen) >= 4, seen
