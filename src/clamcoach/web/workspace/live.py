"""Live coaching bound to a patient. From the patient's page, the patient (or their therapist,
in the clinic) opens ``/patients/{pid}/live``: the live page, whose WebSocket is
``/patients/{pid}/live/ws``. That socket is checked as every patient route is (signed in;
the patient, or the patient's own therapist) and its session belongs to a :class:`LiveOwner`
(``web/hub.py``): it coaches with the patient's prescribed protocol, and each finished set is
saved to that patient, checked against the prescription as ``clamcoach analyze --patient``
does. After each set (in the rest, and after the last one) the page asks for the pain rating
of that set: it reads the sets this sign-in saved (``GET /patients/{pid}/live/sets``: each with
its prescription check's notes, in the reader's language) and posts the rating to the set's
own session (``POST /patients/{pid}/sessions/{sid}/pain``, ``patients.rate_session``).

A sign-out (or a therapist no longer caring for the patient) ends the binding: a set finished
after it is not saved, and the socket of a new connection is refused.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket

from clamcoach.accounts import sessions
from clamcoach.accounts.roles import Principal
from clamcoach.errors import ClamcoachError, UsageError
from clamcoach.protocol import Protocol, label, load_protocol
from clamcoach.storage import audit, pain
from clamcoach.storage.audit import AuditAction
from clamcoach.storage.repository import Store
from clamcoach.storage.sets import save_set
from clamcoach.web.guard import is_tls
from clamcoach.web.session import live_source
from clamcoach.web.workspace.guard import SESSION_COOKIE, Call, Policy, may_use
from clamcoach.web.workspace.render import HEADERS, gettext, live_page
from clamcoach.web.workspace.words import LIFT_TEXT, SIDE_TEXT

if TYPE_CHECKING:
    from clamcoach.analysis import Analysis
    from clamcoach.web.workspace import Workspace

log = logging.getLogger(__name__)

#: The socket's close code when the page is not (or no longer) allowed to coach this patient
#: (before the handshake is accepted, so the browser sees HTTP 403).
CLOSE_NOT_ALLOWED = 1008


def socket_path(patient_id: int | str) -> str:
    return f"/patients/{patient_id}/live/ws"


#: The saved sets a bound page is told about: the latest of its sign-in (a page rates the
#: sets it has just seen finish).
SETS_LISTED = 20


class SavedSets:
    """The live sets saved per sign-in and patient, in the order they were saved (in memory:
    which sets a page may ask the pain rating of)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, int], list[int]] = {}
        self._lock = threading.Lock()

    def add(self, sign_in: str, patient_id: int, session_id: int) -> None:
        with self._lock:
            self._ids.setdefault((sign_in, patient_id), []).append(session_id)

    def latest(self, sign_in: str, patient_id: int, n: int = SETS_LISTED) -> list[int]:
        with self._lock:
            return list(self._ids.get((sign_in, patient_id), [])[-n:])


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

    def save_set(self, analysis: Analysis) -> None:
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


def owner_for(ws: Workspace, token: str | None, patient_id: int) -> LiveOwner | None:
    """The owner of a socket opened with the sign-in ``token`` for patient ``patient_id``, or
    None when that sign-in may not coach this patient."""
    store = ws.store
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


def live_socket(ws: Workspace) -> Callable[[WebSocket], Awaitable[None]]:
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
    """The live page, bound to this patient (it opens the socket above), naming the patient
    and the prescription it coaches with."""
    name = call.store.patient_name(call.patient_id)
    rx = call.store.active_prescription(name)
    dose = load_protocol(patch=call.store.protocol_patch(name)).prescription
    audit.record(call.store, call.who.username, call.who.role.value, AuditAction.VIEW_PATIENT,
                 call.patient_id, "live coaching")
    tls = is_tls(call.request.scope)
    return live_page(call.request, socket=socket_path(call.patient_id), patient_id=call.patient_id,
                     patient=name, own=not call.who.is_therapist, csrf=call.csrf,
                     version=rx.get("version") if rx else None, dose=dose, lift_text=LIFT_TEXT,
                     phone_mode=tls, where="phone" if tls else "computer")


def live_sets(call: Call) -> Response:
    """The sets this sign-in saved for the patient, oldest first, each with its rating and
    its prescription check's notes (from the saved report), for the page's rating form and
    summary. An erased set is left out."""
    token = call.request.cookies.get(SESSION_COOKIE) or ""
    ids = call.ws.live_sets.latest(sign_in_key(token), call.patient_id)
    ratings = {r.session_id: r for r in pain.ratings(call.store, call.patient_id)}
    out = []
    for sid in ids:
        try:
            detail = call.store.session(sid)
        except UsageError:
            continue  # erased since
        rating = ratings.get(sid)
        check = (detail.get("report") or {}).get("prescription_check") or {}
        out.append({"id": sid, "recorded_at": detail["recorded_at"], "reps": detail["reps"],
                    "clean_reps": detail["clean_reps"], "side": check.get("side_done"),
                    "rating": rating.rating if rating else None,
                    "note": rating.note if rating else None,
                    "rate": f"/patients/{call.patient_id}/sessions/{sid}/pain",
                    "notes": [note_words(n) for n in check.get("notes") or []]})
    return JSONResponse({"sets": out}, headers=HEADERS)


def note_words(note: dict[str, Any]) -> dict[str, Any]:
    """A prescription check's note in the request's language: its label and its sentence
    (the protocol's English message is the catalogue id; a side is a word of its own)."""
    code = note.get("code", "")
    template = default_protocol().message(code)

    def shown(value: object) -> str:
        if isinstance(value, str) and value in SIDE_TEXT:
            return gettext(SIDE_TEXT[value])
        return f"{value:g}" if isinstance(value, float) else str(value)

    text = (gettext(template).format(done=shown(note.get("done")), target=shown(note.get("target")))
            if template else note.get("text", ""))
    return {"code": code, "label": gettext(label(code)), "text": text,
            "severity": note.get("severity", "info")}


@functools.cache
def default_protocol() -> Protocol:
    """The packaged protocol: its messages are the catalogue's ids."""
    return load_protocol()
