"""The live page's setup hints are the protocol file's cues, sent to the page like the
finding labels: the page's scripts keep no copy of a protocol text."""

from __future__ import annotations

from pathlib import Path

import clamcoach.web
from clamcoach.protocol import load_protocol
from clamcoach.setup import SETUP_CHECKS
from clamcoach.web.session import Session
from tests.web.standin import StandInEstimator

STATIC_JS = Path(clamcoach.web.__file__).parent / "static" / "js"


def _snapshot(proto) -> dict:
    session = Session("s-hints", proto, StandInEstimator)
    try:
        return session.executor.submit(session.snapshot).result()
    finally:
        session.close()


def test_every_setup_step_gets_its_hint_from_the_protocol():
    proto = load_protocol()
    hints = _snapshot(proto)["setup_hints"]
    assert list(hints) == list(SETUP_CHECKS)
    assert hints == {"side_lying": proto.cues["not_side_lying"],
                     "hips_knees_bent": proto.cues["hips_knees_bent"],
                     "rolled_forward": proto.cues["not_rolled_forward"],
                     "hand_on_hip": proto.cues["hand_not_on_hip"]}
    assert hints["hips_knees_bent"] == "Bend your hips and knees, about 45°."
    assert all(hints.values())


def test_a_custom_protocol_changes_the_hints(tmp_path):
    custom = tmp_path / "custom.toml"
    custom.write_text('[cues]\nnot_side_lying = "Turn onto your side."\n'
                      'hips_knees_bent = "Knees and hips at 45 degrees."\n', encoding="utf-8")
    hints = _snapshot(load_protocol(custom))["setup_hints"]
    assert hints["side_lying"] == "Turn onto your side."
    assert hints["hips_knees_bent"] == "Knees and hips at 45 degrees."


def test_the_page_scripts_copy_no_protocol_text():
    proto = load_protocol()
    texts = {*proto.cues.values(), *proto.labels.values(), *proto.messages.values()}
    for script in sorted(STATIC_JS.glob("*.js")):
        source = script.read_text("utf-8")
        assert {text for text in texts if text in source} == set(), script.name


def test_the_cues_the_page_shows_by_itself_come_from_the_protocol():
    proto = load_protocol()
    assert _snapshot(proto)["page_cues"] == {"get_in_frame": proto.cues["get_in_frame"]}
    assert proto.cues["get_in_frame"] == "Move so your whole body is in view."
