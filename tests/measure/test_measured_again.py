"""A setup taken in a hold: once the knee has closed and the setup is taken again, the frames
measured from the open knee are measured again from the closed one, and the reps they make
(the first rep among them) are counted in place of those counted before."""

import numpy as np
import pytest

from clamcoach.engine import Engine
from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.measure.stage import MeasureParams, RollReading, StageState
from clamcoach.protocol import load_protocol
from skeleton import Camera, Pose, clam_set, pose_frame

CAM = Camera(pitch=35)


def _run(frames, **params):
    eng = Engine(load_protocol(), profile=JOINT_CENTRES, focal_px=CAM.focal_px,
                 measure_params=MeasureParams(roll_reading=RollReading.FIT, **params))
    steps = [eng.push(pose_frame(p, CAM, t=t), t) for t, p in frames]
    return eng, steps


def _started_too_soon(opening=30.0):
    """The first rep rises as the video starts, before the body has been still for the setup's
    0.8 s: the setup is taken in its 2.5-s hold."""
    return list(clam_set(n_reps=3, lead_in=0.0, hold=2.5, fps=30, opening=opening))


def test_a_first_rep_begun_before_the_setup_is_counted_once_the_setup_is_taken_closed():
    eng, steps = _run(_started_too_soon())
    a = eng.finish()
    assert eng.measure.calibrations == 2
    assert [r.index for r in a.reps] == [1, 2, 3]
    assert a.reps[0].start_s == pytest.approx(0.0, abs=0.4)
    assert all(r.opening_deg == pytest.approx(30, abs=3.5) for r in a.reps)
    # The step of the second setup says the reps from 1 on were measured again, and carries
    # them: what the live page shows is what the report says.
    (again,) = [s for s in steps if s.reps_replaced_from is not None]
    assert again.reps_replaced_from == 1
    assert again.new_reps == [r for r in a.reps if r.end_s < again.t]


def test_without_measuring_again_the_first_rep_is_lost():
    """The same video with nothing kept to measure again (the behaviour before): 2 reps of 3."""
    eng, _ = _run(_started_too_soon(), remeasure_s=0.0)
    assert len(eng.finish().reps) == 2


def test_the_frames_measured_again_replace_the_reports_series_from_the_open_setup():
    eng, _ = _run(_started_too_soon())
    a = eng.finish()
    hold = (a.frames.t > 1.9) & (a.frames.t < 3.0)  # rep 1's hold, measured first from itself
    assert np.nanmedian(a.frames.opening_deg[hold]) == pytest.approx(30, abs=3.5)


def test_a_setup_replaced_by_a_false_alarm_keeps_its_reps():
    """The rule that replaces a setup fired, but the new setup reads the old one's knee closed:
    the frames keep their measures and no rep is measured again."""
    eng, steps = _run(list(clam_set(n_reps=2, lead_in=2.0, hold=2.0, fps=30)))
    before = list(eng.reps.done)
    m = eng.measure
    m.reset(taken_open=True)
    t0 = steps[-1].t
    for i in range(1, 40):
        t = t0 + i / 30
        eng.push(pose_frame(Pose(), CAM, t=t), t)
    assert m.state is StageState.TRACKING and m.calibrations == 2
    assert m.remeasure_from is None
    assert eng.reps.done == before and len(before) == 2


def test_reps_of_different_sizes_measured_again_keep_their_own_openings():
    """A 40-deg first rep whose hold the setup is taken in, and no still rest before a 20-deg
    second: each is counted once, with its own opening, from the closed setup."""
    frames = list(clam_set(n_reps=3, lead_in=0.0, hold=2.5, rest=0.4, fps=30, openings={1: 40.0, 2: 20.0}))
    eng, _ = _run(frames)
    a = eng.finish()
    assert [r.opening_deg for r in a.reps] == pytest.approx([40, 20, 30], abs=3.5)
