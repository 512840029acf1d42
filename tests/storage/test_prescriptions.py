from __future__ import annotations

import pytest

from clamcoach.errors import ProtocolError
from clamcoach.protocol import load_protocol
from clamcoach.storage.prescription import clean_fields, parse_overrides, protocol_patch
from tests.report.samples import make_report
from tests.storage.conftest import row_counts


def test_versions_inherit_and_merge(store):
    assert store.active_prescription("ann") is None
    v1 = store.prescribe("ann", sets=3, reps=10, hold_s=2, side="left", band="Light",
                         overrides={"roll_back": {"error_deg": 12}}, note="first")
    v2 = store.prescribe("ann", reps=12, overrides={"opening": {"too_high_deg": 50}})
    assert (v1, v2) == (1, 2)
    p = store.active_prescription("ann")
    assert (p["version"], p["sets"], p["reps"], p["hold_s"], p["side"], p["band"]) == (
        2, 3, 12, 2.0, "left", "light")
    assert p["overrides"] == {"roll_back": {"error_deg": 12}, "opening": {"too_high_deg": 50}}
    assert p["note"] is None
    v3 = store.prescribe("ann", replace_overrides=True, tempo="2-2-2")
    assert store.active_prescription("ann")["overrides"] == {}
    assert [x["version"] for x in store.prescriptions("ann")] == [1, 2, v3]
    assert store.prescriptions("ann")[0]["note"] == "first"


def test_patch_drives_the_protocol(store):
    store.prescribe("ben", sets=2, reps=15, hold_s=5, side="right", band="medium",
                    overrides={"roll_back": {"error_deg": 12}})
    proto = load_protocol(patch=store.protocol_patch("ben"))
    assert (proto.prescription.sets, proto.prescription.reps, proto.prescription.side) == (2, 15, "right")
    assert proto.roll_back.error_deg == 12.0
    assert proto.prescription.hold_s == 5.0 and proto.tempo.hold_min_s == 1.0
    assert store.protocol_patch("nobody") == {}


def test_sessions_remember_the_prescription(store):
    store.save_analysis("cal", make_report())
    store.prescribe("cal", reps=8)
    store.save_analysis("cal", make_report())
    assert [s["prescription_version"] for s in store.history("cal")] == [None, 1]


@pytest.mark.parametrize("fields, overrides", [
    ({"sets": 0}, None),
    ({"side": "up"}, None),
    ({"tempo": "fast"}, None),
    ({"hold_s": "long"}, None),
    ({}, {"roll_back": {"nope": 1}}),
    ({}, {"roll_back": {"error_deg": "high"}}),
])
def test_invalid_prescriptions_are_rejected_and_not_saved(store, db_url, fields, overrides):
    store.prescribe("dee", sets=3)
    before = row_counts(db_url)
    with pytest.raises(ProtocolError):
        store.prescribe("dee", overrides=overrides, **fields)
    assert row_counts(db_url) == before
    assert store.active_prescription("dee")["version"] == 1


def test_parse_overrides():
    assert parse_overrides(["roll_back.error_deg=12", "roll_back.check_trunk=false",
                            "prescription.band=light"]) == {
        "roll_back": {"error_deg": 12, "check_trunk": False}, "prescription": {"band": "light"}}
    for bad in ("error_deg=12", "roll_back.error_deg", ".x=1"):
        with pytest.raises(ProtocolError):
            parse_overrides([bad])


def test_clean_fields_reports_every_problem():
    with pytest.raises(ProtocolError) as err:
        clean_fields(sets=0, reps=1000, side="up")
    text = str(err.value)
    assert "sets" in text and "reps" in text and "side" in text
    assert clean_fields(sets="3", side="Left", band=" Light ") == {"sets": 3, "side": "left", "band": "light"}


def test_patch_of_nothing():
    assert protocol_patch(None) == {}
    assert protocol_patch({"hold_s": 0.5, "overrides": {}})["tempo"]["hold_min_s"] == 0.5
