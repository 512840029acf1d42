"""Sessions by id, and which page is coaching now.

Policy for two tabs: one page coaches at a time (there is one person, one camera and two
CPU cores). A second tab is told "clamcoach is open in another tab" and offered a button to
take over; taking over moves the running session (its counts) to the new tab and tells the
old tab, which then stops and does not reconnect on its own. The same tab reconnecting
(after a dropped connection) simply replaces its stale connection.

A session belongs to an *owner*: None for the plain live page, or whoever a bound page
coaches for (the workspace's live coaching: a signed-in patient, or their therapist for
them); its sets are saved to that patient. A page only ever resumes or takes over a session
of its own owner, so no set goes to someone else's history.

Viewers (the computer's screen while a phone is the camera) watch whichever page coaches:
each gets a copy of what is sent to it, through a small queue of its own, so a slow screen
never holds up the coaching.

All methods run on the event loop thread, so there is no locking.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any, Callable, Protocol

from clamcoach.errors import ClamcoachError
from clamcoach.web.session import Session

if TYPE_CHECKING:
    from clamcoach.web.workspace.live import LiveOwner

BUSY_MESSAGE = "clamcoach is open in another tab."


class Busy(ClamcoachError):
    """Another tab is coaching; the page should offer to take over."""


class Peer(Protocol):
    tab: str

    async def send(self, msg: dict[str, Any]) -> None: ...

    async def kick(self, kind: str, message: str) -> None: ...


class Watcher(Protocol):
    def offer(self, msg: dict[str, Any]) -> None: ...


class SessionMaker(Protocol):
    """Makes the session of id ``sid``: the plain page's (no owner), or one coaching for
    ``owner`` with their protocol, saving each set to them."""

    def __call__(self, sid: str, owner: LiveOwner | None = None) -> Session: ...


class Hub:
    def __init__(self, make_session: SessionMaker, *, ttl_s: float = 1800.0,
                 max_sessions: int = 4, clock: Callable[[], float] = time.monotonic) -> None:
        self._make = make_session
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._clock = clock
        self.sessions: dict[str, Session] = {}
        self.owners: dict[str, LiveOwner] = {}   # session id -> its owner (absent: None)
        self.active: Peer | None = None
        self.active_session: Session | None = None
        self.viewers: set[Watcher] = set()

    async def attach(self, peer: Peer, session_id: str | None, takeover: bool,
                     owner: LiveOwner | None = None) -> Session:
        """The session ``peer`` coaches from now on, for ``owner``. Raises Busy if another
        tab has it."""
        self.expire()
        current = self.active
        if current is not None and current.tab != peer.tab and not takeover:
            raise Busy(BUSY_MESSAGE)
        if current is not None and current.tab != peer.tab:
            session = self.active_session  # the new tab carries on the running session
        else:
            session = self.sessions.get(session_id or "")
        if session is not None and self.owners.get(session.sid) != owner:
            session = None  # another owner's session: never carried on
        if session is None:
            session = self._new(owner)
        self.active, self.active_session = peer, session
        if current is not None and current is not peer:
            if current.tab == peer.tab:
                await current.kick("replaced", "This page reconnected.")
            else:
                await current.kick("taken_over", "clamcoach is now open in another tab.")
        session.last_seen = self._clock()
        return session

    def detach(self, peer: Peer) -> None:
        if self.active is peer:
            if self.active_session is not None:
                self.active_session.last_seen = self._clock()
            self.active, self.active_session = None, None

    def renew(self, peer: Peer, owner: LiveOwner | None = None) -> Session:
        """A fresh session for the page that is coaching (the "new session" button)."""
        old = self.active_session if self.active is peer else None
        if old is not None:
            self._forget(old.sid).close()
        session = self._new(owner)
        if self.active is peer:
            self.active_session = session
        return session

    def _new(self, owner: LiveOwner | None = None) -> Session:
        while len(self.sessions) >= self.max_sessions:
            idle = [s for s in self.sessions.values() if s is not self.active_session]
            if not idle:
                break
            oldest = min(idle, key=lambda s: s.last_seen)
            self._forget(oldest.sid).close()
        sid = secrets.token_urlsafe(12)
        session = self._make(sid) if owner is None else self._make(sid, owner)
        self.sessions[sid] = session
        if owner is not None:
            self.owners[sid] = owner
        return session

    def _forget(self, sid: str) -> Session:
        self.owners.pop(sid, None)
        return self.sessions.pop(sid)

    def watch(self, viewer: Watcher) -> None:
        self.viewers.add(viewer)

    def unwatch(self, viewer: Watcher) -> None:
        self.viewers.discard(viewer)

    def mirror(self, peer: Peer, msg: dict[str, Any]) -> None:
        """Show viewers what the coaching page ``peer`` was just sent."""
        if peer is self.active:
            for viewer in list(self.viewers):
                viewer.offer(msg)

    def expire(self) -> None:
        """Forget sessions nobody came back to within ``ttl_s`` (their estimator too)."""
        now = self._clock()
        for sid, s in list(self.sessions.items()):
            if s is not self.active_session and now - s.last_seen > self.ttl_s:
                self._forget(sid).close()

    def close(self) -> None:
        for s in self.sessions.values():
            s.close()
        self.sessions.clear()
        self.owners.clear()


def describe(hub: Hub) -> dict[str, int | bool]:
    return {"sessions": len(hub.sessions), "active": hub.active is not None, "viewers": len(hub.viewers)}
