"""The web app: the page, its own static files, and the coaching WebSocket.

Privacy by construction: every script, style and picture is served from ``static/`` by this
app (the Content-Security-Policy forbids anything else), frames live only in memory, and
only pages served from this app's own host may open the WebSocket.

Phone mode (``WebConfig.phone``) adds the pairing routes and, in front of everything that
arrives over HTTPS, the device-session check (``guard.py``). The therapist's workspace
(``WebConfig.workspace``) adds its routes behind that check: over the network a request
needs a paired device first, then the workspace's own sign-in for patient data.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from clamcoach.io.memory import keep_frames_out_of_the_heap
from clamcoach.protocol import Protocol
from clamcoach.web.connection import Connection
from clamcoach.web.guard import DeviceSessionGuard, is_tls
from clamcoach.web.hub import Hub, describe
from clamcoach.web.i18n import LANGUAGES, catalogue, negotiate
from clamcoach.web.pages import STATIC, content_security_policy, render
from clamcoach.web.phone import PhoneAccess, phone_routes
from clamcoach.web.session import Session
from clamcoach.web.tls import local_names

if TYPE_CHECKING:
    from clamcoach.analysis import Analysis
    from clamcoach.measure.profiles import LandmarkProfile
    from clamcoach.pose import PoseEstimator
    from clamcoach.web.workspace import Workspace, WorkspaceConfig
    from clamcoach.web.workspace.live import LiveOwner

log = logging.getLogger(__name__)

CSP = content_security_policy()
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (b"cache-control", b"no-cache"),
]
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass
class WebConfig:
    protocol: Protocol
    #: Opens the pose estimator for a new session (runs on the session's worker thread).
    estimator_factory: Callable[[], PoseEstimator] | None = None
    #: What the pose model's landmarks are (None: BlazePose's, as measured on the tuning set;
    #: the tests' stand-in gives exact joint centres).
    profile: LandmarkProfile | None = None
    #: Called with each finished set's Analysis (e.g. to save it to the patient's history).
    on_set_done: Callable[[Analysis], None] | None = None
    host: str = "127.0.0.1"
    session_ttl_s: float = 1800.0
    max_sessions: int = 4
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)
    #: Phone mode: HTTPS on the network, pairing, device sessions (None: this computer only).
    phone: PhoneAccess | None = None
    #: The therapist's workspace (a ``web.workspace.WorkspaceConfig`` or an open ``Workspace``);
    #: None: live coaching only.
    workspace: WorkspaceConfig | Workspace | None = None


def _blazepose() -> PoseEstimator:
    from clamcoach.pose import open_estimator

    return open_estimator("blazepose")


class SecurityHeaders:
    """Adds the privacy headers to every HTTP response, refuses unknown Host names (so a web
    page elsewhere cannot reach this server through DNS rebinding) and refuses WebSockets
    opened by pages of another origin. ``allowed_hosts=None`` (listening on every
    interface, by request) accepts any Host name."""

    def __init__(self, app: ASGIApp, allowed_hosts: set[str] | None) -> None:
        self.app = app
        self.allowed = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        netloc = headers.get(b"host", b"").decode("latin-1")
        if self.allowed is not None and _hostname(netloc) not in self.allowed:
            if scope["type"] == "http":
                await JSONResponse({"error": "unknown host"}, status_code=400)(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] == "websocket":
            origin = headers.get(b"origin")
            # Browsers always send Origin; other local programs (tests, the benchmark) don't.
            if origin is not None and urlsplit(origin.decode("latin-1")).netloc != netloc:
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A route may set its own policy (the workspace's forms post to 'self').
                own = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in own]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _hostname(netloc: str) -> str:
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def _allowed_hosts(config: WebConfig) -> set[str] | None:
    if config.host in ("0.0.0.0", "::"):
        return None
    phone_names = local_names() if config.phone is not None else []
    return set(LOCAL_HOSTS) | {config.host, *config.extra_hosts, *phone_names}


def _workspace_routes(workspace: Workspace) -> list[BaseRoute]:
    from clamcoach.web.workspace import workspace_routes

    return workspace_routes(workspace)


def _open_workspace(workspace: WorkspaceConfig | Workspace | None) -> tuple[Workspace | None, bool]:
    """(the open Workspace or None, whether this app opened it and so closes it)."""
    if workspace is None:
        return None, False
    from clamcoach.web.workspace import Workspace

    if isinstance(workspace, Workspace):
        return workspace, False
    return Workspace(workspace), True


def create_app(config: WebConfig) -> Starlette:
    keep_frames_out_of_the_heap()  # a half-hour live set's frames must not grow the server
    factory = config.estimator_factory or _blazepose

    def make_session(sid: str, owner: LiveOwner | None = None) -> Session:
        # A page bound to a patient (the workspace's live coaching) coaches with their
        # prescription and saves each set to them: the owner carries both (workspace/live.py).
        protocol, on_set_done = (config.protocol, config.on_set_done) if owner is None else \
            (owner.protocol, owner.save_set)
        return Session(sid, protocol, factory, profile=config.profile, on_set_done=on_set_done)

    hub = Hub(make_session, ttl_s=config.session_ttl_s, max_sessions=config.max_sessions)
    workspace, owns_workspace = _open_workspace(config.workspace)

    async def index(request: Request) -> HTMLResponse:
        cat = catalogue(negotiate(request.headers.get("accept-language")))
        # which page this is: the computer's (shows the pairing code in phone mode) or the phone's
        where = "phone" if is_tls(request.scope) else "computer"
        return HTMLResponse(render("index.html", cat, phone_mode=config.phone is not None, where=where,
                                   workspace=workspace is not None))

    async def messages(request: Request) -> JSONResponse:
        lang = request.path_params["lang"]
        if lang not in LANGUAGES:
            return JSONResponse({"error": "no such language"}, status_code=404)
        return JSONResponse(catalogue(lang).as_json())

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, **describe(hub)})

    async def coach(ws: WebSocket) -> None:
        await Connection(ws, hub).run()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            hub.close()  # frees each session's pose model and worker thread
            if owns_workspace and workspace is not None:
                workspace.close()  # waits for a running upload, then closes the database

    middleware = [Middleware(SecurityHeaders, allowed_hosts=_allowed_hosts(config))]
    if config.phone is not None:
        middleware.append(Middleware(DeviceSessionGuard, book=config.phone.book))
    app = Starlette(
        routes=[
            *(phone_routes(config.phone) if config.phone is not None else []),
            Route("/", index),
            Route("/i18n/{lang}.json", messages),
            Route("/healthz", health),
            WebSocketRoute("/ws", coach),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            *(_workspace_routes(workspace) if workspace is not None else []),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.workspace = workspace
    return app
