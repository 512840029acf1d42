"""Malformed WebSocket messages never end the server or another client's session.

Hypothesis sends one connection batches of bad lengths, huge headers, bad JSON, bad JPEG,
out-of-order ids and stray text; afterwards the same connection still answers a ping, and a
session another page left earlier is still there with its count.
"""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clamcoach.web.frames import MAX_HEADER, pack_frame
from tests.web.helpers import Client, serve
from tests.web.standin import jpeg, script

GOOD_JPEG = jpeg(None)


def _envelope(n: int, rest: bytes) -> bytes:
    return struct.pack(">I", n) + rest


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                           max_leaves=12)
binary_messages = st.one_of(
    st.binary(max_size=64),                                                         # anything at all
    st.builds(_envelope, st.integers(0, 2**32 - 1), st.binary(max_size=64)),        # bad lengths
    st.integers(MAX_HEADER + 1, 200_000).map(                                        # huge headers
        lambda n: _envelope(n, b'{"type":"frame","id":1,"t":0,"pad":"' + b"x" * n + b'"}')),
    st.binary(min_size=1, max_size=100).map(lambda h: _envelope(len(h), h + GOOD_JPEG)),  # bad JSON
    st.builds(lambda fid, data: pack_frame(fid, 0.0, data), st.integers(0, 2**31), st.binary(min_size=1, max_size=300)),
    st.builds(lambda fid, t: pack_frame(fid, t, GOOD_JPEG),                          # out-of-order ids, odd times
              st.integers(0, 50), st.floats(-1e12, 1e12, allow_nan=False)),
    st.builds(lambda header: _envelope(len(header), header + GOOD_JPEG),
              json_values.map(lambda v: json.dumps({"type": "frame", "id": v, "t": v}).encode())),
)
text_messages = st.one_of(
    st.text(max_size=200),
    json_values.map(json.dumps),
    st.sampled_from(["hello", "control", "ping", "frame", "x"]).flatmap(
        lambda kind: json_values.map(lambda v: json.dumps({"type": kind, "action": v, "session": v, "t": v}))),
)
messages = st.lists(st.one_of(binary_messages.map(lambda b: ("bytes", b)), text_messages.map(lambda s: ("text", s))),
                    min_size=1, max_size=8)


@pytest.fixture(scope="module")
def fuzzed():
    with serve() as (url, app):
        victim = Client(url, tab="victim-tab-1")
        victim.hello()
        reps = 0
        for t, pose in script(1):
            reps = victim.step(pose, t)["session"]["reps_in_set"]
        assert reps == 1
        sid = victim.session
        victim.close()
        yield url, app, sid, {"session": None}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=messages)
# found by this test: a ping whose time was a list, or an integer too big for a float, ended the connection
@example(batch=[("text", '{"type": "ping", "action": [], "session": [], "t": []}')])
@example(batch=[("text", '{"type": "ping", "t": ' + "9" * 400 + "}")])
@example(batch=[("bytes", _envelope(428, b'{"type":"frame","id":1,"t":' + b"9" * 400 + b"}" + GOOD_JPEG))])
def test_malformed_messages_leave_the_server_and_other_sessions_alone(fuzzed, batch):
    url, app, victim_sid, attacker = fuzzed
    client = Client(url, tab="attacker-tab", session=attacker["session"])
    try:
        welcome = client.hello(takeover=True)
        attacker["session"] = client.session  # one session for all examples: the hub keeps 4
        assert welcome["type"] == "welcome"
        for kind, payload in batch:
            client.ws.send(payload)
        client.send_json({"type": "ping", "t": 4242.125})
        while client.recv_until("pong", timeout=20)["t"] != 4242.125:  # the batch may hold pings too
            pass                                                        # still answering this page
    finally:
        client.close()
    assert victim_sid in app.state.hub.sessions


def test_after_the_fuzzing_the_other_page_carries_on(fuzzed):
    url, app, victim_sid, _ = fuzzed
    victim = Client(url, tab="victim-tab-1", session=victim_sid)
    welcome = victim.hello(takeover=True)
    assert welcome["session"]["id"] == victim_sid and welcome["session"]["reps_in_set"] == 1
    victim.close()
