"""The page's files, the `serve` command line, frame parsing and the session summary."""

from __future__ import annotations

import argparse
import re
import struct
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from clamcoach.protocol import load_protocol
from clamcoach.web import cli as web_cli
from clamcoach.web.app import CSP
from clamcoach.web.pages import STATIC, TEMPLATES
from clamcoach.web.frames import FrameError, decode_jpeg, pack_frame, parse_frame
from clamcoach.session_flow import Control
from clamcoach.web.messages import NEW_SESSION, ControlMessage, Hello, MessageError, Ping, parse_text
from clamcoach.session_flow import SetRecord
from clamcoach.web.summary import summarize
from tests.test_session_flow import analysis

URL = re.compile(r"\b(?:https?|wss?)://|//[a-z0-9-]+\.[a-z]{2,}/", re.I)
#: The one URL an SVG file must contain: its XML namespace, a name, never fetched.
SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'


def page_files() -> list[Path]:
    return sorted(p for folder in (STATIC, TEMPLATES) for p in folder.rglob("*") if p.is_file())


def test_the_page_names_no_external_url_at_all():
    files = page_files()
    assert {p.suffix for p in files} >= {".html", ".js", ".css", ".svg"}
    for path in files:
        text = path.read_text("utf-8")
        if path.suffix == ".svg":
            text = text.replace(SVG_NS, "")
        found = URL.findall(text)
        assert not found, f"{path.name} names an external address: {found}"


#: What a page may link to besides its static files: the pairing page's own stylesheet and
#: certificate download, and the pages of phone mode.
OWN_ROUTES = ("/pair/style.css", "/ca.crt", "/pair", "/login")  # /login: the workspace's sign-in


@pytest.mark.parametrize("name", ["index.html", "pair.html"])
def test_every_script_and_style_is_the_apps_own(name):
    html = (TEMPLATES / name).read_text("utf-8")
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/static/") or r.startswith("#") or r in OWN_ROUTES for r in refs), refs
    for ref in refs:
        if ref.startswith("/static/"):
            assert (STATIC / ref.removeprefix("/static/")).is_file(), ref
    assert "<script>" not in html and " style=" not in html  # nothing inline: the CSP forbids it
    for js in STATIC.rglob("*.js"):
        for imp in re.findall(r'from "([^"]+)"', js.read_text("utf-8")):
            assert imp.startswith("./") and (js.parent / imp).is_file(), (js.name, imp)
    assert "default-src 'self'" in CSP and "connect-src 'self'" in CSP


def test_serve_options_and_defaults():
    parser = argparse.ArgumentParser()
    web_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.protocol, args.set, args.patient, args.no_browser, args.phone) == \
        (None, 8765, None, [], None, False, False)  # no --host: 127.0.0.1, or the LAN address with --phone
    assert args.func is web_cli.run
    args = parser.parse_args(["serve", "--port", "9000", "--set", "prescription.reps=12", "--set",
                              "prescription.sets=2", "--no-browser", "--patient", "ann", "--host", "0.0.0.0"])
    assert args.set == ["prescription.reps=12", "prescription.sets=2"] and args.no_browser
    assert args.patient == "ann" and args.port == 9000


def test_serve_rejects_a_bad_protocol_override():
    from clamcoach.errors import ProtocolError

    args = SimpleNamespace(host="127.0.0.1", port=0, protocol=None, set=["prescription.nope=1"],
                           patient=None, no_browser=True, phone=False)
    with pytest.raises(ProtocolError):
        web_cli.run(args)


def _jpeg(w=64, h=48) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((h, w, 3), 128, np.uint8))
    return buf.tobytes()


def test_frame_envelope_round_trip_and_decoding():
    data = pack_frame(7, 1234.5, _jpeg(), epoch=2)
    f = parse_frame(data, received=1.0)
    assert (f.id, f.t_ms, f.epoch, f.received) == (7, 1234.5, 2, 1.0)
    rgb = decode_jpeg(f.jpeg)
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    big = decode_jpeg(_jpeg(2560, 1440))
    assert max(big.shape[:2]) == 1280  # a huge frame is scaled down before the pose model


def test_an_image_claiming_huge_dimensions_is_refused_before_decoding():
    # a real 16x16 JPEG whose header is edited to claim 30000x30000 (2.7 GB of pixels)
    data = bytearray(_jpeg(16, 16))
    sof = data.find(b"\xff\xc0")
    for side in (30000, 5000):  # past Pillow's own bomb limit, and past ours
        data[sof + 5:sof + 9] = struct.pack(">HH", side, side)
        with pytest.raises(FrameError, match="at most 4096 on a side"):
            decode_jpeg(bytes(data))
    ok, gif = cv2.imencode(".bmp", np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(FrameError, match="JPEG or PNG"):
        decode_jpeg(gif.tobytes())
    with pytest.raises(FrameError, match="could not be decoded"):
        decode_jpeg(b"\xff\xd8 not really")


@pytest.mark.parametrize("header", [
    b'{"type":"frame","id":-1,"t":0}', b'{"type":"frame","id":1}', b'{"type":"frame","id":1,"t":"x"}',
    b'{"type":"frame","id":true,"t":0}', b'{"type":"other","id":1,"t":0}', b'[1,2]', b'\xff\xfe',
    b'{"type":"frame","id":1,"t":0,"epoch":"a"}',
])
def test_bad_frame_headers_are_refused(header):
    with pytest.raises(FrameError):
        parse_frame(struct.pack(">I", len(header)) + header + b"jpeg", 0.0)


def test_control_messages_are_checked():
    assert parse_text('{"type":"control","action":"next_set"}') == ControlMessage(Control.NEXT_SET)
    assert parse_text('{"type":"control","action":"new_session"}') == ControlMessage(NEW_SESSION)
    assert parse_text('{"type":"ping","t":1.23456}') == Ping(1.235)
    hello = parse_text('{"type":"hello","session":null,"tab":"abcdefgh12"}')
    assert hello == Hello(session=None, tab="abcdefgh12", takeover=False, role="coach")
    assert parse_text('{"type":"hello","tab":"abcdefgh12","role":"viewer"}') == Hello(None, "abcdefgh12", False, "viewer")
    assert parse_text('{"type":"hello","tab":"abcdefgh12","role":"admin"}') == Hello(None, "abcdefgh12", False, "coach")
    for bad in ('{"type":"hello","tab":"../../etc"}', '{"type":"hello","session":"' + "x" * 100 + '"}',
                '"hello"', '{"type":1}', '{"type":"control"}', '{"type":"control","action":"jump"}'):
        with pytest.raises(MessageError):
            parse_text(bad)


def test_summary_says_what_went_well_and_the_one_thing_by_priority():
    proto = load_protocol()
    sets = [SetRecord.of(1, analysis((), ("too_fast",), ("too_fast",), ("roll_back",))),
            SetRecord.of(2, analysis((), ("too_fast",)))]
    s = summarize(sets, 3, 10, proto)
    assert (s["reps"], s["clean_reps"], s["sets_done"], s["reps_target"]) == (6, 2, 2, 30)
    # too_fast happened more often, but the roll-back matters most (the method's priority)
    assert s["work_on"] == {"code": "roll_back", "count": 1, "cue": proto.cue("roll_back"),
                            "message": proto.message("roll_back")}
    assert s["went_well"] == ["You did 6 reps.", "2 of 6 reps were clean.",
                              "You kept the opening small and controlled."]
    assert s["went_well_items"][0] == {"id": "You did {n} rep.", "plural": "You did {n} reps.", "n": 6, "params": {}}
    assert s["per_set"][1] == {"set": 2, "reps": 2, "clean_reps": 1, "ended_early": False}
    clean = summarize([SetRecord.of(1, analysis((), ()))], 1, 2, proto)
    assert clean["work_on"] is None
    assert clean["went_well"] == ["You did 2 reps.", "You stayed rolled forward on every rep: the most important part.",
                                  "Every rep was clean."]
    empty = summarize([], 3, 10, proto)
    assert empty["reps"] == 0 and empty["went_well"] == ["You got set up and started: that is the first step."]


def test_only_local_host_names_unless_listening_everywhere():
    from clamcoach.web.app import WebConfig, _allowed_hosts

    proto = load_protocol()
    assert _allowed_hosts(WebConfig(protocol=proto)) >= {"127.0.0.1", "localhost", "[::1]"}
    assert "evil.example" not in _allowed_hosts(WebConfig(protocol=proto))
    assert _allowed_hosts(WebConfig(protocol=proto, host="0.0.0.0")) is None


def test_a_busy_port_is_one_clear_error():
    import socket

    from clamcoach.errors import UsageError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match="already running"):
            web_cli._listen("127.0.0.1", port)


def test_phone_mode_needs_an_address_a_phone_can_reach(monkeypatch):
    from clamcoach.errors import UsageError
    from clamcoach.web import lan
    from clamcoach.web.lan import LanAddress

    for bad in ("127.0.0.1", "localhost", "0.0.0.0", "::"):
        with pytest.raises(UsageError, match="an address the phone can reach"):
            web_cli._phone_host(bad)
    monkeypatch.setattr(lan, "lan_addresses", lambda: [])
    with pytest.raises(UsageError, match="--host ADDR"):
        web_cli._phone_host(None)
    monkeypatch.setattr(lan, "lan_addresses", lambda: [LanAddress("wlan0", "192.168.1.20"),
                                                       LanAddress("docker0", "172.17.0.1")])
    assert web_cli._phone_host(None) == ("192.168.1.20", ["192.168.1.20", "172.17.0.1"])
    assert web_cli._phone_host("10.0.0.7")[0] == "10.0.0.7"


def test_lan_addresses_put_real_private_interfaces_first(monkeypatch):
    import ifaddr

    from clamcoach.web.lan import lan_addresses

    def adapter(name, *ips):
        return ifaddr.Adapter(name, name, [ifaddr.IP(ip, 24, name) for ip in ips])

    monkeypatch.setattr(ifaddr, "get_adapters", lambda: [
        adapter("lo", "127.0.0.1"), adapter("docker0", "172.17.0.1"), adapter("eth1", "100.64.0.9"),
        adapter("wlan0", "192.168.1.20", "169.254.3.3", ("fe80::1", 0, 2))])
    assert [a.address for a in lan_addresses()] == ["192.168.1.20", "100.64.0.9", "172.17.0.1"]
