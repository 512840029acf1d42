"""The online measurement stage: when it measures, and when it measures the setup again."""

import math

import numpy as np
import pytest

from clamcoach.engine import Engine
from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.measure.stage import StageState
from clamcoach.protocol import load_protocol
from clamcoach.types import Severity
from skeleton import Camera, Pose, clam_set, pose_frame

CAM = Camera(pitch=35)


def engine():
    return Engine(load_protocol(), profile=JOINT_CENTRES, focal_px=CAM.focal_px)


def test_nothing_is_measured_until_the_body_has_been_still():
    eng = engine()
    t = 0.0
    kins = []
    for i in range(40):  # 1.3 s of rest at 30 fps
        t = i / 30
        kins.append(eng.push(pose_frame(Pose(), CAM, t=t), t).kinematics)
    first = next(i for i, k in enumerate(kins) if k is not None)
    assert 0.8 <= first / 30 <= 1.0  # the protocol's settle time, 0.8 s
    assert eng.measure.state is StageState.TRACKING and eng.setup.result is not None


def test_a_setup_taken_during_a_hold_is_measured_again_at_the_next_rest():
    """A hold is as still as a rest: the first setup here is taken with the knee open 30 deg
    (the video starts mid-rep). The closed knee then reads -30: the stage starts again and the
    reps after it are counted and measured from the closed knee."""
    eng = engine()
    frames = [(t, p) for t, p in clam_set(n_reps=3, lead_in=0.0, hold=2.5, fps=30)]
    # Start in the first rep's hold.
    start = next(t for t, p in frames if p.opening >= 29.9)
    for t, p in frames:
        if t >= start:
            eng.push(pose_frame(p, CAM, t=t), t)
    a = eng.finish()
    assert eng.measure.calibrations == 2
    assert len(a.reps) == 2
    assert all(r.opening_deg == pytest.approx(30, abs=3.5) for r in a.reps)


def test_a_set_held_still_with_no_lift_is_reported_as_such_with_encouragement():
    """The method: some people with very weak hip muscles cannot lift the knee at all, and that
    is fine."""
    eng = engine()
    for i in range(12 * 30):
        eng.push(pose_frame(Pose(opening=0.0), CAM, t=i / 30), i / 30)
    a = eng.finish()
    assert a.reps == ()
    (f,) = a.set_findings
    assert f.code == "no_visible_lift" and f.severity is Severity.INFO
    assert "That's OK" in f.message and "squeez" in f.cue.lower()
    assert "no_visible_lift" in a.to_dict({})["summary"]["findings"]


def test_a_small_rep_of_a_weak_person_is_counted_and_jitter_makes_none():
    import numpy as np

    rng = np.random.default_rng(3)
    eng = engine()
    for t, p in clam_set(n_reps=3, opening=5.0, fps=30):
        frame = pose_frame(p, CAM, t=t)
        frame.image[:, :2] += rng.normal(0, 0.7, size=frame.image[:, :2].shape)  # ~0.1% jitter
        eng.push(frame, t)
    assert len(eng.finish().reps) == 3
    eng = engine()
    for i in range(15 * 30):
        frame = pose_frame(Pose(), CAM, t=i / 30)
        frame.image[:, :2] += rng.normal(0, 1.0, size=frame.image[:, :2].shape)  # ~0.25% of the body
        eng.push(frame, i / 30)
    assert eng.finish().reps == ()


def test_a_feet_apart_rep_is_counted_as_the_knee_rises_and_flagged():
    """With the feet apart the knee rises with the whole leg; the fit may give that rise to the
    leg's abduction rather than the opening, but the knee opening counts it: the rep is not lost."""
    eng = engine()
    for t, p in clam_set(n_reps=3, feet_apart={2: 10.0}, openings={2: 5.0}):
        eng.push(pose_frame(p, CAM, t=t), t)
    a = eng.finish()
    assert len(a.reps) == 3
    assert a.reps[1].opening_deg > 15 and [f.code for f in a.reps[1].findings] == ["feet_apart"]
    assert not a.reps[0].findings and not a.reps[2].findings


@pytest.mark.parametrize("hip", [80.0, 15.0])
def test_a_setup_held_with_the_hips_bent_too_much_or_too_little_is_flagged(hip):
    """The setup is measured after 0.8 s of stillness: that counts as held for the hip check."""
    eng = engine()
    for t, p in clam_set(n_reps=2, base=Pose(hip=hip)):
        eng.push(pose_frame(p, CAM, t=t), t)
    a = eng.finish()
    assert [f.code for f in a.setup.findings] == ["hip_angle"]
    assert eng.measure.setup_held_s >= load_protocol().setup.flag_hold_s


def test_a_setup_with_the_hips_bent_as_the_method_asks_is_not_flagged():
    eng = engine()
    for t, p in clam_set(n_reps=2, base=Pose(hip=45.0)):
        eng.push(pose_frame(p, CAM, t=t), t)
    assert eng.finish().setup.findings == ()


def test_landmarks_wandering_closer_by_a_few_pixels_do_not_restart_the_setup():
    """From overhead the knees nearly cover each other: their gap in the picture is a few pixels,
    and BlazePose's knee points wander by that much for seconds. That is no hold-setup to redo."""
    from skeleton import LM

    cam = Camera(pitch=85)
    eng = Engine(load_protocol(), profile=JOINT_CENTRES, focal_px=cam.focal_px)
    top, bottom = LM["left_knee"], LM["right_knee"]
    for i in range(8 * 30):
        t = i / 30
        frame = pose_frame(Pose(), cam, t=t)
        if 3.0 <= t < 5.5:  # 2.5 s with the top knee's point 60% of the way to the other's
            frame.image[top, :2] += 0.6 * (frame.image[bottom, :2] - frame.image[top, :2])
        eng.push(frame, t)
    assert eng.measure.calibrations == 1


# -- the stage alone, on exact landmarks (no engine) ----------------------------------------

def _bodies(times, pose=None):
    from clamcoach.body import BodyTracker

    tracker = BodyTracker()
    for t in times:
        yield tracker.push(pose_frame(pose or Pose(), CAM, t=t))


def _stage(**kw):
    from clamcoach.measure.stage import MeasureStage

    return MeasureStage(profile=JOINT_CENTRES, **kw)


def test_a_fresh_stage_has_no_setup_and_measures_nothing():
    s = _stage(focal_px=CAM.focal_px)
    assert s.state is StageState.COLLECTING and s.setup is None and s.model is None
    assert s.calibrations == 0 and s.setup_held_s == 0.0 and s.last_estimate is None
    assert math.isnan(s.roll_sd_at_setup)


def test_the_setup_is_fitted_the_first_frame_the_body_has_been_still_for_settle_s():
    """Still from t = 5 s, settle_s 0.75 s, frames every 0.25 s (exact in binary): the setup
    comes at 5.75 s, held 0.75 s."""
    from clamcoach.measure.stage import MeasureParams

    s = _stage(focal_px=CAM.focal_px, params=MeasureParams(settle_s=0.75))
    times = [5.0 + k / 4 for k in range(6)]
    got = [s.push(b) for b in _bodies(times)]
    first = next(i for i, k in enumerate(got) if k is not None)
    assert times[first] == 5.75 and s.calibrations == 1
    assert s.setup_held_s == 0.75 and s.state is StageState.TRACKING
    assert s.last_estimate is not None and s.model is not None


def test_no_setup_is_fitted_while_calibrating_is_not_allowed():
    s = _stage(focal_px=CAM.focal_px)
    assert all(s.push(b, may_calibrate=False) is None for b in _bodies([k / 10 for k in range(15)]))
    assert s.setup is None and s.calibrations == 0


def test_without_a_known_focal_length_the_setup_assumes_the_default_field_of_view():
    from clamcoach.measure.camera import DEFAULT_HFOV_DEG, focal_from_hfov

    s = _stage()
    for b in _bodies([k / 10 for k in range(10)]):
        s.push(b)
    assert s.setup is not None
    cam = s.setup.camera
    assert cam.fx == cam.fy == pytest.approx(focal_from_hfov(CAM.width, DEFAULT_HFOV_DEG))
    assert (cam.cx, cam.cy) == (CAM.width / 2, CAM.height / 2)


def test_the_measures_sds_are_the_fits_propagated():
    """The pelvis roll's SD is the roll's; the trunk's adds the twist's (var r + var w + 2 cov)."""
    s = _stage(focal_px=CAM.focal_px)
    kin = [s.push(b) for b in _bodies([k / 10 for k in range(12)], Pose(opening=0.0))][-1]
    cov = s.last_estimate.cov
    assert kin.sd.pelvis_roll_deg == pytest.approx(math.degrees(math.sqrt(cov[0, 0])), rel=1e-12)
    assert kin.sd.trunk_roll_deg == pytest.approx(
        math.degrees(math.sqrt(cov[0, 0] + cov[1, 1] + 2 * cov[0, 1])), rel=1e-12)
    assert kin.fit_cost == s.last_estimate.cost


def test_the_measures_of_a_still_setup_body_are_its_own():
    """At the setup's rest: the knee has lifted 0 cm, the angles read the skeleton's (hips and
    knees 45 deg, rolled forward 10 deg), the roll is the setup's plus the frame's, and each
    absolute angle's SD is the setup fit's and the profile's spread together."""
    s = _stage(focal_px=CAM.focal_px)
    kin = [s.push(b) for b in _bodies([k / 10 for k in range(12)])][-1]
    est, fit, pr = s.last_estimate, s.setup, JOINT_CENTRES
    assert abs(kin.knee_lift_cm) < 0.5 and abs(kin.opening_deg) < 1.0
    assert kin.hip_flexion_deg == pytest.approx(45.0, abs=2.0)
    assert kin.knee_flexion_deg == pytest.approx(45.0, abs=2.0)
    assert kin.pelvis_roll_deg == pytest.approx(10.0, abs=3.5)  # measured 6.9: the least determined angle
    assert kin.pelvis_roll_deg == pytest.approx(
        math.degrees(fit.rest.roll0 + est.pose[0]) + pr.hip_line_roll_bias_deg, rel=1e-12)
    assert kin.sd.hip_flexion_deg == pytest.approx(
        math.hypot(math.degrees(fit.param("hip_flexion")[1]), pr.flexion_sd_deg), rel=1e-12)
    assert kin.sd.knee_flexion_deg == pytest.approx(
        math.hypot(math.degrees(fit.param("knee_flexion")[1]), pr.flexion_sd_deg), rel=1e-12)


def _still(pose, times):
    """A body frame of ``pose`` at each time (exact landmarks, no smoothing between them)."""
    import dataclasses

    (body,) = list(_bodies([0.0], pose))
    return [dataclasses.replace(body, t=t) for t in times]


def _tracking(params, pose=None):
    s = _stage(focal_px=CAM.focal_px, params=params)
    for b in _still(pose or Pose(), [k / 4 for k in range(4)]):   # settled at 0.75 s
        s.push(b)
    assert s.state is StageState.TRACKING
    return s


def test_the_setup_is_dropped_once_the_model_has_failed_the_landmarks_for_lost_s():
    """The person moved in the picture (150 px): from 2.0 s every frame costs far more than
    lost_cost; at 2.75 s (lost_s 0.75 later) the stage collects again; a good frame between
    restarts the count."""
    import dataclasses

    from clamcoach.measure.stage import MeasureParams

    s = _tracking(MeasureParams(settle_s=0.75, lost_s=0.75))
    (good,) = _still(Pose(), [1.0])
    moved = dataclasses.replace(good, image=good.image + np.array([150.0, 0.0, 0.0]))
    frames = [dataclasses.replace(moved, t=1.5), dataclasses.replace(good, t=1.75)]     # bad, then good again
    frames += [dataclasses.replace(moved, t=2.0 + k / 4) for k in range(4)]            # 2.0 ... 2.75
    states = []
    for b in frames:
        s.push(b, may_calibrate=False)
        states.append(s.state)
    assert s.last_estimate.cost > 25.0
    assert states == [StageState.TRACKING] * 5 + [StageState.COLLECTING]


def test_a_setup_taken_open_is_dropped_once_the_knees_have_been_closer_for_closed_below_s():
    import dataclasses

    from clamcoach.measure.stage import MeasureParams

    s = _tracking(MeasureParams(settle_s=0.75, closed_below_s=0.5), Pose(opening=30.0))
    (closed,) = _still(Pose(opening=0.0), [0.0])
    states = []
    for t in (1.0, 1.25, 1.5):
        s.push(dataclasses.replace(closed, t=t), may_calibrate=False)
        states.append(s.state)
    assert states == [StageState.TRACKING, StageState.TRACKING, StageState.COLLECTING]


def test_one_frame_of_swapped_knee_points_does_not_split_the_rep():
    """From some views BlazePose swaps the knees (or the ankles) for a frame. Without a prior on
    how far the pose can move between frames (MAX_SPEED_RAD_S) the fit jumps with them: the
    opening read -7 deg in the middle of a 30-degree hold and the rep counted twice."""
    eng = engine()
    frames = list(clam_set(n_reps=1, opening=30.0, hold=3.0, fps=30))
    hold = [t for t, p in frames if p.opening >= 29.9]
    swap_at = hold[len(hold) // 2]
    readings = {}
    for t, p in frames:
        frame = pose_frame(p, CAM, t=t)
        if t == swap_at:
            frame.image[[25, 26, 27, 28]] = frame.image[[26, 25, 28, 27]]  # knees and ankles
        step = eng.push(frame, t)
        if step.kinematics is not None:
            readings[t] = step.kinematics.opening_deg
    before = readings[max(t for t in readings if t < swap_at)]
    assert before == pytest.approx(30.0, abs=3.0)
    # The smoothed landmarks carry the swap over a few frames; the opening dips, never closes.
    dip = min(readings[t] for t in readings if swap_at <= t <= swap_at + 0.3)
    assert dip >= 0.3 * before
    assert len(eng.finish().reps) == 1
