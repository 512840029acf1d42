from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

import av
import numpy as np
import pytest

from clamcoach.coach import Cue, CueKind
from clamcoach.errors import OutputError
from clamcoach.report.annotate import AnnotatedVideoWriter, panel_lines
from clamcoach.step import Step
from clamcoach.types import BodyFrame, Finding, Phase, Severity, Side
from tests.report.samples import landmarks, snapshot
from tests.test_engine import run


def _step(i: int, fps: float, person: bool = True) -> Step:
    t = i / fps
    opening = 25 * abs(math.sin(t))
    body = BodyFrame(t, landmarks(opening), np.zeros((33, 3)), 640, 360, Side.LEFT, 0.9) if person else None
    cue = Cue("roll_back", "Roll forward, lift less.", CueKind.CORRECTION, 0, t) if i == 12 else None
    found = [Finding("roll_back", Severity.WARN, 12.0, 10.0, "m", "c", rep=1, t=t)] if i == 12 else []
    return Step(
        t=t, phase=Phase.SETUP if i < 5 else Phase.UP, body=body, rep_count=i // 10, opening_deg=opening,
        roll_change_deg=-12.0 if i > 10 else math.nan, hold_s=0.0, cue=cue, new_findings=found,
        setup_checks={"side_lying": True, "hips_knees_bent": True, "rolled_forward": False,
                      "hand_on_hip": None}, view_can_see_roll=i > 3, in_frame=person)


def test_the_panel_shows_the_hold_time_in_a_real_engines_hold():
    _, steps = run(n_reps=2, hold=2.0)
    holds = [s for s in steps if s.phase is Phase.HOLD]
    assert len(holds) > 30  # the engine does say HOLD: about 2 s of each rep
    longest = max(holds, key=lambda s: s.hold_s)
    assert 1.0 < longest.hold_s <= 2.5
    texts = [text for text, _ in panel_lines(longest)]
    assert texts[0] == "phase: hold" and f"hold {longest.hold_s:4.1f} s" in texts
    # Outside a hold, no hold line; in the setup, the checklist.
    up = next(s for s in steps if s.phase is Phase.UP)
    assert not any(t.startswith("hold") for t, _ in panel_lines(up))
    setup = next(s for s in steps if s.phase is Phase.SETUP and s.body is not None)
    assert [t for t, _ in panel_lines(setup)][-4:][0].startswith("on side:")
    # The same step outside a hold has one line fewer: the hold time.
    assert len(panel_lines(longest)) == len(panel_lines(replace(longest, phase=Phase.UP))) + 1


def _decode(path):
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        return stream.codec_context.name, stream.width, stream.height, float(stream.average_rate), frames


def test_writes_h264_with_the_overlay(tmp_path):
    img, lm = snapshot()
    path = tmp_path / "out" / "annotated.mp4"
    writer = AnnotatedVideoWriter(path, 30.0, 640, 360)
    for i in range(24):
        # Frames 6-9 have nobody in view.
        writer(SimpleNamespace(rgb=img, t=i / 30), _step(i, 30.0, person=not 6 <= i < 10))
    assert not path.exists()  # only complete files appear
    writer.close()
    codec, w, h, rate, frames = _decode(path)
    assert (codec, w, h, rate, len(frames)) == ("h264", 640, 360, 30.0, 24)
    # The skeleton is drawn where the top knee is, in the top leg's orange.
    x, y = (int(v) for v in landmarks(25 * abs(math.sin(2 / 30)))[25, :2])
    window = frames[2][y - 4:y + 5, x - 4:x + 5].reshape(-1, 3).astype(int)
    assert (np.abs(window - (255, 140, 0)).sum(axis=1) < 90).sum() >= 5
    # With nobody in view, the knee is not drawn over: the body colour shows.
    assert np.abs(frames[7][y, x].astype(int) - img[y, x]).sum() < 60
    # The cue banner appears at the bottom after frame 12.
    assert np.abs(frames[20][-40:].astype(int) - img[-40:]).mean() > 5
    assert [p.name for p in path.parent.iterdir()] == ["annotated.mp4"]


def test_odd_size_and_resized_input(tmp_path):
    img, _ = snapshot()
    odd = np.ascontiguousarray(img[:359, :639])
    with AnnotatedVideoWriter(tmp_path / "odd.mp4", 25, 639, 359) as writer:
        for i in range(5):
            writer(SimpleNamespace(rgb=odd), _step(i, 25))
        writer(SimpleNamespace(rgb=img[::2, ::2]), _step(5, 25))  # a frame of another size
    codec, w, h, _, frames = _decode(tmp_path / "odd.mp4")
    assert (w, h, len(frames)) == (638, 358, 6)


def test_failure_leaves_nothing(tmp_path):
    img, _ = snapshot()
    with pytest.raises(RuntimeError):
        with AnnotatedVideoWriter(tmp_path / "a.mp4", 30, 640, 360) as writer:
            writer(SimpleNamespace(rgb=img), _step(0, 30))
            raise RuntimeError("analysis failed")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError):
        AnnotatedVideoWriter(tmp_path / "b.mp4", 30, 1, 1)


# -- real engine steps (not hand-made ones): every phase the engine emits reaches the overlay --

def _engine_steps():
    from clamcoach.engine import Engine
    from clamcoach.measure.profiles import JOINT_CENTRES
    from clamcoach.protocol import load_protocol
    from skeleton import Camera, clam_set, pose_frame

    cam = Camera(pitch=35)
    engine = Engine(load_protocol(), profile=JOINT_CENTRES, focal_px=cam.focal_px)
    steps = [engine.push(pose_frame(p, cam, t=t), t) for t, p in clam_set(n_reps=1, hold=2.0, fps=15)]
    engine.finish()
    return cam, steps


def _panel_rows(writer: AnnotatedVideoWriter, step, size) -> int:
    """How many rows the info panel covers (it darkens a white picture)."""
    img = np.full((size[1], size[0], 3), 255, np.uint8)
    writer.draw(img, step)
    return int((img[:, 12, 0] < 200).sum())  # a column left of the text: only the shading


def test_real_steps_show_the_hold_time_only_while_holding(tmp_path):
    from clamcoach.types import Phase

    cam, steps = _engine_steps()
    phases = {s.phase for s in steps}
    assert {Phase.SETUP, Phase.READY, Phase.UP, Phase.HOLD, Phase.DOWN} <= phases
    holding = [s for s in steps if s.phase is Phase.HOLD]
    assert holding[-1].hold_s > holding[0].hold_s >= 0
    assert 1.0 < holding[-1].hold_s <= 2.5  # the set holds 2 s at the top
    writer = AnnotatedVideoWriter(tmp_path / "a.mp4", 15, cam.width, cam.height)
    try:
        size = (cam.width, cam.height)
        up = next(s for s in steps if s.phase is Phase.UP and math.isfinite(s.roll_change_deg))
        hold = next(s for s in holding if math.isfinite(s.roll_change_deg))
        # One more line (26 px at 720p) in the hold: "hold x.x s".
        assert _panel_rows(writer, hold, size) - _panel_rows(writer, up, size) == 26
    finally:
        writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_real_set_is_written_frame_for_frame(tmp_path):
    cam, steps = _engine_steps()
    path = tmp_path / "set.mp4"
    blank = np.full((cam.height, cam.width, 3), 180, np.uint8)
    with AnnotatedVideoWriter(path, 15, cam.width, cam.height) as writer:
        for s in steps:
            writer(SimpleNamespace(rgb=blank), s)
    codec, w, h, rate, frames = _decode(path)
    assert (codec, w, h, rate, len(frames)) == ("h264", cam.width, cam.height, 15.0, len(steps))
    assert steps[-1].rep_count == 1
