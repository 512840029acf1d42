import pytest

from clamcoach.errors import ProtocolError
from clamcoach.protocol import load_protocol


def test_defaults_match_the_method_page():
    p = load_protocol()
    assert p.roll_back.warn_deg == 10 and p.roll_back.error_deg == 15
    assert p.roll_back.sustain_s == pytest.approx(0.3)
    assert p.opening.min_rep_deg == 5 and p.opening.too_high_deg == 60
    assert p.feet.max_gap_shin_fraction == pytest.approx(0.25)
    assert p.setup.hip_target_deg == 45 and p.setup.knee_target_deg == 45
    assert p.tempo.min_up_s == 1.0 and p.tempo.hold_target_s == 2.0
    assert p.cue("roll_back") and p.message("roll_back")


def test_override_string_changes_one_value():
    p = load_protocol(overrides=["roll_back.error_deg=12"])
    assert p.roll_back.error_deg == 12
    assert p.roll_back.warn_deg == 10


def test_override_file_changes_only_its_keys(tmp_path):
    f = tmp_path / "strict.toml"
    f.write_text("[roll_back]\nwarn_deg = 7\n\n[cues]\nroll_back = 'Stay forward!'\n")
    p = load_protocol(f)
    assert p.roll_back.warn_deg == 7 and p.roll_back.error_deg == 15
    assert p.cue("roll_back") == "Stay forward!"


def test_patch_then_overrides_apply_in_order():
    p = load_protocol(patch={"roll_back": {"error_deg": 13}}, overrides=["roll_back.error_deg=11"])
    assert p.roll_back.error_deg == 11


@pytest.mark.parametrize("item, words", [
    ("roll_back.nope=3", "unknown protocol key 'roll_back.nope'"),
    ("roll_back.error_deg=high", "must be int"),
    ("rollback", "not of the form"),
    ("setup.hand_on_hip_required=3", "must be bool"),
])
def test_bad_overrides_are_reported(item, words):
    with pytest.raises(ProtocolError, match=words):
        load_protocol(overrides=[item])


def test_all_problems_in_one_message():
    with pytest.raises(ProtocolError) as err:
        load_protocol(overrides=["a.b=1", "roll_back.warn_deg=x"])
    assert "'a'" in str(err.value) and "warn_deg" in str(err.value)


def test_bad_toml_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[roll_back\n")
    with pytest.raises(ProtocolError, match="not valid TOML"):
        load_protocol(f)
