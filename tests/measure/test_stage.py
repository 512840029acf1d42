"""The online measurement stage: when it measures, and when it measures the setup again."""

import math

import numpy as np
import pytest

from clamcoach.engine import Engine
from clamcoach.measure.model import J
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


def FitParams(**kw):
    """This file tests the body fit: its own roll reading, not the lifting network's
    (tests/measure/test_stage_roll_reading.py tests that)."""
    from clamcoach.measure.stage import MeasureParams, RollReading

    return MeasureParams(roll_reading=RollReading.FIT, **kw)


def _stage(**kw):
    from clamcoach.measure.stage import MeasureStage

    kw.setdefault("params", FitParams())
    return MeasureStage(profile=JOINT_CENTRES, **kw)


def test_a_fresh_stage_has_no_setup_and_measures_nothing():
    s = _stage(focal_px=CAM.focal_px)
    assert s.state is StageState.COLLECTING and s.setup is None and s.model is None
    assert s.calibrations == 0 and s.setup_held_s == 0.0 and s.last_estimate is None
    assert math.isnan(s.roll_sd_at_setup)


def test_the_setup_is_fitted_the_first_frame_the_body_has_been_still_for_settle_s():
    """Still from t = 5 s, settle_s 0.75 s, frames every 0.25 s (exact in binary): the setup
    comes at 5.75 s, held 0.75 s."""
    s = _stage(focal_px=CAM.focal_px, params=FitParams(settle_s=0.75))
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
    """The person moved in the picture (150 px): from 2.0 s most points lie far more than
    lost_residual_sd from the model; at 2.75 s (lost_s 0.75 later) the stage collects again; a
    good frame between restarts the count."""
    import dataclasses

    s = _tracking(FitParams(settle_s=0.75, lost_s=0.75))
    (good,) = _still(Pose(), [1.0])
    moved = dataclasses.replace(good, image=good.image + np.array([150.0, 0.0, 0.0]))
    frames = [dataclasses.replace(moved, t=1.5), dataclasses.replace(good, t=1.75)]     # bad, then good again
    frames += [dataclasses.replace(moved, t=2.0 + k / 4) for k in range(4)]            # 2.0 ... 2.75
    states = []
    for b in frames:
        s.push(b, may_calibrate=False)
        states.append(s.state)
    assert s.last_estimate.typical_residual > 5.0
    assert states == [StageState.TRACKING] * 5 + [StageState.COLLECTING]
    assert s.lost_at == [2.0]  # when the stretch that lost it began (said in the analysis)


def test_a_loss_is_for_good_until_a_setup_is_taken_after_it():
    """Lost at 2.0 s: ``lost_for_good_at`` says so while no setup follows (nothing since is
    measured); the body still again for settle_s (3.0 to 3.75 s) makes a setup, and it is None again."""
    import dataclasses

    s = _tracking(FitParams(settle_s=0.75, lost_s=0.75))
    assert s.lost_for_good_at is None
    (good,) = _still(Pose(), [1.0])
    moved = dataclasses.replace(good, image=good.image + np.array([150.0, 0.0, 0.0]))
    for k in range(4):
        s.push(dataclasses.replace(moved, t=2.0 + k / 4), may_calibrate=False)
    assert s.state is StageState.COLLECTING and s.lost_for_good_at == 2.0
    for k in range(5):
        s.push(dataclasses.replace(good, t=3.0 + k / 4))
    assert s.state is StageState.TRACKING and s.setup_at[-1] == 3.75  # settle_s after 3.0
    assert s.lost_for_good_at is None


def test_a_few_wild_points_do_not_lose_the_track():
    """From above or from the feet BlazePose guesses the hidden bottom leg far from it while the
    rest fits: four wild points (the bottom knee and foot 120 px off) for twice lost_s keep the
    setup, however large the frame's mean cost (t2_overhead lost a rep mid-hold that way)."""
    import dataclasses

    from clamcoach.measure.landmarks import POINTS, landmark_indices
    s = _tracking(FitParams(settle_s=0.75, lost_s=0.75))
    (good,) = _still(Pose(), [1.0])
    wild = good.image.copy()
    at = dict(zip(POINTS, landmark_indices(good.top)))
    for name in ("bottom_knee", "bottom_ankle", "bottom_heel", "bottom_toe"):
        wild[at[name], :2] += (120.0, -60.0)
    for k in range(8):
        s.push(dataclasses.replace(good, image=wild, t=1.0 + k / 4), may_calibrate=False)
        assert s.state is StageState.TRACKING
    assert s.last_estimate.cost > 25.0 and s.last_estimate.typical_residual < 1.0
    assert s.lost_at == []


def test_a_setup_taken_open_is_dropped_once_the_knees_have_been_closer_for_closed_below_s():
    import dataclasses

    s = _tracking(FitParams(settle_s=0.75, closed_below_s=0.5), Pose(opening=30.0))
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


# -- how the stage reads its landmarks and the setup's checks --------------------------------

def _frames(times, pose=None, edit=None):
    """Exact body frames of ``pose`` at ``times``; ``edit(k, image)`` may change frame k's image."""
    import dataclasses

    (body,) = list(_bodies([0.0], pose))
    out = []
    for k, t in enumerate(times):
        image = body.image.copy()
        if edit is not None:
            edit(k, image)
        out.append(dataclasses.replace(body, t=t, image=image))
    return out


def _calibrations(frames, **kw):
    s = _stage(focal_px=CAM.focal_px, **kw)
    for b in frames:
        s.push(b)
    return s


def _indices():
    from clamcoach.measure.landmarks import landmark_indices
    from clamcoach.types import Side

    return landmark_indices(Side.LEFT)


def test_the_sustained_timer_counts_from_the_first_frame_the_condition_holds_and_restarts_on_a_break():
    from clamcoach.measure.stage import _Sustained

    timer = _Sustained()
    got = [timer.update(h, t) for h, t in [(False, 0.0), (True, 1.0), (True, 1.5), (True, 2.25),
                                            (False, 2.5), (True, 3.0), (True, 3.5)]]
    assert got == [0.0, 0.0, 0.5, 1.25, 0.0, 0.0, 0.5]


@pytest.mark.parametrize("visibility, measured", [(0.3, True), (0.29, False)])
def test_a_landmark_is_used_from_min_visibility_on(visibility, measured):
    def edit(k, image):
        image[:, 2] = visibility

    s = _calibrations(_frames([k / 10 for k in range(12)], edit=edit))
    assert (s.calibrations == 1) is measured


def test_the_setup_is_fitted_with_the_feet_unseen_and_measures_the_same_angles():
    """The heel and toe points help, but the core (hips, knees, ankles, shoulders) is enough."""
    feet = _indices()[8:]

    def edit(k, image):
        image[feet, 2] = 0.0

    times = [k / 10 for k in range(12)]
    seen, unseen = _calibrations(_frames(times)), _calibrations(_frames(times, edit=edit))
    assert unseen.calibrations == 1
    assert np.all(np.isfinite(unseen.setup.rest.points()))
    assert unseen.setup.param("hip_flexion")[0] == pytest.approx(seen.setup.param("hip_flexion")[0], abs=0.05)


def test_stillness_is_judged_on_the_core_points_only():
    """The foot points wander (BlazePose's heels and toes do, by 10% of the body here); the
    body is still: the setup comes at settle_s."""
    from clamcoach.measure.setup_fit import body_size_px
    feet = _indices()[8:]
    (first,) = _frames([0.0])
    size = body_size_px(np.where(np.ones((12, 1)), first.image[_indices(), :2], 0))

    def edit(k, image):
        image[feet, 0] += 0.1 * size * (k % 2)

    s = _calibrations(_frames([k / 4 for k in range(5)], edit=edit), params=FitParams(settle_s=0.75))
    assert s.calibrations == 1 and s.setup_held_s == 0.75


def test_a_body_still_within_still_rel_at_every_point_is_still():
    """Each core point jitters by 0.6 still_rel of the body about its place: still (judged point
    by point, not on all points together)."""
    from clamcoach.measure.setup_fit import body_size_px
    from clamcoach.measure.stage import MeasureParams

    core = _indices()[:8]
    (first,) = _frames([0.0])
    size = body_size_px(first.image[_indices(), :2])
    step = 0.6 * MeasureParams().still_rel * size

    def edit(k, image):
        image[core, 1] += step * (k % 2)

    s = _calibrations(_frames([k / 4 for k in range(5)], edit=edit), params=FitParams(settle_s=0.75))
    assert s.calibrations == 1 and s.setup_held_s == 0.75


def test_a_frame_that_moved_does_not_count_toward_the_stillness_of_the_next():
    """settle_s of one frame: the first frame has the knee open, the next closed. The setup is
    taken one frame after the closed one (not from the open and the closed frame together)."""
    import dataclasses

    (opened,) = _frames([0.0], Pose(opening=30.0))
    closed = _frames([0.25, 0.5, 0.75])
    s = _stage(focal_px=CAM.focal_px, params=FitParams(settle_s=0.25))
    taken = []
    for b in [dataclasses.replace(opened, t=0.0), *closed]:
        s.push(b)
        taken.append(s.calibrations)
    assert taken == [0, 0, 1, 1] and s.setup_held_s == 0.25


def test_a_body_with_straight_legs_gets_no_setup():
    """Standing or walking past the camera: hips and knees bent under min_setup_bend_deg."""
    s = _calibrations(_frames([k / 10 for k in range(15)], Pose(hip=3.0, knee=3.0)))
    assert s.calibrations == 0


def test_landmarks_the_model_cannot_explain_get_no_setup():
    """The bottom hip's point half the body away from the hip (a pillow, another person): the
    model cannot explain it (RMS 0.10 of the body, above max_setup_rms_rel), whatever the
    angles it reads."""
    from clamcoach.measure.setup_fit import body_size_px
    idx = _indices()
    (first,) = _frames([0.0])
    size = body_size_px(first.image[idx, :2])

    def edit(k, image):
        image[idx[0], :2] += np.array([0.0, -0.5 * size])

    frames = _frames([k / 10 for k in range(15)], edit=edit)
    assert _calibrations(frames).calibrations == 0
    lenient = _calibrations(frames, params=FitParams(max_setup_rms_rel=1.0))
    assert lenient.calibrations == 1 and lenient.setup.rms_rel > 0.06  # the angles pass


@pytest.mark.parametrize("change", [dict(hip_line_roll_bias_deg=45.0), dict(hip_flexion_bias_deg=-36.0),
                                    dict(knee_flexion_bias_deg=-36.0)])
def test_the_setup_checks_read_the_angles_as_the_profile_corrects_them(change):
    """A profile whose corrections turn this 10-deg roll into 55 deg, or these 45-deg hips or
    knees into 9 deg: the setup is refused (roll beyond 50, bend under 15)."""
    import dataclasses

    from clamcoach.measure.stage import MeasureStage

    s = MeasureStage(profile=dataclasses.replace(JOINT_CENTRES, **change), focal_px=CAM.focal_px)
    for b in _frames([k / 10 for k in range(15)]):
        s.push(b)
    assert s.calibrations == 0


def test_the_profiles_corrections_are_added_to_the_angles_read():
    """The same landmarks through a profile that only adds corrections: each angle reads the
    correction more, nothing else changes."""
    import dataclasses

    from clamcoach.measure.stage import MeasureStage

    change = dict(hip_flexion_bias_deg=3.0, knee_flexion_bias_deg=4.0, hip_line_roll_bias_deg=5.0,
                  shoulder_line_roll_bias_deg=6.0)
    read = []
    for profile in (JOINT_CENTRES, dataclasses.replace(JOINT_CENTRES, **change)):
        s = MeasureStage(FitParams(), profile=profile, focal_px=CAM.focal_px)
        read.append([s.push(b) for b in _frames([k / 10 for k in range(12)], Pose(opening=20.0))][-1])
    plain, corrected = read
    assert corrected.hip_flexion_deg - plain.hip_flexion_deg == pytest.approx(3.0, abs=1e-9)
    assert corrected.knee_flexion_deg - plain.knee_flexion_deg == pytest.approx(4.0, abs=1e-9)
    assert corrected.pelvis_roll_deg - plain.pelvis_roll_deg == pytest.approx(5.0, abs=1e-9)
    assert corrected.trunk_roll_deg - plain.trunk_roll_deg == pytest.approx(6.0, abs=1e-9)
    assert corrected.opening_deg == pytest.approx(plain.opening_deg, abs=1e-9)


def _tracked(setup_pose, frame_pose):
    """Kinematics of ``frame_pose`` after a setup on ``setup_pose``."""
    s = _tracking(_default_params(), setup_pose)
    at_setup = s.kinematics(0.75, s.last_estimate)
    # Two seconds on: past gap_restart_s, so no motion prior holds the fit near the setup's pose.
    (b,) = _frames([2.75], frame_pose)
    return s, at_setup, s.push(b, may_calibrate=False)


def _default_params():
    return FitParams(settle_s=0.75)


def _rolled(to: Pose, ramp_s: float = 0.5):
    """Kinematics at setup (rest, rolled forward 10 deg) and 1.75 s later, after moving to
    ``to`` over ``ramp_s`` (30 frames/s, exact landmarks)."""
    s = _tracking(_default_params(), Pose())
    rest = s.kinematics(0.75, s.last_estimate)
    for t in np.arange(0.75 + 1 / 30, 2.5, 1 / 30):
        a = min(1.0, (t - 0.75) / ramp_s)
        (b,) = _frames([t], Pose(opening=a * to.opening, roll=10 + a * (to.roll - 10), base_roll=10.0,
                                 trunk_roll=None if to.trunk_roll is None else 10 + a * (to.trunk_roll - 10)))
        kin = s.push(b, may_calibrate=False)
    return rest, kin


def test_a_roll_back_during_a_rep_reads_as_the_pelvis_and_trunk_turned():
    """The pelvis and trunk roll back 15 deg together while the knee opens 30 (the legs
    stay stacked as set up): both rolls read 15 less than at setup, the opening 30."""
    rest, kin = _rolled(Pose(opening=30.0, roll=-5.0))
    assert kin.pelvis_roll_deg - rest.pelvis_roll_deg == pytest.approx(-15.0, abs=2.5)
    assert kin.trunk_roll_deg - rest.trunk_roll_deg == pytest.approx(-15.0, abs=2.5)
    assert kin.opening_deg == pytest.approx(30.0, abs=3.0)


def test_the_trunk_roll_adds_the_shoulders_twist_to_the_pelvis_roll():
    """The shoulders roll back 25 deg, the pelvis 15: the trunk reads about 25 less (23.6
    measured from 35 deg; the fit gives part of the twist to the pelvis, 20.8 for 15)."""
    rest, kin = _rolled(Pose(opening=30.0, roll=-5.0, trunk_roll=-15.0))
    assert kin.trunk_roll_deg - rest.trunk_roll_deg == pytest.approx(-25.0, abs=2.5)


def test_the_lengths_are_the_models_metres_in_centimetres():
    """The knee opened 30 deg: it lifted by the knees' distance's growth (the skeleton's own:
    7.3 cm), the ankles stayed as far apart as stacked, the shin is the model's."""
    s, rest, kin = _tracked(Pose(), Pose(opening=30.0))
    X, r = s.last_estimate.joints, s.setup.rest
    from clamcoach.measure.model import J

    gap = np.linalg.norm(X[J["top_knee"]] - X[J["bottom_knee"]]) - np.linalg.norm(r.top_knee - r.bottom_knee)
    assert kin.knee_lift_cm == pytest.approx(100 * gap, rel=1e-9)
    assert kin.ankle_gap_cm == pytest.approx(100 * np.linalg.norm(X[J["top_ankle"]] - X[J["bottom_ankle"]]), rel=1e-9)
    assert kin.shin_length_cm == pytest.approx(100 * s.model.l2, rel=1e-9)
    assert kin.knee_lift_cm == pytest.approx(7.3, abs=1.0)
    assert kin.ankle_gap_cm == pytest.approx(7.0, abs=1.0)  # the stacked ankles, 7 cm apart
    assert 30.0 < kin.shin_length_cm < 55.0


def test_the_lengths_sds_follow_the_angles_sds_along_their_circles():
    """The knee moves on a circle about the hip-ankle line, the ankle on one about the hip: a
    length's SD is its circle's radius times its angle's SD (radians)."""
    from clamcoach.measure.model import J

    s, rest, kin = _tracked(Pose(), Pose(opening=30.0, feet_apart=5.0))
    X, est = s.last_estimate.joints, s.last_estimate
    hip, knee, ankle = X[J["top_hip"]], X[J["top_knee"]], X[J["top_ankle"]]
    axis = (ankle - hip) / np.linalg.norm(ankle - hip)
    radius = np.linalg.norm(np.cross(knee - hip, axis))
    assert kin.sd.knee_lift_cm == pytest.approx(100 * radius * math.radians(kin.sd.opening_deg), rel=1e-6)
    assert kin.sd.ankle_gap_cm == pytest.approx(100 * np.linalg.norm(ankle - hip) * est.sd[3], rel=1e-9)
    assert 0 < kin.sd.knee_lift_cm < 5 and 0 < kin.sd.ankle_gap_cm < 5


def test_the_noise_in_pixels_is_the_noise_table_times_the_body_size():
    from clamcoach.measure.landmarks import GROUP_OF
    from clamcoach.measure.stage import NOISE_REL

    s = _tracking(_default_params())
    want = [NOISE_REL[g] * s.setup.body_px for g in GROUP_OF]
    assert s.noise_px() == pytest.approx(want, rel=1e-12)
    assert 100 < s.setup.body_px < 640


def test_the_openings_sd_is_its_gradient_through_the_poses_covariance():
    """Checked against a central difference of the model's opening and a made-up covariance."""
    from clamcoach.measure.stage import _knee_opening

    s = _tracking(_default_params())
    q = np.array([0.1, -0.05, 0.5, 0.08])
    A = np.array([[2.0, 0.3, 0.1, 0.0], [0.3, 1.0, 0.2, 0.1], [0.1, 0.2, 3.0, 0.4], [0.0, 0.1, 0.4, 1.5]])
    cov = 1e-3 * A
    h = 1e-6
    grad = np.array([(s.model.knee_opening(np.array([q + h * e]))[0]
                      - s.model.knee_opening(np.array([q - h * e]))[0]) / (2 * h) for e in np.eye(4)])
    value, sd = _knee_opening(s.model, q, cov)
    assert value == pytest.approx(s.model.knee_opening(np.array([q]))[0], rel=1e-12)
    assert sd == pytest.approx(math.sqrt(grad @ cov @ grad), rel=1e-3)
    assert _knee_opening(s.model, q, np.zeros((4, 4)))[1] == 0.0


def test_the_knees_circle_radius_is_its_distance_from_the_hip_ankle_line():
    from clamcoach.measure.model import J
    from clamcoach.measure.stage import _circle_radius

    X = np.zeros((max(J.values()) + 1, 3))
    hip = np.array([1.0, 2.0, 3.0])
    X[J["top_hip"]], X[J["top_ankle"]], X[J["top_knee"]] = hip, hip + [2.0, 0, 0], hip + [1.5, 0.3, 0.4]
    assert _circle_radius(X) == pytest.approx(0.5, rel=1e-12)


def test_knees_a_little_closer_than_at_setup_do_not_restart_it():
    """Set up with the knee open 70 deg, then held at 50: closer by more than closed_drop_rel,
    but not below closed_share of the setup's gap. That is a lower hold, not a rest."""
    import dataclasses

    from clamcoach.measure.stage import MeasureParams, _knee_gap
    from clamcoach.measure.landmarks import observe

    params = FitParams(settle_s=0.75, closed_below_s=0.5)
    s = _tracking(params, Pose(opening=70.0))
    (lower,) = _frames([0.0], Pose(opening=50.0))
    (setup,) = _frames([0.0], Pose(opening=70.0))
    g_setup, g_lower = (_knee_gap(observe(b.image, b.top)[0]) for b in (setup, lower))
    assert params.closed_share * g_setup < g_lower < g_setup - params.closed_drop_rel
    for t in (1.0, 1.25, 1.5, 1.75):
        s.push(dataclasses.replace(lower, t=t), may_calibrate=False)
    assert s.state is StageState.TRACKING and s.calibrations == 1


def test_when_the_body_stage_changes_its_mind_about_the_top_side_the_still_setup_is_fitted_again():
    """From a level front camera the body stage's vote for the top side settles late (the
    thighs' direction barely shows in depth) and may turn over in the first rep. The setup is
    then fitted again to the same still landmarks, seen as the other side's mirror image, at
    once: no new still moment is waited for (it would come in the rep's hold)."""
    import dataclasses

    from clamcoach.types import LR_PAIRS

    level = Camera(pitch=5.0)
    s = _stage(focal_px=level.focal_px, params=FitParams(settle_s=0.75))
    (body,) = list(_bodies_from(level, [0.0]))
    for k in range(4):  # settled at 0.75 s
        s.push(dataclasses.replace(body, t=k / 4))
    assert s.calibrations == 1
    mirrored = s.setup.camera.mirrored
    image = body.image.copy()
    for a, b in LR_PAIRS:   # the same points, labelled as the other side's
        image[[a, b]] = image[[b, a]]
    flipped = dataclasses.replace(body, t=1.0, image=image, top=body.top.other)
    kin = s.push(flipped)
    assert kin is not None and s.state is StageState.TRACKING
    assert s.calibrations == 2 and s.setup.camera.mirrored is not mirrored and s.setup_held_s == 0.75
    assert kin.opening_deg == pytest.approx(0.0, abs=2.0)


def _bodies_from(cam, times):
    from clamcoach.body import BodyTracker

    tracker = BodyTracker()
    for t in times:
        yield tracker.push(pose_frame(Pose(), cam, t=t))


@pytest.mark.parametrize("ankle", ["bottom_ankle", "top_ankle"])
def test_the_ankle_gap_is_known_no_better_than_the_model_explains_the_ankles_points(ankle):
    """From the feet end BlazePose moves the ankles' points as the knee rises; the model keeps
    the bottom ankle on the mat and reads the top one's move as the leg's abduction. An ankle
    point the model misses by more than its noise widens the gap's SD by that distance (metres
    at the ankle's depth); one within its noise changes nothing."""
    import dataclasses

    from clamcoach.measure.landmarks import POINTS, landmark_indices
    s = _tracking(FitParams(settle_s=0.75))
    (good,) = _still(Pose(), [1.0])
    base = s.push(dataclasses.replace(good, t=1.0), may_calibrate=False).sd.ankle_gap_cm
    at = dict(zip(POINTS, landmark_indices(good.top)))
    sigma = float(s.noise_px()[POINTS.index(ankle)])
    widened = []
    for k, shift in enumerate((0.5 * sigma, 60.0)):
        moved = good.image.copy()
        moved[at[ankle], 1] -= shift
        kin = s.push(dataclasses.replace(good, image=moved, t=1.25 + k / 4), may_calibrate=False)
        widened.append(kin.sd.ankle_gap_cm)
    assert widened[0] == pytest.approx(base, rel=0.05)
    cam = s.setup.camera
    depth = float(((s.last_estimate.joints[J[ankle]] * cam._M) @ cam.R.T + cam.t)[2])
    miss = np.linalg.norm(s.last_estimate.residuals[POINTS.index(ankle)])
    expected = 100 * (miss - 2.0) * sigma * depth / cam.fx
    assert widened[1] > base + 2.0
    assert widened[1] == pytest.approx(math.hypot(base, expected), rel=0.25)
