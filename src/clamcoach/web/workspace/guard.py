"""Who may call which route: every route names its :class:`Policy`, and ``guarded`` checks
it (signed in? the right role? this patient's own therapist, or the patient?) and the CSRF
token of every POST before the handler runs. Handlers are plain functions of a
:class:`Call`, run on a worker thread (they use the database and draw plots).

Statuses: not signed in: 303 to /login for GET, 401 for POST; a bad or missing CSRF token:
403; the wrong role: 403; a patient who is not yours (or not you): 404, the same as one that
does not exist, so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Awaitable, Callable
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from clamcoach.accounts import sessions
from clamcoach.accounts.roles import Principal, Role
from clamcoach.accounts.users import therapist_of
from clamcoach.errors import ClamcoachError
from clamcoach.storage.repository import Store
from clamcoach.tokens import tokens_match
from clamcoach.web.i18n import N_
from clamcoach.web.workspace.render import LANGUAGE, language_of, problem, redirect

if TYPE_CHECKING:
    from clamcoach.web.workspace import Workspace

SESSION_COOKIE = "clamcoach_session"
#: The hidden input of every form that carries the CSRF token.
CSRF_FIELD = "csrf_token"


class Policy(Enum):
    PUBLIC = "anyone"
    SIGNED_IN = "any signed-in user"
    THERAPIST = "a therapist"
    CARE = "the patient's therapist or the patient"
    CARER = "the patient's therapist"
    SELF = "the patient"


@dataclass
class Call:
    ws: Workspace                 # config, store, uploads, lesson, live sets
    request: Request
    store: Store
    who: Principal | None
    csrf: str                     # the session's CSRF token, for the forms of the page
    patient_id: int | None
    form: FormData | None

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""


Handler = Callable[[Call], Response]


class Denied(ClamcoachError):
    """The caller may not do this; ``response`` (403 or 404) is what they are shown."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"denied ({response.status_code})")
        self.response = response


def _relation(who: Principal, patient_id: int, store: Store) -> tuple[bool, bool]:
    """(``who`` is this patient, ``who`` is this patient's therapist)."""
    own_patient = who.role is Role.PATIENT and who.patient_id == patient_id
    own_therapist = who.role is Role.THERAPIST and therapist_of(store, patient_id) == who.user_id
    return own_patient, own_therapist


def may_use(policy: Policy, who: Principal, patient_id: int, store: Store) -> bool:
    """Whether ``who`` may use patient ``patient_id`` under ``policy`` (one of the patient
    policies: CARE, CARER, SELF)."""
    own_patient, own_therapist = _relation(who, patient_id, store)
    return {Policy.CARE: own_patient or own_therapist, Policy.CARER: own_therapist,
            Policy.SELF: own_patient}[policy]


def _patient_access(policy: Policy, who: Principal, patient_id: int, store: Store) -> None:
    """Raise Denied unless ``who`` may use patient ``patient_id`` under ``policy``."""
    if may_use(policy, who, patient_id, store):
        return
    own_patient, own_therapist = _relation(who, patient_id, store)
    if own_patient or own_therapist:  # theirs, but not this action
        raise Denied(problem(403, f"Only {policy.value} can do this."))
    raise Denied(problem(404, N_("There is no such patient.")))


def guarded(ws: Workspace, policy: Policy, handler: Handler, *, form: bool = False,
            max_body: int = 1024 * 1024) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for ``handler`` under ``policy``. ``form``: read the request's
    form (urlencoded or multipart) before the handler, refusing bodies over ``max_body``
    bytes before reading them."""

    async def endpoint(request: Request) -> Response:
        LANGUAGE.set(language_of(request))  # this request's task only: every page it answers
        store = ws.store
        signed = None
        if policy is not Policy.PUBLIC:
            signed = await run_in_threadpool(sessions.lookup, store,
                                             request.cookies.get(SESSION_COOKIE))
            if signed is None:
                if request.method == "GET":
                    return redirect(f"/login?next={quote(request.url.path)}")
                return problem(401, N_("Please sign in first."))
        if form:
            length = request.headers.get("content-length", "")
            if not length.isdigit():
                return problem(411, N_("The upload must say its length."))
            if int(length) > max_body:
                return problem(413, f"That is too large (at most {max_body // 2**20} MB).")
        data = await request.form() if form else None
        try:
            if request.method == "POST" and signed is not None:
                given = data.get(CSRF_FIELD) if data is not None else None
                if not tokens_match(signed.csrf_token, given if isinstance(given, str) else None):
                    return problem(403, N_("This form has expired: reload the page and try again."))
            who = signed.principal if signed else None
            if policy is Policy.THERAPIST and who.role is not Role.THERAPIST:
                return problem(403, N_("Only therapists can open this page."))
            pid = request.path_params.get("pid")
            if pid is not None and policy in (Policy.CARE, Policy.CARER, Policy.SELF):
                await run_in_threadpool(_patient_access, policy, who, pid, store)
            call = Call(ws, request, store, who, signed.csrf_token if signed else "", pid, data)
            return await run_in_threadpool(handler, call)
        except Denied as denied:
            return denied.response
        finally:
            if data is not None:
                await data.close()

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint
