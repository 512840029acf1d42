"""One test per finding code: each fails if its check is removed."""

import math

import pytest

from clamcoach.rules import SetupMeasures, check_rep, check_setup, finding, rank_codes, sustained_max
from clamcoach.types import Rep, Severity


def rep(**kw) -> Rep:
    base = dict(index=1, start_s=0.0, peak_s=2.0, end_s=6.0, opening_deg=25.0, knee_lift_cm=10.0,
                roll_back_deg=2.0, trunk_roll_back_deg=2.0, ankle_gap_cm=7.0, ankle_gap_limit_cm=10.0,
                up_s=1.5, hold_s=2.0, down_s=1.5, roll_back_sustained_s=0.3, roll_judged=True,
                roll_back_sd_deg=2.0, trunk_roll_back_sd_deg=2.5)
    base.update(kw)
    return Rep(**base)


def codes(found):
    return [f.code for f in found]


def test_clean_rep_has_no_findings(proto):
    assert check_rep(rep(), proto) == ()


@pytest.mark.parametrize("value, severity", [(11.0, Severity.WARN), (16.0, Severity.ERROR)])
def test_roll_back(proto, value, severity):
    (f,) = check_rep(rep(roll_back_deg=value), proto)
    assert f.code == "roll_back" and f.severity is severity
    assert f.value == value and f.cue == "Roll forward, lift less."


def test_roll_back_by_the_shoulder_line(proto):
    assert codes(check_rep(rep(trunk_roll_back_deg=12.0), proto)) == ["roll_back"]


def test_roll_back_not_judged_when_unseen(proto):
    assert check_rep(rep(roll_back_deg=math.nan, trunk_roll_back_deg=math.nan), proto) == ()
    # Measured too loosely for this placement: no verdict, however large the reading.
    assert check_rep(rep(roll_back_deg=20.0, roll_judged=False), proto) == ()


def test_the_shoulder_line_counts_only_when_measured_well_enough(proto):
    assert check_rep(rep(trunk_roll_back_deg=12.0, trunk_roll_back_sd_deg=9.0), proto) == ()


def test_roll_back_comes_first(proto):
    found = check_rep(rep(roll_back_deg=20.0, opening_deg=65.0, up_s=0.3), proto)
    assert codes(found)[0] == "roll_back"


def test_lift_too_high(proto):
    assert codes(check_rep(rep(opening_deg=62.0), proto)) == ["lift_too_high"]
    assert check_rep(rep(opening_deg=45.0), proto) == ()


def test_small_opening_is_never_an_error(proto):
    assert check_rep(rep(opening_deg=5.5), proto) == ()


def test_feet_apart(proto):
    assert codes(check_rep(rep(ankle_gap_cm=14.0), proto)) == ["feet_apart"]


def test_feet_apart_only_when_the_gap_is_past_its_limit_with_90_percent_confidence(proto):
    """A reading 1 cm past the 10 cm limit with an SD of 1.8 cm is not sure enough (1.28 SD
    needed: 12.3 cm); 12.4 cm is; without an SD the reading itself is judged."""
    assert check_rep(rep(ankle_gap_cm=11.0, ankle_gap_sd_cm=1.8), proto) == ()
    assert check_rep(rep(ankle_gap_cm=12.25, ankle_gap_sd_cm=1.8), proto) == ()
    assert codes(check_rep(rep(ankle_gap_cm=12.4, ankle_gap_sd_cm=1.8), proto)) == ["feet_apart"]
    assert codes(check_rep(rep(ankle_gap_cm=10.5), proto)) == ["feet_apart"]


def test_too_fast(proto):
    assert codes(check_rep(rep(up_s=0.5), proto)) == ["too_fast"]
    assert codes(check_rep(rep(down_s=0.6), proto)) == ["too_fast"]


def test_no_hold(proto):
    assert codes(check_rep(rep(hold_s=0.2), proto)) == ["no_hold"]


def test_threshold_override_changes_the_verdict():
    from clamcoach.protocol import load_protocol

    strict = load_protocol(overrides=["roll_back.warn_deg=5"])
    assert codes(check_rep(rep(roll_back_deg=6.0), strict)) == ["roll_back"]


def setup(**kw) -> SetupMeasures:
    base = dict(side_lying=True, hip_flexion_deg=45.0, knee_flexion_deg=45.0, forward_roll_deg=10.0,
                forward_roll_sd_deg=5.0, hand_on_hip=True, held_s=1.0, roll_sd_deg=2.0,
                view_can_see_roll=True, view="oblique")
    base.update(kw)
    return SetupMeasures(**base)


def test_good_setup(proto):
    assert check_setup(setup(), proto) == ()


def test_not_side_lying(proto):
    assert codes(check_setup(setup(side_lying=False), proto)) == ["not_side_lying"]


def test_hip_angle(proto):
    assert codes(check_setup(setup(hip_flexion_deg=15.0), proto)) == ["hip_angle"]
    assert codes(check_setup(setup(hip_flexion_deg=80.0), proto)) == ["hip_angle"]
    assert check_setup(setup(hip_flexion_deg=65.0), proto) == ()  # accepted, not flagged


def test_hip_angle_only_when_held(proto):
    assert check_setup(setup(hip_flexion_deg=15.0, held_s=0.5), proto) == ()


def test_knee_angle(proto):
    assert codes(check_setup(setup(knee_flexion_deg=110.0), proto)) == ["knee_angle"]
    assert check_setup(setup(knee_flexion_deg=90.0), proto) == ()


def test_not_rolled_forward(proto):
    (f,) = check_setup(setup(forward_roll_deg=-3.0), proto)
    assert f.code == "not_rolled_forward" and f.severity is Severity.WARN
    # Not judged when the setup's roll is too uncertain to tell.
    assert check_setup(setup(forward_roll_deg=-3.0, forward_roll_sd_deg=12.0), proto) == ()


def test_hand_not_on_hip(proto):
    assert codes(check_setup(setup(hand_on_hip=False), proto)) == ["hand_not_on_hip"]
    assert check_setup(setup(hand_on_hip=None), proto) == ()  # could not be told: no finding


def test_camera_view(proto):
    found = check_setup(setup(view_can_see_roll=False, roll_sd_deg=8.0, forward_roll_deg=math.nan,
                              view="front"), proto)
    assert codes(found) == ["camera_view"]
    assert found[0].value == 8.0


def test_camera_end_on(proto):
    """A camera at the feet end (the placement says it looks along the body): told to move to
    the front, with how far round it is and the limit; anywhere else, nothing."""
    (f,) = check_setup(setup(camera_end_on=True, camera_azimuth_deg=-80.0), proto)
    assert (f.code, f.severity, f.value, f.threshold) == ("camera_end_on", Severity.WARN, 80.0, 60.0)
    assert f.cue == "Move the camera round to your front."
    assert check_setup(setup(camera_end_on=False, camera_azimuth_deg=-80.0), proto) == ()


def test_sustained_max_ignores_short_spikes():
    t = [i / 30 for i in range(60)]
    v = [0.0] * 60
    for i in range(20, 24):  # 0.13 s spike
        v[i] = 20.0
    assert sustained_max(t, v, 0.3) == pytest.approx(0.0)
    for i in range(30, 45):  # 0.5 s plateau
        v[i] = 12.0
    assert sustained_max(t, v, 0.3) == pytest.approx(12.0)


def test_findings_serialise_per_the_contract(proto):
    (f,) = check_rep(rep(opening_deg=61.234), proto)
    d = f.to_dict()
    assert set(d) == {"code", "severity", "value", "threshold", "message", "cue"}
    assert d["severity"] == "warn" and d["value"] == 61.23


# -- the thresholds themselves: each test states the method's numbers, not the protocol's, so
# a threshold halved or tripled by mistake fails here (scripts/threshold_spot_check.py).

@pytest.mark.parametrize("roll, expected", [(8.0, []), (12.0, [Severity.WARN]), (13.5, [Severity.WARN]),
                                            (17.0, [Severity.ERROR])])
def test_roll_back_is_a_warning_from_10_degrees_and_an_error_from_15(proto, roll, expected):
    assert [f.severity for f in check_rep(rep(roll_back_deg=roll), proto)] == expected


@pytest.mark.parametrize("hold, expected", [(0.7, ["no_hold"]), (1.3, [])])
def test_a_hold_under_a_second_is_no_hold(proto, hold, expected):
    assert codes(check_rep(rep(hold_s=hold), proto)) == expected


@pytest.mark.parametrize("up, down, expected", [(0.8, 1.5, ["too_fast"]), (1.5, 0.8, ["too_fast"]),
                                                (1.2, 1.2, [])])
def test_lifting_or_lowering_in_under_a_second_is_too_fast(proto, up, down, expected):
    assert codes(check_rep(rep(up_s=up, down_s=down), proto)) == expected


@pytest.mark.parametrize("opening, expected", [(50.0, []), (70.0, ["lift_too_high"])])
def test_an_opening_from_60_degrees_is_too_high(proto, opening, expected):
    assert codes(check_rep(rep(opening_deg=opening), proto)) == expected


def test_a_roll_back_counts_when_it_lasts_about_a_third_of_a_second(proto):
    # At 30 fps: a 0.2 s lurch is one noisy moment, a 0.45 s roll-back is a roll-back.
    t = [i / 30 for i in range(90)]
    for seconds, expected in ((0.2, 0.0), (0.45, 12.0)):
        v = [12.0 if 30 <= i < 30 + round(seconds * 30) else 0.0 for i in range(90)]
        assert sustained_max(t, v, proto.roll_back.sustain_s) == pytest.approx(expected), seconds


def test_the_shoulder_line_counts_when_its_sd_is_under_4_degrees(proto):
    assert codes(check_rep(rep(trunk_roll_back_deg=12.0, trunk_roll_back_sd_deg=3.0), proto)) == ["roll_back"]
    assert check_rep(rep(trunk_roll_back_deg=12.0, trunk_roll_back_sd_deg=5.0), proto) == ()


@pytest.mark.parametrize("knee, expected", [(20.0, ["knee_angle"]), (35.0, []), (95.0, []),
                                            (110.0, ["knee_angle"])])
def test_knees_are_bent_between_30_and_100_degrees(proto, knee, expected):
    assert codes(check_setup(setup(knee_flexion_deg=knee), proto)) == expected


@pytest.mark.parametrize("hip, expected", [(20.0, ["hip_angle"]), (28.0, []), (68.0, []),
                                           (75.0, ["hip_angle"])])
def test_hips_are_flagged_outside_25_to_70_degrees(proto, hip, expected):
    assert codes(check_setup(setup(hip_flexion_deg=hip), proto)) == expected


@pytest.mark.parametrize("held, expected", [(0.7, []), (1.3, ["hip_angle"])])
def test_a_hip_angle_is_flagged_once_held_a_second(proto, held, expected):
    assert codes(check_setup(setup(hip_flexion_deg=15.0, held_s=held), proto)) == expected


@pytest.mark.parametrize("roll, expected", [(3.0, [Severity.INFO]), (7.0, []), (-1.0, [Severity.WARN])])
def test_rolled_forward_means_at_least_5_degrees(proto, roll, expected):
    assert [f.severity for f in check_setup(setup(forward_roll_deg=roll), proto)] == expected


@pytest.mark.parametrize("sd, judged", [(6.0, True), (11.0, False)])
def test_the_setup_roll_is_judged_when_its_sd_is_under_9_degrees(proto, sd, judged):
    found = check_setup(setup(forward_roll_deg=-3.0, forward_roll_sd_deg=sd), proto)
    assert codes(found) == (["not_rolled_forward"] if judged else [])


# -- rep_measures: the per-rep numbers from a hand-built rep whose answers are known ----------

FPS = 30


def _kin(t, roll=10.0, trunk=15.0, lift=2.0, gap=2.0, opening=0.0, roll_sd=2.0, trunk_sd=3.0):
    from clamcoach.types import Kinematics, Spread

    return Kinematics(t=t, opening_deg=opening, pelvis_roll_deg=roll, trunk_roll_deg=trunk,
                      knee_lift_cm=lift, ankle_gap_cm=gap, shin_length_cm=40.0,
                      sd=Spread(opening_deg=1.5, pelvis_roll_deg=roll_sd, trunk_roll_deg=trunk_sd,
                                ankle_gap_cm=0.8))


def _event(roll_sd=2.0, rest=True, roll_dip=6.0, trunk_dip=8.0):
    """A 3 s rep from t = 2 at 30 fps: the pelvis rolls back 6 deg for 0.6 s (and for one frame
    20 deg, noise), the shoulders 8 deg, the knee lifts 10 cm, the ankles part 18 cm for 0.1 s."""
    from clamcoach.reps import RepEvent, Sample

    samples = []
    for i in range(3 * FPS):
        t = 2.0 + i / FPS
        u = i / (3 * FPS)
        roll, trunk, gap = 10.0, 15.0, 2.0
        if 1.2 <= t - 2.0 < 1.8:
            roll, trunk = 10.0 - roll_dip, 15.0 - trunk_dip
        if i == 20:
            roll = -10.0
        if 30 <= i < 33:
            gap = 20.0
        samples.append(Sample(t, 25 * math.sin(math.pi * u),
                              _kin(t, roll, trunk, 2.0 + 10 * math.sin(math.pi * u), gap,
                                   roll_sd=roll_sd, trunk_sd=roll_sd + 1)))
    # Rest: earlier than half a second before the start the body lay differently (30 deg):
    # only the last half second sets the start level.
    rest_samples = tuple(Sample(t / FPS, 0.0, _kin(t / FPS, roll=30.0 if t / FPS < 1.5 else 10.0,
                                                   trunk=40.0 if t / FPS < 1.5 else 15.0,
                                                   lift=9.0 if t / FPS < 1.5 else 2.0,
                                                   roll_sd=roll_sd, trunk_sd=roll_sd + 1))
                         for t in range(0, 2 * FPS)) if rest else ()
    return RepEvent(start_s=2.0, peak_s=3.5, end_s=5.0, start_level=1.0, peak_opening=26.0,
                    up_s=1.2, hold_s=0.6, down_s=1.2, samples=tuple(samples), rest_samples=rest_samples)


def test_rep_measures_of_a_known_rep(proto):
    from clamcoach.rules import rep_measures

    r = rep_measures(_event(), 4, proto)
    assert (r.index, r.start_s, r.peak_s, r.end_s) == (4, 2.0, 3.5, 5.0)
    assert (r.up_s, r.hold_s, r.down_s) == (1.2, 0.6, 1.2)
    assert r.opening_deg == 25.0                       # peak over the start level
    assert r.opening_sd_deg == 1.5
    assert r.knee_lift_cm == pytest.approx(10.0, abs=0.01)
    assert r.roll_back_deg == pytest.approx(6.0)       # the one-frame 20 deg is not sustained
    assert r.trunk_roll_back_deg == pytest.approx(8.0)
    assert (r.roll_back_sd_deg, r.trunk_roll_back_sd_deg) == (2.0, 3.0)
    assert r.roll_judged is True
    assert r.ankle_gap_cm == pytest.approx(2.0)        # a 0.1 s parting is not sustained
    assert r.ankle_gap_sd_cm == 0.8
    assert r.ankle_gap_limit_cm == pytest.approx(10.0)  # a quarter of the 40 cm shin
    assert r.roll_back_sustained_s == proto.roll_back.sustain_s
    assert r.findings == ()


def test_a_reps_opening_sd_is_the_one_at_its_peak(proto):
    """The opening's SD grows with the opening (its gain's share): the rep's is the peak frame's,
    where the opening is read, not the rest frames' smaller one."""
    import dataclasses

    from clamcoach.rules import rep_measures
    from clamcoach.types import Spread

    ev = _event()
    samples = tuple(dataclasses.replace(s, kin=dataclasses.replace(
        s.kin, sd=Spread(opening_deg=1.0 + s.opening / 5, pelvis_roll_deg=2.0, trunk_roll_deg=3.0,
                         ankle_gap_cm=0.8))) for s in ev.samples)
    ev = dataclasses.replace(ev, samples=samples)
    peak = min(samples, key=lambda s: abs(s.t - ev.peak_s))
    r = rep_measures(ev, 0, proto)
    assert r.opening_sd_deg == pytest.approx(1.0 + peak.opening / 5)
    assert r.opening_sd_deg > 5.5   # 25 deg at the peak: 6; the rep's median frame would say ~4


def test_rep_measures_judge_the_roll_only_when_seen_well_enough(proto):
    from clamcoach.rules import rep_measures

    assert rep_measures(_event(roll_sd=3.9), 1, proto).roll_judged is True
    assert rep_measures(_event(roll_sd=4.0), 1, proto).roll_judged is True  # at the limit: judged
    assert rep_measures(_event(roll_sd=4.5), 1, proto).roll_judged is False


def test_rolling_forward_in_a_rep_is_no_roll_back(proto):
    from clamcoach.rules import rep_measures

    r = rep_measures(_event(roll_dip=-5.0, trunk_dip=-5.0), 1, proto)
    assert (r.roll_back_deg, r.trunk_roll_back_deg) == (0.0, 0.0)


def test_without_rest_the_rep_starts_from_its_first_frames(proto):
    from clamcoach.rules import rep_measures

    r = rep_measures(_event(rest=False), 1, proto)
    assert r.roll_back_deg == pytest.approx(6.0)
    # The start is the median of the first three frames and the first again: 2 + 5 sin(pi/90).
    assert r.knee_lift_cm == pytest.approx(10.0 - 5 * math.sin(math.pi / 90), abs=1e-6)


def test_findings_carry_the_rep_the_time_and_the_protocols_words(proto):
    found = {f.code: f for f in check_rep(rep(index=3, roll_back_deg=12.0, opening_deg=65.0,
                                              ankle_gap_cm=14.0, up_s=0.5, hold_s=0.2), proto)}
    assert list(found) == ["roll_back", "lift_too_high", "feet_apart", "too_fast", "no_hold"]
    for code, f in found.items():
        assert f.rep == 3
        assert f.message == proto.message(code) and f.message
        assert f.cue == proto.cue(code) and f.cue
    assert {code: f.t for code, f in found.items()} == {
        "roll_back": 2.0, "lift_too_high": 2.0, "feet_apart": 2.0, "too_fast": 6.0, "no_hold": 6.0}
    assert (found["feet_apart"].value, found["feet_apart"].threshold) == (14.0, 10.0)
    assert (found["too_fast"].value, found["too_fast"].threshold) == (0.5, 1.0)
    assert (found["no_hold"].value, found["no_hold"].threshold) == (0.2, 1.0)
    assert (found["lift_too_high"].value, found["lift_too_high"].threshold) == (65.0, 60.0)
    assert (found["roll_back"].value, found["roll_back"].threshold) == (12.0, 10.0)


def test_unknown_codes_sort_after_every_known_one():
    from clamcoach.rules import PRIORITY, priority

    assert [priority(c) for c in PRIORITY] == list(range(len(PRIORITY)))
    assert priority("something_new") == len(PRIORITY)


def test_median_ignores_gaps_and_is_nan_when_empty():
    from clamcoach.rules import _median

    assert _median([3.0, math.nan, 1.0, 2.0]) == 2.0
    assert _median([1.0, 4.0]) == 2.5
    assert math.isnan(_median([math.nan]))
    assert math.isnan(_median([]))


@pytest.mark.parametrize("kw, expected", [
    (dict(roll_back_deg=10.0), ["roll_back"]),       # at a threshold: the finding
    (dict(opening_deg=60.0), ["lift_too_high"]),
    (dict(ankle_gap_cm=10.0), []),                   # at the limit: still together
    (dict(up_s=1.0, down_s=1.0), []),                # exactly the minimum: not too fast
    (dict(hold_s=1.0), []),
])
def test_values_at_a_threshold(proto, kw, expected):
    assert codes(check_rep(rep(**kw), proto)) == expected


def test_a_roll_back_of_exactly_15_degrees_is_an_error(proto):
    (f,) = check_rep(rep(roll_back_deg=15.0), proto)
    assert (f.severity, f.threshold) == (Severity.ERROR, 15.0)


def test_the_larger_of_pelvis_and_shoulder_roll_back_counts(proto):
    (f,) = check_rep(rep(roll_back_deg=11.0, trunk_roll_back_deg=16.0), proto)
    assert (f.value, f.severity) == (16.0, Severity.ERROR)
    (f,) = check_rep(rep(roll_back_deg=16.0, trunk_roll_back_deg=11.0), proto)
    assert f.value == 16.0
    (f,) = check_rep(rep(roll_back_deg=math.nan, trunk_roll_back_deg=12.0), proto)
    assert f.value == 12.0


def test_the_shoulder_line_is_ignored_when_the_protocol_says_so():
    from clamcoach.protocol import load_protocol

    hips_only = load_protocol(overrides=["roll_back.check_trunk=false"])
    assert check_rep(rep(trunk_roll_back_deg=12.0), hips_only) == ()


def test_too_fast_says_the_quicker_half(proto):
    (f,) = check_rep(rep(up_s=0.6, down_s=0.8), proto)
    assert f.value == 0.6
    (f,) = check_rep(rep(up_s=1.5, down_s=0.7), proto)
    assert f.value == 0.7


# -- Sustained: the live form of sustained_max (exact times: steps of 1/8 s) -----------------

def test_sustained_says_yes_once_the_level_has_held_for_the_duration():
    from clamcoach.rules import Sustained

    s = Sustained(level=10.0, duration_s=0.25)
    got = [s.push(i / 8, v) for i, v in enumerate([0, 10, 12, 11, 12, 3, 10, 10, 10])]
    # Held from t = 0.125: yes at 0.375 (exactly 0.25 later), on while it holds, off when it drops.
    assert got == [False, False, False, True, True, False, False, False, True]


def test_sustained_forgets_on_a_gap_and_on_reset():
    from clamcoach.rules import Sustained

    s = Sustained(level=5.0, duration_s=0.25)
    assert [s.push(t, v) for t, v in [(0.0, 6), (0.125, math.nan), (0.25, 6), (0.375, 6)]] == \
        [False, False, False, False]
    assert s.push(0.5, 6.0) is True
    s.reset()
    assert s.push(0.625, 6.0) is False
    assert s.push(0.875, 6.0) is True


# -- sustained_max's windows, on exact times (steps of 1/16 s, a 0.25 s duration) -------------

T16 = [i / 16 for i in range(17)]  # 0 .. 1 s


def _plateau(first: int, last: int) -> list[float]:
    return [12.0 if first <= i <= last else 0.0 for i in range(17)]


def test_a_window_is_the_duration_from_its_first_sample_not_including_its_end():
    # Samples 4-7 (t = 0.25 .. 0.4375) cover 0.25 s of frames: sustained. Samples 4-6 do not.
    assert sustained_max(T16, _plateau(4, 7), 0.25) == 12.0
    assert sustained_max(T16, _plateau(4, 6), 0.25) == 0.0


def test_a_window_cut_by_the_end_counts_when_three_quarters_of_it_were_seen():
    # The last four samples span 0.1875 s (exactly 3/4 of 0.25): enough. The last three: not.
    assert sustained_max(T16, _plateau(13, 16), 0.25) == 12.0
    assert sustained_max(T16, _plateau(14, 16), 0.25) == 0.0


def test_sustained_max_of_too_short_or_empty_signals_is_nan():
    assert math.isnan(sustained_max([0.0, 0.1], [5.0, 5.0], 0.3))
    assert math.isnan(sustained_max([], [], 0.3))
    assert math.isnan(sustained_max(T16, [math.nan] * 17, 0.25))
    assert sustained_max(T16, [math.nan] * 4 + [7.0] * 13, 0.25) == 7.0


def test_a_rep_whose_frames_had_no_measures_has_none(proto):
    from clamcoach.reps import RepEvent, Sample
    from clamcoach.rules import rep_measures

    ev = _event()
    blind = RepEvent(**{**ev.__dict__, "samples": tuple(Sample(s.t, s.opening) for s in ev.samples)})
    r = rep_measures(blind, 1, proto)
    assert r.opening_deg == 25.0  # the opening comes from the detector, not the frames
    for value in (r.knee_lift_cm, r.roll_back_deg, r.trunk_roll_back_deg, r.ankle_gap_cm,
                  r.ankle_gap_limit_cm, r.opening_sd_deg):
        assert math.isnan(value)


def test_the_start_level_is_read_from_half_a_second_of_rest_including_its_first_frame(proto):
    from clamcoach.reps import RepEvent, Sample
    from clamcoach.rules import rep_measures

    ev = _event()
    # Rest frames at exactly 0.5 s and 0.25 s before the start (pelvis roll 30 and 10), the
    # rep's first frame at 10 (the roll-back dip goes to 4): start = median(30, 10, 10) = 10.
    rest = (Sample(1.5, 0.0, _kin(1.5, roll=30.0)), Sample(1.75, 0.0, _kin(1.75, roll=10.0)),
            Sample(1.0, 0.0, _kin(1.0, roll=50.0)))
    shifted = RepEvent(**{**ev.__dict__, "rest_samples": rest})
    assert rep_measures(shifted, 1, proto).roll_back_deg == pytest.approx(6.0)
    # With a first frame at 20 the frame at exactly -0.5 s tips the median: median(30, 10, 20)
    # = 20 -> roll-back 16 (without it, median(10, 20) = 15 -> 11).
    first = ev.samples[0]
    samples = (Sample(first.t, first.opening, _kin(first.t, roll=20.0)),) + ev.samples[1:]
    shifted = RepEvent(**{**ev.__dict__, "rest_samples": rest, "samples": samples})
    assert rep_measures(shifted, 1, proto).roll_back_deg == pytest.approx(16.0)


@pytest.mark.parametrize("kw, code, severity, value, threshold", [
    (dict(side_lying=False), "not_side_lying", Severity.ERROR, None, None),
    (dict(forward_roll_deg=0.0), "not_rolled_forward", Severity.WARN, 0.0, 5.0),
    (dict(forward_roll_deg=0.5), "not_rolled_forward", Severity.INFO, 0.5, 5.0),
    (dict(view_can_see_roll=False, roll_sd_deg=7.0), "camera_view", Severity.WARN, 7.0, 4.0),
    (dict(hip_flexion_deg=20.0), "hip_angle", Severity.WARN, 20.0, 25.0),
    (dict(hip_flexion_deg=75.0), "hip_angle", Severity.WARN, 75.0, 70.0),
    (dict(knee_flexion_deg=20.0), "knee_angle", Severity.INFO, 20.0, 30.0),
    (dict(knee_flexion_deg=110.0), "knee_angle", Severity.INFO, 110.0, 100.0),
    (dict(hand_on_hip=False), "hand_not_on_hip", Severity.INFO, 0.0, 1.0),
])
def test_each_setup_finding_says_how_bad_what_was_measured_and_the_limit(proto, kw, code, severity,
                                                                          value, threshold):
    (f,) = check_setup(setup(**kw), proto)
    assert (f.code, f.severity, f.value, f.threshold) == (code, severity, value, threshold)
    assert f.message == proto.message(code) and f.cue == proto.cue(code)


@pytest.mark.parametrize("kw", [dict(forward_roll_deg=5.0), dict(forward_roll_deg=-3.0, forward_roll_sd_deg=9.0),
                                dict(hip_flexion_deg=25.0), dict(hip_flexion_deg=70.0),
                                dict(knee_flexion_deg=30.0), dict(knee_flexion_deg=100.0)])
def test_setup_values_at_a_limit_are_accepted(proto, kw):
    found = check_setup(setup(**kw), proto)
    if "forward_roll_sd_deg" in kw:  # an SD at the limit: judged (and here not rolled forward)
        assert codes(found) == ["not_rolled_forward"]
    else:
        assert found == ()


def test_the_shoulder_line_counts_at_an_sd_of_exactly_4_degrees(proto):
    assert codes(check_rep(rep(trunk_roll_back_deg=12.0, trunk_roll_back_sd_deg=4.0), proto)) == ["roll_back"]


@pytest.mark.parametrize("kw, severity", [(dict(ankle_gap_cm=14.0), Severity.WARN), (dict(up_s=0.5), Severity.INFO),
                                          (dict(hold_s=0.2), Severity.INFO), (dict(opening_deg=65.0), Severity.WARN)])
def test_rep_finding_severities(proto, kw, severity):
    (f,) = check_rep(rep(**kw), proto)
    assert f.severity is severity


def test_without_rest_the_roll_sd_is_read_from_the_first_frames(proto):
    from clamcoach.reps import RepEvent, Sample
    from clamcoach.rules import rep_measures

    ev = _event(rest=False)
    # The first three frames' pelvis/shoulder roll SDs 2, 3, 4 (and the first again): median 2.5.
    first = tuple(Sample(s.t, s.opening, _kin(s.t, roll_sd=sd, trunk_sd=sd + 1))
                  for s, sd in zip(ev.samples[:3], (2.0, 3.0, 4.0)))
    r = rep_measures(RepEvent(**{**ev.__dict__, "samples": first + ev.samples[3:]}), 1, proto)
    assert (r.roll_back_sd_deg, r.trunk_roll_back_sd_deg) == (2.5, 3.5)


def test_setup_findings_come_in_priority_order(proto):
    found = check_setup(setup(forward_roll_deg=1.0, view_can_see_roll=False, hip_flexion_deg=80.0,
                              knee_flexion_deg=110.0, hand_on_hip=False), proto)
    assert codes(found) == ["not_rolled_forward", "camera_view", "hip_angle", "knee_angle", "hand_not_on_hip"]


def test_codes_rank_by_the_methods_priority_then_by_how_often(proto):
    def found(code, n):
        return [finding(proto, code, Severity.WARN, 1.0, 1.0)] * n

    every = found("no_hold", 3) + found("zz_unknown", 2) + found("roll_back", 1) + found("feet_apart", 2) \
        + found("aa_unknown", 5)
    # codes the method does not rank come last, the more frequent first
    assert rank_codes(every) == [("roll_back", 1), ("feet_apart", 2), ("no_hold", 3),
                                 ("aa_unknown", 5), ("zz_unknown", 2)]
    assert rank_codes(found("zz_unknown", 5) + found("aa_unknown", 2)) == [("zz_unknown", 5), ("aa_unknown", 2)]
    assert rank_codes(every, 2) == [("roll_back", 1), ("feet_apart", 2)]
    assert rank_codes([]) == []
