"""Live coaching bound to a patient. From the patient's page, the patient (or their therapist,
in the clinic) opens ``/patients/{pid}/live``: the live page, whose WebSocket is
``/patients/{pid}/live/ws``. That socket is checked as every patient route is (signed in;
the patient, or the patient's own therapist) and its session belongs to a :class:`LiveOwner`
(``web/hub.py``): it coaches with the patient's prescribed protocol, and each finished set is
saved to that patient, checked against the prescription as ``clamcoach analyze --patient``
does. After the session the page asks for a pain rating, stored with the last set saved.

A sign-out (or a therapist no longer caring for the patient) ends the binding: a set finished
after it is not saved, and the socket of a new connection is refused.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.websockets import WebSocket

from clamcoach.accounts import sessions
from clamcoach.accounts.roles import Principal
from clamcoach.errors import ClamcoachError, UsageError
from clamcoach.protocol import Protocol, load_protocol
from clamcoach.storage import audit, pain
from clamcoach.storage.audit import AuditAction
from clamcoach.storage.repository import Store
from clamcoach.storage.sets import save_set
from clamcoach.web.guard import is_tls
from clamcoach.web.workspace.guard import SESSION_COOKIE, Call, Policy, may_use
from clamcoach.web.workspace.render import live_page, problem, redirect

log = logging.getLogger(__name__)

#: The socket's close code when the page is not (or no longer) allowed to coach this patient
#: (before the handshake is accepted, so the browser sees HTTP 403).
CLOSE_NOT_ALLOWED = 1008


def socket_path(patient_id: int | str) -> str:
    return f"/patients/{patient_id}/live/ws"


class SavedSets:
    """The live sets saved per sign-in and patient (in memory: what the pain rating after
    the session is about)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, int], list[int]] = {}
        self._lock = threading.Lock()

    def add(self, sign_in: str, patient_id: int, session_id: int) -> None:
        with self._lock:
            self._ids.setdefault((sign_in, patient_id), []).append(session_id)

    def last(self, sign_in: str, patient_id: int) -> int | None:
        with self._lock:
            found = self._ids.get((sign_in, patient_id))
            return found[-1] if found else None


def sign_in_key(token: str) -> str:
    """A sign-in's name here: a hash of its cookie (the token itself is not kept as a key)."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class LiveOwner:
    """Whose live session this is. Equal owners (same sign-in, same patient) resume each
    other's sessions; the rest is what coaching and saving need."""

    patient_id: int
    patient: str
    actor: str
    actor_role: str
    sign_in: str
    protocol: Protocol = field(compare=False, repr=False)
    store: Store = field(compare=False, repr=False)
    saved: SavedSets = field(compare=False, repr=False)
    token: str = field(compare=False, repr=False)

    def still_allowed(self) -> bool:
        signed = sessions.lookup(self.store, self.token)
        return signed is not None and may_use(Policy.CARE, signed.principal, self.patient_id, self.store)

    def save_set(self, analysis: Any) -> None:
        """Save one finished set (runs on the session's worker thread). A database error is
        logged and the coaching goes on: the set is only not saved."""
        try:
            if not self.still_allowed():
                log.warning("a live set of patient %s was not saved: the sign-in ended", self.patient_id)
                return
            report = analysis.to_dict(live_source(analysis))
            saved = save_set(self.store, self.patient, self.protocol, analysis, report, analysis.frames,
                             kind="live")
            audit.record(self.store, self.actor, self.actor_role, AuditAction.LIVE_SET, self.patient_id,
                         f"session {saved.session_id}")
        except ClamcoachError as exc:
            log.error("could not save the live set to patient %s: %s", self.patient_id, exc)
            return
        self.saved.add(self.sign_in, self.patient_id, saved.session_id)


def live_source(analysis: Any) -> dict[str, Any]:
    """The report's ``source`` of a live set: no file, the frames and time it took."""
    times = analysis.frames.t.tolist()
    duration = times[-1] - times[0] if len(times) > 1 else 0.0
    return {"name": "live session", "frames": analysis.n_frames, "duration_s": round(duration, 3),
            "fps": round((len(times) - 1) / duration, 3) if duration > 0 else None}


def owner_for(ws: Any, token: str | None, patient_id: int) -> LiveOwner | None:
    """The owner of a socket opened with the sign-in ``token`` for patient ``patient_id``, or
    None when that sign-in may not coach this patient."""
    store: Store = ws.store
    signed = sessions.lookup(store, token)
    if signed is None or token is None:
        return None
    who: Principal = signed.principal
    if not may_use(Policy.CARE, who, patient_id, store):
        return None
    name = store.patient_name(patient_id)
    protocol = load_protocol(patch=store.protocol_patch(name))
    return LiveOwner(patient_id, name, who.username, who.role.value, sign_in_key(token), protocol,
                     store, ws.live_sets, token)


def live_socket(ws: Any):
    """The WebSocket endpoint of bound pages: the live page's own connection, for an owner."""
    from clamcoach.web.connection import Connection

    async def endpoint(websocket: WebSocket) -> None:
        owner = await run_in_threadpool(owner_for, ws, websocket.cookies.get(SESSION_COOKIE),
                                        int(websocket.path_params["pid"]))
        if owner is None:
            await websocket.close(code=CLOSE_NOT_ALLOWED)
            return
        await Connection(websocket, websocket.app.state.hub, owner=owner).run()

    return endpoint


def show_live(call: Call) -> Response:
    """The live page, bound to this patient (it opens the socket above)."""
    name = call.store.patient_name(call.patient_id)
    rx = call.store.active_prescription(name)
    audit.record(call.store, call.who.username, call.who.role.value, AuditAction.VIEW_PATIENT,
                 call.patient_id, "live coaching")
    tls = is_tls(call.request.scope)
    return live_page(call.request, socket=socket_path(call.patient_id), patient_id=call.patient_id,
                     patient=name, own=not call.who.is_therapist, csrf=call.csrf,
                     version=rx.get("version") if rx else None,
                     phone_mode=tls, where="phone" if tls else "computer")


def rate_live(call: Call) -> Response:
    """The pain rating after a live session: stored with the last set this sign-in saved for
    the patient (or with none, if no set was saved)."""
    token = call.request.cookies.get(SESSION_COOKIE) or ""
    session_id = call.ws.live_sets.last(sign_in_key(token), call.patient_id)
    try:
        pain.add_rating(call.store, call.patient_id, call.field("rating"), call.field("note"),
                        session_id=session_id)
    except UsageError as exc:
        return problem(400, str(exc))
    audit.record(call.store, call.who.username, call.who.role.value, AuditAction.RATE_PAIN,
                 call.patient_id, f"rating {call.field('rating')} after live coaching"
                 + (f" (session {session_id})" if session_id is not None else ""))
    return redirect(f"/patients/{call.patient_id}#sessions")

