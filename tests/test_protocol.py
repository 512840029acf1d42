import pytest
from hypothesis import given
from hypothesis import strategies as st

from clamcoach.errors import ProtocolError
from clamcoach.protocol import load_protocol


def test_defaults_match_the_method_page():
    p = load_protocol()
    assert p.roll_back.warn_deg == 10 and p.roll_back.error_deg == 15
    assert p.roll_back.sustain_s == pytest.approx(0.3)
    assert p.opening.min_rep_deg == 5 and p.opening.too_high_deg == 60
    assert p.feet.max_gap_shin_fraction == pytest.approx(0.25)
    assert (p.setup.hip_min_deg, p.setup.hip_max_deg, p.setup.knee_min_deg) == (30, 60, 30)
    assert p.tempo.min_up_s == 1.0 and p.tempo.hold_min_s == 1.0 and p.prescription.hold_s == 2.0
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


def test_a_retired_key_says_why_it_is_refused(tmp_path):
    f = tmp_path / "old.toml"
    f.write_text("[tempo]\nhold_target_s = 3.0\n\n[setup]\nhip_target_deg = 50\n")
    with pytest.raises(ProtocolError) as err:
        load_protocol(f)
    text = str(err.value)
    assert "'tempo.hold_target_s' is no longer used: the hold to reach is prescription.hold_s" in text
    assert "'setup.hip_target_deg' is no longer used" in text


class _Reads:
    """A protocol section that remembers which of its values were read."""

    def __init__(self, section: object, seen: set[str]) -> None:
        self._section, self._seen = section, seen

    def __getattr__(self, name: str) -> object:
        self._seen.add(name)
        return getattr(self._section, name)


#: Values that only draw something, read by no check: the plots' band of a typical opening,
#: and the top of the forward-roll band (only too little forward roll is a finding).
SHOWN_ONLY = {"opening.typical_min_deg", "opening.typical_max_deg", "setup.forward_roll_max_deg"}
#: Read by a check the engine never reaches (none: keep it so).
NEVER_REACHED: set[str] = set()


def test_every_threshold_is_read_by_a_check():
    """A value in the file that no check reads would still be listed in the report as a
    "threshold used": the engine, run on a set with mistakes, reads every one."""
    from dataclasses import fields, replace

    from clamcoach.engine import Engine
    from clamcoach.measure.profiles import JOINT_CENTRES
    from skeleton import Camera, clam_set, pose_frame

    proto = load_protocol()
    seen: dict[str, set[str]] = {}
    sections = ("setup", "roll_back", "opening", "feet", "tempo")
    watched = replace(proto, **{name: _Reads(getattr(proto, name), seen.setdefault(name, set()))
                                for name in sections})
    cam = Camera(pitch=35)
    eng = Engine(watched, profile=JOINT_CENTRES, focal_px=cam.focal_px)
    for t, p in clam_set(n_reps=3, roll_back={2: 20}, feet_apart={3: 20}):
        eng.push(pose_frame(p, cam, t=t, top="left"), t)
    eng.finish().notices            # the analysis' warnings read their thresholds too
    unread = {f"{name}.{f.name}" for name in sections for f in fields(getattr(proto, name))
              if f.name not in seen[name]}
    assert unread == SHOWN_ONLY | NEVER_REACHED


def test_one_override_parser_and_one_merge_for_protocol_and_prescriptions():
    from clamcoach.protocol import merge, parse_overrides
    from clamcoach.storage import prescription

    assert prescription.parse_overrides is parse_overrides and prescription.merge is merge
    patch = parse_overrides(["roll_back.error_deg=12", "roll_back.check_trunk=false", "prescription.band=red"])
    assert patch == {"roll_back": {"error_deg": 12, "check_trunk": False}, "prescription": {"band": "red"}}
    base = {"roll_back": {"warn_deg": 10, "error_deg": 15}}
    merged = merge(base, patch)
    assert merged["roll_back"] == {"warn_deg": 10, "error_deg": 12, "check_trunk": False}
    assert base == {"roll_back": {"warn_deg": 10, "error_deg": 15}}  # inputs unchanged
    with pytest.raises(ProtocolError) as err:
        parse_overrides(["nodot=1", "a..b=2", "x.y=1", "x.y.z=2"])
    assert str(err.value).count("not of the form") == 2 and "'x.y.z=2' conflicts" in str(err.value)


@given(st.dictionaries(st.sampled_from(["roll_back.sustain_s", "roll_back.max_sd_deg", "opening.too_high_deg",
                                        "tempo.min_up_s", "feet.max_gap_shin_fraction"]),
                       st.integers(16, 40), min_size=1))
def test_overrides_as_strings_equal_the_same_patch(values):
    """``--set`` strings and a nested patch of the same values make the same protocol."""
    from clamcoach.protocol import parse_overrides

    items = [f"{k}={v}" for k, v in values.items()]
    by_strings = load_protocol(overrides=items)
    assert load_protocol(patch=parse_overrides(items)) == by_strings
    for key, value in values.items():
        section, name = key.split(".")
        assert getattr(getattr(by_strings, section), name) == value


def test_every_camera_move_has_its_words_in_the_protocol():
    from clamcoach.measure.placement import CameraMove

    proto = load_protocol()
    moves = {m.value for m in CameraMove if m is not CameraMove.NONE}
    assert set(proto.camera_moves) == moves
    assert all(proto.camera_moves[m].strip() for m in moves)
