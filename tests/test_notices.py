"""The analysis warnings: typed codes, their words in the protocol file (the one registry of
texts), the sentences as the user reads them."""

import string

import pytest

from clamcoach.notices import Notice, WarningCode
from clamcoach.pipeline import gap_notes
from clamcoach.protocol import load_protocol
from clamcoach.series import SeriesBuilder
from clamcoach.sideways import sideways_warning
from clamcoach.types import Phase

PROTO = load_protocol()
#: The values each text may name (the protocol file's [warnings] comment says the same).
VALUES = {"sd", "need", "move", "at_s", "why", "spans", "more", "pct"}


@pytest.mark.parametrize("code", list(WarningCode))
def test_every_code_has_a_text_that_names_only_known_values(code):
    text = PROTO.warning(code.value)
    assert text.endswith(".")
    named = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    assert named <= VALUES, named


def test_the_protocol_has_no_text_without_a_code():
    assert set(PROTO.warnings) == {c.value for c in WarningCode}


def test_a_notice_reads_as_its_sentence_with_the_values_filled_in():
    roll = Notice(WarningCode.ROLL_NOT_SEEN_MOVE, {"sd": 6.4, "need": 4.0, "move": "lower the camera a little"})
    assert roll.text(PROTO) == (
        "From this camera position the pelvis roll is measured too loosely to judge a roll-back "
        "(standard deviation 6 deg, needs 4): the roll-back check is off. To have it checked, "
        "lower the camera a little.")
    stopped = Notice(WarningCode.VIDEO_STOPPED, {"at_s": 12.345, "why": None})
    assert stopped.text(PROTO) == "The video is damaged: analysed up to 12.3 s (decoding stopped)."
    assert Notice(WarningCode.VIDEO_DAMAGED, {"at_s": 2.0, "why": "bad frame"}).text(PROTO) == (
        "The video is damaged: analysed up to 2.0 s (bad frame).")


def test_a_body_the_measurement_lost_is_said_with_when_and_a_set_never_lost_says_nothing():
    """A set whose body moved 200 px for 2 s mid-set (the model no longer explains it): the
    analysis says when it was lost; the same set unmoved says nothing of the kind."""
    from clamcoach.engine import Engine
    from clamcoach.measure.profiles import JOINT_CENTRES
    from skeleton import Camera, clam_set, pose_frame

    cam = Camera(pitch=35)

    def analysed(moved: bool):
        eng = Engine(PROTO, profile=JOINT_CENTRES, focal_px=cam.focal_px)
        for t, p in clam_set(n_reps=3, fps=15):
            frame = pose_frame(p, cam, t=t)
            if moved and 6.0 <= t < 8.0:
                frame.image[:, 0] += 200.0
            eng.push(frame, t)
        return eng.finish()

    lost = [n for n in analysed(True).notices if n.code is WarningCode.TRACK_LOST]
    assert len(lost) == 1 and lost[0].text(PROTO).startswith("The measurement lost your body at 6.0 s (")
    assert not [n for n in analysed(False).notices if n.code is WarningCode.TRACK_LOST]


def test_a_body_lost_and_never_found_again_is_said_so_and_not_praised_for_holding_still():
    """From 6 s on the body is seen 200 px to one side, then the other, frame by frame (nothing
    the model explains, never still):
    the analysis says the rest of the set was not measured, instead of "measured again at the
    next still rest", and gives no "no visible lift" encouragement for what it did not see."""
    from clamcoach.engine import Engine
    from clamcoach.measure.profiles import JOINT_CENTRES
    from skeleton import Camera, Pose, pose_frame

    cam = Camera(pitch=35)
    eng = Engine(PROTO, profile=JOINT_CENTRES, focal_px=cam.focal_px)
    for i in range(30 * 15):
        t = i / 15
        frame = pose_frame(Pose(), cam, t=t)
        if t >= 6.0:
            frame.image[:, 0] += 200.0 if i % 2 else -200.0
        eng.push(frame, t)
    a = eng.finish()
    codes = [n.code for n in a.notices]
    assert WarningCode.TRACK_LOST_FOR_GOOD in codes and WarningCode.TRACK_LOST not in codes
    (gone,) = [n for n in a.notices if n.code is WarningCode.TRACK_LOST_FOR_GOOD]
    assert gone.text(PROTO).startswith("The measurement lost your body at 6.0 s (")
    assert "nothing after 6.0 s was measured" in gone.text(PROTO)
    assert a.reps == () and a.set_findings == ()


def test_a_therapist_may_reword_a_warning_in_a_protocol_file():
    own = load_protocol(overrides=['warnings.no_setup="Lie still on your side first."'])
    assert Notice(WarningCode.NO_SETUP).text(own) == "Lie still on your side first."


def _series(gone):
    """Frames every 0.1 s for 6 s, nobody in view where ``gone(t)``."""
    b = SeriesBuilder(keep_landmarks=False)
    for i in range(61):
        t = round(0.1 * i, 1)
        b.add(t, Phase.NO_PERSON if gone(t) else Phase.SETUP, None, None)
    return b.build(())


def test_a_gap_in_the_pose_is_said_with_its_times_and_short_gaps_are_not():
    assert gap_notes(_series(lambda t: 1.0 <= t <= 2.0))[0].text(PROTO) == (
        "No usable pose (out of view or hidden) at 1.0-2.1 s.")
    assert gap_notes(_series(lambda t: 1.0 <= t <= 1.3)) == []        # 0.4 s: under min_gap_s
    assert gap_notes(_series(lambda t: t >= 5.0))[0].values["spans"] == "5.0-6.0 s"  # to the end


def test_more_than_six_gaps_are_said_as_six_and_how_many_more():
    eight = gap_notes(_series(lambda t: int(t * 10) % 7 < 5 and t < 5.6))
    assert eight[0].code is WarningCode.POSE_GAPS_MORE
    assert eight[0].text(PROTO) == ("No usable pose (out of view or hidden) at 0.0-0.5 s, 0.7-1.2 s, "
                                    "1.4-1.9 s, 2.1-2.6 s, 2.8-3.3 s, 3.5-4.0 s and 2 more.")


def test_sideways_says_which_way_the_video_was_turned():
    assert sideways_warning(1).text(PROTO).endswith("quarter turn counter-clockwise, so that you lie on your side in it.")
    assert sideways_warning(3).text(PROTO).endswith("quarter turn clockwise, so that you lie on your side in it.")


@pytest.mark.parametrize("pitch, said", [(35, False), (80, True)])
def test_a_placement_that_reads_the_opening_near_closed_loosely_says_small_reps_may_be_missed(pitch, said):
    """From straight above, the knee's first degrees of opening move it along the line of sight
    (tuning sets with an opening SD over 10 deg counted 3 of 9 reps of 10 deg or less): the
    analysis says so, with the SD, and the JSON report carries that SD; from 35 deg it says
    nothing."""
    from clamcoach.engine import Engine
    from clamcoach.measure.profiles import BLAZEPOSE
    from skeleton import Camera, clam_set, pose_frame

    cam = Camera(pitch=pitch)
    eng = Engine(PROTO, profile=BLAZEPOSE, focal_px=cam.focal_px)
    for t, p in clam_set(n_reps=2, opening=20.0):
        eng.push(pose_frame(p, cam, t=t), t)
    a = eng.finish()
    sd = a.setup.measures.opening_sd_deg
    assert a.to_dict({})["camera"]["opening_sd_deg"] == pytest.approx(sd, abs=0.05)
    small = [n for n in a.notices if n.code is WarningCode.SMALL_REPS_UNSEEN]
    assert (sd > PROTO.opening.max_small_rep_sd_deg) is said
    assert [n.values["sd"] for n in small] == ([sd] if said else [])
    if said:
        assert f"standard deviation {sd:.0f} deg" in small[0].text(PROTO)


@pytest.mark.parametrize("pitch, pillow, said", [(35, False, None), (80, False, WarningCode.OPENING_LOOSE_PILLOW),
                                                 (0, True, WarningCode.OPENING_LOOSE)])
def test_a_placement_that_cannot_size_the_opening_says_so_with_its_share(pitch, pillow, said):
    """Straight above, how high the top knee rests is along the line of sight, and the opening's
    size hangs on it (measure/gain_spread.py); level in front, how far the knee bends: the
    analysis says the opening is rough, by how much, and (no pillow declared) that a pillow
    should be declared; from 35 deg it says nothing.
    The JSON report carries the share either way."""
    from clamcoach.engine import Engine
    from clamcoach.measure.profiles import BLAZEPOSE
    from clamcoach.protocol import load_protocol
    from skeleton import Camera, clam_set, pose_frame

    proto = load_protocol(overrides=("setup.knee_pillow=true",) if pillow else ())
    cam = Camera(pitch=pitch)
    eng = Engine(proto, profile=BLAZEPOSE, focal_px=cam.focal_px)
    for t, p in clam_set(n_reps=2, opening=30.0):
        eng.push(pose_frame(p, cam, t=t), t)
    a = eng.finish()
    share = a.setup.measures.opening_gain_sd_rel
    assert a.to_dict({})["camera"]["opening_gain_sd_pct"] == pytest.approx(100 * share, abs=0.5)
    loose = [n for n in a.notices if n.code in (WarningCode.OPENING_LOOSE, WarningCode.OPENING_LOOSE_PILLOW)]
    assert (share > proto.opening.max_gain_sd_rel) is (said is not None)
    assert [n.code for n in loose] == ([said] if said else [])
    if said:
        text = loose[0].text(proto)
        assert f"about {100 * share:.0f}%" in text
        assert ("pillow" in text) is (not pillow)


@pytest.mark.parametrize("seen, loose, said", [
    (False, False, []), (True, False, [WarningCode.KNEE_PILLOW_SEEN]),
    (True, True, [WarningCode.KNEE_PILLOW_SEEN, WarningCode.OPENING_LOOSE]),
    (False, True, [WarningCode.OPENING_LOOSE_PILLOW])])
def test_knees_seen_resting_apart_are_said_and_no_pillow_is_asked_for(seen, loose, said):
    """A pillow the setup saw (MeasureStage.knee_pillow_seen) is said, and the JSON report's
    setup says it; then a loose opening does not ask the patient to declare one."""
    import dataclasses

    from clamcoach.engine import Engine
    from skeleton import Camera, clam_set, pose_frame

    cam = Camera(pitch=35)
    eng = Engine(PROTO, focal_px=cam.focal_px)
    for t, p in clam_set(n_reps=1):
        eng.push(pose_frame(p, cam, t=t), t)
    a = eng.finish()
    m = dataclasses.replace(a.setup.measures, knee_pillow_seen=seen,
                            opening_gain_sd_rel=0.5 if loose else 0.1)
    a = dataclasses.replace(a, setup=dataclasses.replace(a.setup, measures=m))
    pillowish = (WarningCode.KNEE_PILLOW_SEEN, WarningCode.OPENING_LOOSE, WarningCode.OPENING_LOOSE_PILLOW)
    assert [n.code for n in a.notices if n.code in pillowish] == said
    assert a.to_dict({})["setup"]["knee_pillow_seen"] is seen
    if seen:
        assert "pillow" in a.warnings[[n.code for n in a.notices].index(WarningCode.KNEE_PILLOW_SEEN)]
