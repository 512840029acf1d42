"""One test per finding code: each fails if its check is removed."""

import math

import pytest

from clamcoach.rules import SetupMeasures, check_rep, check_setup, sustained_max
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
