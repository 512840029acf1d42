"""Helpers for the web tests: the app served on 127.0.0.1 (a free port) with the stand-in
pose model, and a small WebSocket client speaking the page's protocol."""

from __future__ import annotations

import http.client
import json
import ssl
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from websockets.sync.client import connect

from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.protocol import load_protocol
from clamcoach.web.app import WebConfig, create_app
from clamcoach.web.frames import pack_frame
from clamcoach.web.pairing import PairingBook, pairing_limiter
from clamcoach.web.phone import PhoneAccess
from clamcoach.web.server import BackgroundServer
from clamcoach.web.tls import ensure_certificates
from tests.web.standin import StandInEstimator, jpeg


@contextmanager
def serve(overrides: tuple[str, ...] = (), delay_s: float = 0.0,
          estimator_factory: Callable[[], Any] | None = None,
          real: bool = False) -> Iterator[tuple[str, Any]]:
    """The app on a free port; ``real`` uses BlazePose (what ``clamcoach serve`` runs), else
    the stand-in (or the factory), whose landmarks are exact joint centres."""
    proto = load_protocol(None, overrides)
    if not real and estimator_factory is None:
        estimator_factory = lambda: StandInEstimator(delay_s)  # noqa: E731
    app = create_app(WebConfig(protocol=proto, estimator_factory=estimator_factory,
                               profile=None if real else JOINT_CENTRES))
    with BackgroundServer(app) as url:
        yield url, app


class FakeClock:
    """A clock the test moves by hand (pairing expiry, rate-limit windows)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class PhoneServer:
    """The app in phone mode: ``url`` is the HTTPS (network) listener, ``local`` the
    computer's own plain one; ``tls`` trusts the project's CA, as a phone that installed it."""

    url: str
    local: str
    app: Any
    access: PhoneAccess
    clock: FakeClock
    tls: ssl.SSLContext

    def pair(self) -> str:
        """Pair as a phone would: the device-session cookie's value."""
        status, headers, _ = https_get(self, self.access.pairing_url().removeprefix(self.url))
        assert status == 303, status
        return cookie_of(headers)


@contextmanager
def serve_phone(tmp: Path, overrides: tuple[str, ...] = ()) -> Iterator[PhoneServer]:
    """Phone mode on 127.0.0.1: HTTPS (a free port) plus the plain local listener."""
    proto = load_protocol(None, overrides)
    identity = ensure_certificates(tmp / "tls", ["127.0.0.1"], ["localhost"])
    clock = FakeClock()
    access = PhoneAccess(identity, base_url="", book=PairingBook(clock=clock),
                         limiter=pairing_limiter(clock=clock))
    app = create_app(WebConfig(protocol=proto, estimator_factory=StandInEstimator,
                               profile=JOINT_CENTRES, phone=access))
    context = ssl.create_default_context(cafile=str(identity.ca_cert_path))
    with BackgroundServer(app, tls=identity) as url, BackgroundServer(app, lifespan="off") as local:
        access.base_url = url
        yield PhoneServer(url, local, app, access, clock, context)


def https_get(server: PhoneServer, path: str, cookie: str | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    host, port = server.url.removeprefix("https://").rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=server.tls, timeout=10)
    try:
        sent = dict(headers or {})
        if cookie:
            sent["Cookie"] = f"clamcoach_device={cookie}"
        conn.request("GET", path, headers=sent)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def cookie_of(headers: dict[str, str]) -> str:
    value = headers["set-cookie"].split(";", 1)[0]
    name, _, session = value.partition("=")
    assert name == "clamcoach_device"
    return session


class Client:
    """The page's side of the protocol, synchronously (``tls``/``cookie`` for phone mode)."""

    def __init__(self, url: str, *, session: str | None = None, tab: str = "tab-aaaaaaaa",
                 origin: str | None = None, tls: ssl.SSLContext | None = None,
                 cookie: str | None = None) -> None:
        ws_url = url.replace("https://", "wss://").replace("http://", "ws://") + "/ws"
        headers = {"Origin": origin} if origin else {}
        if cookie:
            headers["Cookie"] = f"clamcoach_device={cookie}"
        self._stack = ExitStack()  # websockets >= 17 wants connect() used as a context manager
        self.ws = self._stack.enter_context(
            connect(ws_url, additional_headers=headers or None, max_size=None, open_timeout=10, ssl=tls))
        self.session, self.tab = session, tab
        self.next_id = 1
        self.t_ms = 0.0
        self.log: list[dict] = []

    def send_json(self, obj: dict) -> None:
        self.ws.send(json.dumps(obj))

    def hello(self, takeover: bool = False, role: str = "coach") -> dict:
        self.send_json({"type": "hello", "session": self.session, "tab": self.tab, "takeover": takeover,
                        "role": role})
        msg = self.recv_until("welcome", "busy")
        if msg["type"] == "welcome":
            self.session = msg["session_id"]
            if not msg["session"]["ready"] and not msg["session"]["error"]:
                msg = {**msg, **self.recv_until("ready")}
        return msg

    def recv(self, timeout: float = 10.0) -> dict:
        msg = json.loads(self.ws.recv(timeout=timeout))
        self.log.append(msg)
        return msg

    def recv_until(self, *types: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            msg = self.recv(timeout=max(0.01, deadline - time.monotonic()))
            if msg["type"] in types:
                return msg

    def send_frame(self, data: bytes, t_ms: float | None = None, epoch: int = 0) -> int:
        fid = self.next_id
        self.next_id += 1
        if t_ms is None:
            t_ms = self.t_ms
        self.ws.send(pack_frame(fid, t_ms, data, epoch))
        return fid

    def step(self, pose, t_s: float) -> dict:
        """Send one frame and wait for its answer (lock-step: nothing is dropped)."""
        fid = self.send_frame(jpeg(pose), t_s * 1000.0)
        while True:
            msg = self.recv_until("result", "error", "dropped")
            if msg.get("id") == fid:
                return msg

    def close(self) -> None:
        self._stack.close()
