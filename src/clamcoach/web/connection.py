"""One page's WebSocket: hello, then frames in and results out, never queueing without bound.

Frames go into a one-frame slot: a frame that arrives while the previous one still waits is
replaced (the page is told, so its count of frames in flight stays right), so the analysis
always works on the newest frame and latency cannot pile up on a slow machine.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from clamcoach.errors import ClamcoachError
from clamcoach.web.frames import Frame, FrameError, parse_frame
from clamcoach.web.hub import Busy, Hub
from clamcoach.session_flow import Control
from clamcoach.web.messages import ControlMessage, Hello, MessageError, Ping, dumps, error, parse_text
from clamcoach.web.session import Session

if TYPE_CHECKING:
    from clamcoach.web.workspace.live import LiveOwner

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 10.0
#: A viewer more than this many messages behind loses the oldest ones (it redraws from the next).
VIEWER_QUEUE = 64
CLOSE_BUSY = 4001
CLOSE_TAKEN_OVER = 4002


class LatestSlot:
    """Holds at most one frame: the newest."""

    def __init__(self) -> None:
        self._frame: Frame | None = None
        self._ready = asyncio.Event()

    def put(self, frame: Frame) -> Frame | None:
        """Store ``frame``; returns the older frame it replaced (dropped), if any."""
        old, self._frame = self._frame, frame
        self._ready.set()
        return old

    async def get(self) -> Frame:
        while self._frame is None:
            self._ready.clear()
            await self._ready.wait()
        frame, self._frame = self._frame, None
        return frame


class Connection:
    def __init__(self, ws: WebSocket, hub: Hub, owner: LiveOwner | None = None) -> None:
        self.ws = ws
        self.hub = hub
        self.owner = owner  # whose sets these are (hub.py); None: the plain live page
        self.tab = ""
        self.session: Session | None = None
        self.slot = LatestSlot()
        self._send_lock = asyncio.Lock()
        self._kicked = False
        self.loop: asyncio.AbstractEventLoop | None = None  # for tests that cut the line
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=VIEWER_QUEUE)
        self.viewer_dropped = 0

    async def send(self, msg: dict[str, Any]) -> None:
        if self.ws.application_state != WebSocketState.CONNECTED:
            return
        async with self._send_lock:
            try:
                await self.ws.send_text(dumps(msg))
            except (WebSocketDisconnect, RuntimeError, OSError):
                pass  # the page went away mid-send; the receive loop will notice

    async def kick(self, kind: str, message: str) -> None:
        """Another connection took this page's place: say so, then close."""
        self._kicked = True
        await self.send({"type": kind, "message": message})
        try:
            await self.ws.close(code=CLOSE_TAKEN_OVER)
        except RuntimeError:
            pass  # already closed

    async def run(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.ws.accept()
        hello = await self._hello()
        if hello is None:
            return
        self.tab = hello.tab
        if hello.role == "viewer":
            await self._view()
            return
        try:
            self.session = await self.hub.attach(self, hello.session, hello.takeover, self.owner)
        except Busy as exc:
            await self.send({"type": "busy", "message": str(exc)})
            await self.ws.close(code=CLOSE_BUSY)
            return
        worker = asyncio.create_task(self._process_loop())
        try:
            await self._welcome()
            await self._receive_loop()
        finally:
            worker.cancel()
            if not self._kicked:
                self.hub.detach(self)

    async def _hello(self) -> Hello | None:
        while True:
            try:
                msg = await asyncio.wait_for(self.ws.receive(), HELLO_TIMEOUT_S)
            except asyncio.TimeoutError:
                await self.send(error("no_hello", "say hello first"))
                await self.ws.close()
                return None
            if msg["type"] == "websocket.disconnect":
                return None
            if msg.get("text") is None:
                await self.send(error("no_hello", "say hello before sending frames"))
                continue
            try:
                parsed = parse_text(msg["text"])
            except MessageError as exc:
                await self.send(error("bad_message", str(exc)))
                continue
            if isinstance(parsed, Hello):
                return parsed
            await self.send(error("no_hello", "say hello first"))

    async def _welcome(self) -> None:
        session = self.session
        assert session is not None
        loop = asyncio.get_running_loop()
        snap = await loop.run_in_executor(session.executor, session.snapshot)
        await self.send({"type": "welcome", "session_id": session.sid, **snap})
        self.hub.mirror(self, {"type": "welcome", "role": "viewer", "session_id": None, **snap})
        if not session.ready.done():
            await asyncio.wrap_future(session.ready)
            snap = await loop.run_in_executor(session.executor, session.snapshot)
            await self._send_mirrored({"type": "ready", **snap})

    async def _send_mirrored(self, msg: dict[str, Any]) -> None:
        await self.send(msg)
        self.hub.mirror(self, msg)

    # -- a viewer ---------------------------------------------------------------------------
    def offer(self, msg: dict[str, Any]) -> None:
        """A copy of what the coaching page was sent (called by the hub)."""
        if self.outbox.full():
            self.outbox.get_nowait()
            self.viewer_dropped += 1
        self.outbox.put_nowait(msg)

    async def _view(self) -> None:
        """Show the coaching page's messages; a viewer sends no frames and no controls."""
        self.hub.watch(self)
        sender = asyncio.create_task(self._drain_outbox())
        try:
            await self.send({"type": "welcome", "role": "viewer", "session_id": None,
                             **await self._viewer_snapshot()})
            while True:
                msg = await self.ws.receive()
                if msg["type"] == "websocket.disconnect":
                    return
                text = msg.get("text")
                try:
                    parsed = parse_text(text) if text is not None else None
                except MessageError as exc:
                    await self.send(error("bad_message", str(exc)))
                    continue
                if isinstance(parsed, Ping):
                    await self.send({"type": "pong", "t": parsed.t})
                elif isinstance(parsed, ControlMessage) and isinstance(parsed.action, Control):
                    await self._control_for_viewer(parsed.action)
                else:
                    await self.send(error("viewer", "this page only shows the coaching: it sends no frames"))
        finally:
            sender.cancel()
            self.hub.unwatch(self)

    async def _control_for_viewer(self, action: Control) -> None:
        """A button on the computer's screen acts on the phone's session (e.g. End session)."""
        session, coach = self.hub.active_session, self.hub.active
        if session is None or coach is None:
            await self.send(error("no_session", "no page is coaching now"))
            return
        loop = asyncio.get_running_loop()
        reply = await loop.run_in_executor(session.executor, session.control, action)
        await coach.send(reply)
        self.hub.mirror(coach, reply)

    async def _viewer_snapshot(self) -> dict[str, Any]:
        session = self.hub.active_session
        if session is None:
            return {"session": None, "reps": [], "cues": [], "last_step": None, "limits": None,
                    "labels": None, "setup_hints": None, "page_cues": None}
        return await asyncio.get_running_loop().run_in_executor(session.executor, session.snapshot)

    async def _drain_outbox(self) -> None:
        while True:
            await self.send(await self.outbox.get())

    async def _receive_loop(self) -> None:
        while True:
            msg = await self.ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            data, text = msg.get("bytes"), msg.get("text")
            if data is not None:
                await self._on_frame(data)
            elif text is not None:
                await self._on_text(text)

    async def _on_frame(self, data: bytes) -> None:
        session = self.session
        assert session is not None
        try:
            frame = parse_frame(data, time.monotonic())
        except FrameError as exc:
            session.bad_frames += 1
            await self.send(error("bad_frame", str(exc)))
            return
        session.frames_received += 1
        old = self.slot.put(frame)
        if old is not None:
            session.frames_dropped += 1
            await self.send({"type": "dropped", "id": old.id, "dropped": session.frames_dropped})

    async def _on_text(self, text: str) -> None:
        try:
            msg = parse_text(text)
        except MessageError as exc:
            await self.send(error("bad_message", str(exc)))
            return
        if isinstance(msg, Ping):
            await self.send({"type": "pong", "t": msg.t})
        elif isinstance(msg, Hello):
            await self.send(error("bad_message", "already said hello"))
        elif isinstance(msg.action, Control):
            session = self.session
            assert session is not None
            loop = asyncio.get_running_loop()
            await self._send_mirrored(await loop.run_in_executor(session.executor, session.control, msg.action))
        else:  # NEW_SESSION
            self.session = self.hub.renew(self, self.owner)
            await self._welcome()

    async def _process_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            frame = await self.slot.get()
            session = self.session
            assert session is not None
            started = time.monotonic()
            try:
                result = await loop.run_in_executor(session.executor, session.process, frame, self.tab)
            except FrameError as exc:
                session.bad_frames += 1
                result = error("bad_frame", str(exc), id=frame.id)
            except ClamcoachError as exc:
                result = error("engine", str(exc), id=frame.id)
            except Exception as exc:  # noqa: BLE001 - a bug in one frame must not end the session
                log.exception("frame %s failed", frame.id)
                result = error("internal", f"this frame could not be analysed ({type(exc).__name__})",
                               id=frame.id)
            result["queue_ms"] = round((started - frame.received) * 1000, 1)
            await self._send_mirrored(result)
