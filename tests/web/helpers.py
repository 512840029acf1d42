"""Helpers for the web tests: the app served on 127.0.0.1 (a free port) with the stand-in
pose model, and a small WebSocket client speaking the page's protocol."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack, contextmanager
from typing import Any, Callable, Iterator

from websockets.sync.client import connect

from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.protocol import load_protocol
from clamcoach.web.app import WebConfig, create_app
from clamcoach.web.frames import pack_frame
from clamcoach.web.server import BackgroundServer
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


class Client:
    """The page's side of the protocol, synchronously."""

    def __init__(self, url: str, *, session: str | None = None, tab: str = "tab-aaaaaaaa",
                 origin: str | None = None) -> None:
        ws_url = url.replace("http://", "ws://") + "/ws"
        headers = {"Origin": origin} if origin else None
        self._stack = ExitStack()  # websockets >= 17 wants connect() used as a context manager
        self.ws = self._stack.enter_context(
            connect(ws_url, additional_headers=headers, max_size=None, open_timeout=10))
        self.session, self.tab = session, tab
        self.next_id = 1
        self.t_ms = 0.0
        self.log: list[dict] = []

    def send_json(self, obj: dict) -> None:
        self.ws.send(json.dumps(obj))

    def hello(self, takeover: bool = False) -> dict:
        self.send_json({"type": "hello", "session": self.session, "tab": self.tab, "takeover": takeover})
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
