"""The terminal summary (``analyze`` without ``--quiet``) from the real engine, on exact
synthetic landmarks: it names the camera and the leg, counts the reps and names each rep's
findings by their labels."""

from __future__ import annotations

import pytest

from clamcoach.engine import Engine
from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.protocol import load_protocol
from clamcoach.report.text import summary_text
from skeleton import Camera, clam_set, pose_frame

FPS = 15.0


def _analysis(pitch: float):
    cam = Camera(pitch=pitch, width=480, height=360, focal_px=350)
    eng = Engine(load_protocol(), profile=JOINT_CENTRES, focal_px=cam.focal_px)
    for t, p in clam_set(n_reps=3, roll_back={2: 20}, fps=FPS):
        eng.push(pose_frame(p, cam, t=t, top="left"), t)
    return eng.finish()


@pytest.fixture(scope="module")
def raised():
    return _analysis(35)


def test_the_summary_names_the_set(raised):
    text = summary_text(raised, "set.mp4", 12.0)
    first = text.splitlines()[0]
    assert first == f"clamcoach: set.mp4 (12.0 s, {raised.view} camera, left leg on top)"
    assert raised.view == "oblique"
    assert f"Reps: 3 ({raised.clean_reps()} clean)" in text
    rows = [line.split() for line in text.splitlines() if line.startswith("    ") and line.split()[0] in "123"]
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert "Rolling back" in " ".join(rows[1]) and "Rolling back" not in " ".join(rows[0] + rows[2])


def test_a_camera_that_cannot_see_the_roll_is_said_once_with_where_to_move_it(raised):
    assert raised.warnings == [] and "Notes:" not in summary_text(raised, "set.mp4", 12.0)
    level = _analysis(0)
    assert level.view == "front" and not level.view_can_see_roll
    text = summary_text(level, "set.mp4", 12.0)
    assert "roll-back (not visible)" in text
    notes = text.split("Notes:\n", 1)[1].splitlines()
    assert notes == [f"  - {w}" for w in level.warnings] and len(notes) == 1
    assert "raise the camera" in notes[0]
