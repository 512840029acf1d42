"""Signing in and out. ``GET /login`` serves the form with a CSRF token that is also set in a
short-lived cookie (there is no session yet to keep it in); ``POST /login`` needs both to
match, is rate-limited per user name and per client address, and starts a server-side
session in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import Response

from clamcoach.accounts import sessions
from clamcoach.accounts.roles import Principal, Role
from clamcoach.accounts.users import authenticate
from clamcoach.storage.audit import AuditAction, record
from clamcoach.tokens import new_token, tokens_match
from clamcoach.web.cookies import set_strict_cookie
from clamcoach.web.guard import is_tls
from clamcoach.web.i18n import N_
from clamcoach.web.workspace.guard import CSRF_FIELD, SESSION_COOKIE, Call
from clamcoach.web.workspace.render import page, problem, redirect

LOGIN_CSRF_COOKIE = "clamcoach_login_csrf"


def home_of(who: Principal) -> str:
    return "/patients" if who.role is Role.THERAPIST else f"/patients/{who.patient_id}"


def _safe_next(target: str) -> str | None:
    """Only a path on this server (never //host or a scheme): no open redirect."""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc:
        return target
    return None


def login_form(call: Call, status: int = 200, error: str | None = None) -> Response:
    token = new_token()
    response = page("login.html", status=status, who=None, csrf="", login_csrf=token,
                    error=error, next=call.request.query_params.get("next", ""))
    set_strict_cookie(response, LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login",
                      secure=is_tls(call.request.scope))
    return response


def show_login(call: Call) -> Response:
    return login_form(call)


def sign_in(call: Call) -> Response:
    if not tokens_match(call.request.cookies.get(LOGIN_CSRF_COOKIE), call.field(CSRF_FIELD)):
        return problem(403, N_("The sign-in form has expired: reload the page and try again."))
    username = call.field("username")
    limiter = call.ws.config.limiter
    client = call.request.client.host if call.request.client else "unknown"
    keys = (f"user:{username.casefold()}", f"ip:{client}")
    wait = limiter.retry_after(*keys)
    if wait:
        return problem(429, f"Too many failed sign-ins: try again in {wait // 60 + 1} minutes.",
                       {"retry-after": str(wait)})
    password = call.form.get("password") if call.form is not None else None
    who = authenticate(call.store, username, password if isinstance(password, str) else "")
    if who is None:
        limiter.count(*keys)
        return login_form(call, 401, N_("Wrong user name or password."))
    limiter.clear(keys[0])
    token = sessions.start(call.store, who.user_id, call.ws.config.session_ttl)
    record(call.store, who.username, who.role.value, AuditAction.SIGN_IN, who.patient_id)
    response = redirect(_safe_next(call.field("next")) or home_of(who))
    set_strict_cookie(response, SESSION_COOKIE, token, secure=is_tls(call.request.scope))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def sign_out(call: Call) -> Response:
    sessions.end(call.store, call.request.cookies.get(SESSION_COOKIE))
    record(call.store, call.who.username, call.who.role.value, AuditAction.SIGN_OUT,
           call.who.patient_id)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
