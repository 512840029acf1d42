"""Phone mode seen from the network: nothing without a paired device session.

The HTTPS listener is served on 127.0.0.1 here; the device-session check applies to every
connection that arrives over TLS, whatever its address (the browser test in a network
namespace covers a real non-loopback address).
"""

from __future__ import annotations

import json

import pytest
from starlette.routing import Mount, Route, WebSocketRoute
from websockets.exceptions import ConnectionClosed, InvalidStatus

from clamcoach.web.guard import CLOSE_NOT_PAIRED
from clamcoach.web.pages import STATIC
from clamcoach.web.pairing import TOKEN_TTL_S
from tests.web.helpers import Client, cookie_of, https_get, serve_phone
from tests.web.standin import jpeg, script

OPEN = {"/pair", "/pair/style.css", "/ca.crt"}


@pytest.fixture
def phone(tmp_path):
    with serve_phone(tmp_path, ("prescription.reps=2", "prescription.sets=1")) as srv:
        yield srv


def every_path(app) -> list[str]:
    """Each route of the app (parameters filled in) and each static file."""
    paths = []
    for route in app.routes:
        if isinstance(route, Mount):
            paths += [f"{route.path}/{p.relative_to(STATIC).as_posix()}" for p in STATIC.rglob("*") if p.is_file()]
        elif isinstance(route, (Route, WebSocketRoute)):
            paths.append(route.path.replace("{lang}", "es").replace("{token}", "x" * 43))
    return paths


def test_every_route_and_file_is_refused_without_a_session(phone):
    paths = [p for p in every_path(phone.app) if p != "/ws"]
    assert {"/", "/healthz", "/pairing", "/i18n/es.json", "/static/js/main.js"} <= set(paths)
    refused = []
    for path in paths:
        status, headers, body = https_get(phone, path)
        if path.startswith("/pair/") and path != "/pair/style.css":
            assert status == 401 and b"has been used or has expired" in body  # a guessed token
        elif path not in OPEN:
            refused.append(path)
            assert status == 401, (path, status)
            assert json.loads(body) == {"error": "not paired: scan the code on the computer's screen"}
        assert "default-src 'self'" in headers["content-security-policy"], path
    assert len(refused) > 10
    # a forged or stale cookie is no better than none
    assert https_get(phone, "/", cookie="x" * 43)[0] == 401


def test_the_websocket_is_closed_with_a_policy_code_without_a_session(phone):
    client = Client(phone.url, tls=phone.tls)
    with pytest.raises(ConnectionClosed) as closed:
        client.hello()
    assert closed.value.rcvd.code == CLOSE_NOT_PAIRED
    client.close()
    bad = Client(phone.url, tls=phone.tls, cookie="forged-cookie-value-0123456789")
    with pytest.raises(ConnectionClosed):
        bad.hello()
    bad.close()


def test_pairing_gives_a_strict_cookie_that_opens_everything(phone):
    pair_url = phone.access.pairing_url()
    status, headers, _ = https_get(phone, pair_url.removeprefix(phone.url))
    assert status == 303 and headers["location"] == "/"
    attrs = {a.strip().split("=")[0].lower() for a in headers["set-cookie"].split(";")}
    assert {"httponly", "secure", "samesite", "path"} <= attrs
    assert "samesite=strict" in headers["set-cookie"].lower()
    cookie = cookie_of(headers)
    for path in ("/", "/healthz", "/static/js/main.js", "/i18n/de.json"):
        assert https_get(phone, path, cookie=cookie)[0] == 200, path
    client = Client(phone.url, tls=phone.tls, cookie=cookie)
    welcome = client.hello()
    assert welcome["type"] == "welcome"
    result = client.step(next(iter(script(1)))[1], 0.0)
    assert result["type"] == "result"
    client.close()
    # the token was used up: the same link again is refused
    assert https_get(phone, pair_url.removeprefix(phone.url))[0] == 401


def test_an_expired_token_is_refused(phone):
    path = phone.access.pairing_url().removeprefix(phone.url)
    phone.clock.now += TOKEN_TTL_S + 1
    status, headers, body = https_get(phone, path)
    assert status == 401 and "set-cookie" not in headers


def test_pairing_tries_are_limited_per_address(phone):
    for _ in range(10):
        assert https_get(phone, "/pair/" + "g" * 43)[0] == 401
    status, _, body = https_get(phone, phone.access.pairing_url().removeprefix(phone.url))
    assert status == 429 and b"Too many tries" in body    # even the right token, for now
    phone.clock.now += 61
    assert https_get(phone, phone.access.pairing_url().removeprefix(phone.url))[0] == 303


def test_host_and_origin_are_checked_over_https(phone):
    cookie = phone.pair()
    assert https_get(phone, "/", cookie=cookie, headers={"Host": "evil.example"})[0] == 400
    with pytest.raises(InvalidStatus) as refused:  # refused at the handshake, as over HTTP
        Client(phone.url, tls=phone.tls, cookie=cookie, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    same = Client(phone.url, tls=phone.tls, cookie=cookie, origin=phone.url)
    assert same.hello()["type"] == "welcome"
    same.close()


def test_the_private_keys_are_never_served(phone):
    cookie = phone.pair()
    identity = phone.access.identity
    secrets = [identity.key_path.read_bytes(), (identity.folder / "ca-key.pem").read_bytes()]
    tries = ["/ca.crt", "/static/../server-key.pem", "/static/%2e%2e/%2e%2e/server-key.pem",
             f"/static/{identity.key_path}", "/server-key.pem", "/ca-key.pem", "/pair/../ca-key.pem"]
    tries += every_path(phone.app)
    for path in tries:
        if path == "/ws":
            continue
        status, _, body = https_get(phone, path, cookie=cookie)
        assert b"PRIVATE KEY" not in body and not any(s.strip() in body for s in secrets), path
    status, headers, body = https_get(phone, "/ca.crt")
    assert status == 200 and body == identity.ca_cert_path.read_bytes()
    assert headers["content-type"].startswith("application/x-x509-ca-cert")


def test_the_pairing_code_is_for_this_computer_only(phone):
    cookie = phone.pair()
    assert https_get(phone, "/pairing", cookie=cookie)[0] == 404      # a phone cannot mint tokens
    assert https_get(phone, "/pairing/qr.svg", cookie=cookie)[0] == 404
    import urllib.request

    with urllib.request.urlopen(phone.local + "/pairing", timeout=10) as r:
        info = json.loads(r.read())
    assert info["url"] == phone.access.pairing_url() and info["url"].startswith(phone.url + "/pair/")
    assert 0 < info["expires_in_s"] <= TOKEN_TTL_S and info["phones"] == 1
    assert info["ca_fingerprint"] == phone.access.identity.ca_fingerprint
    with urllib.request.urlopen(phone.local + "/pairing/qr.svg", timeout=10) as r:
        svg = r.read()
    assert svg.startswith(b"<svg") and b"<path" in svg and b"xmlns" in svg  # an image, not inline SVG
    # the computer's own page needs no pairing: it is this computer, as without --phone
    with urllib.request.urlopen(phone.local + "/", timeout=10) as r:
        assert b'data-where="computer"' in r.read() and r.status == 200


def test_the_computers_screen_mirrors_the_phones_coaching(phone):
    cookie = phone.pair()
    viewer = Client(phone.local, tab="computer-screen")
    viewer.send_json({"type": "hello", "tab": "computer-screen", "role": "viewer"})
    first = viewer.recv_until("welcome")
    assert first["role"] == "viewer" and first["session"] is None      # nobody coaching yet
    coach = Client(phone.url, tls=phone.tls, cookie=cookie, tab="phone-tab-1")
    coach.hello()
    mirrored = viewer.recv_until("welcome")
    assert mirrored["session"]["id"] == coach.session and mirrored["session_id"] is None
    for t, pose in script(2):
        last = coach.step(pose, t)
    assert last["session"]["state"] == "done"  # 2 reps of 1 set: the phone's session is over
    while True:  # the viewer saw it all happen, down to the summary
        msg = viewer.recv(timeout=5)
        if msg["type"] == "result" and msg["session"]["state"] == "done":
            break
    # (a viewer that falls behind loses its oldest messages, never holds up the phone: this
    # test reads it only at the end, so some were dropped)
    results = [m for m in viewer.log if m["type"] == "result"]
    assert len(results) >= 60 and {m["session"]["id"] for m in results} == {coach.session}
    assert msg["session"]["summary"]["reps"] == 2 and msg["session"]["sets_done"][0]["reps"] == 2
    # a viewer cannot send frames; its buttons act on the phone's session
    viewer.send_frame(jpeg(None))
    assert viewer.recv_until("error")["code"] == "viewer"
    coach.close()
    viewer.close()
