"""Server-side sign-in sessions. The browser holds a random token in an HttpOnly, SameSite
cookie; the database holds only its SHA-256, the user, the session's CSRF token and when it
expires. Signing out (or removing the user) deletes the row, so a copied cookie dies too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from clamcoach.accounts.roles import Principal, Role
from clamcoach.storage import models as m
from clamcoach.storage.records import from_db_time, utc
from clamcoach.storage.repository import Store
from clamcoach.tokens import digest, new_token

DEFAULT_TTL = timedelta(hours=8)  # a working day; then sign in again


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    csrf_token: str


def start(store: Store, user_id: int, ttl: timedelta = DEFAULT_TTL) -> str:
    """A new session for ``user_id``; returns the cookie's token (never stored as is)."""
    token = new_token()
    now = utc(None)
    with store.transaction(write=True) as s:
        # Expired sessions go whenever someone signs in: the table stays small.
        s.execute(m.AuthSession.__table__.delete().where(m.AuthSession.expires_at < now))
        s.add(m.AuthSession(token_hash=digest(token), user_id=user_id, csrf_token=new_token(),
                            created_at=now, expires_at=now + ttl))
    return token


def lookup(store: Store, token: str | None) -> SignedIn | None:
    """The signed-in user of a cookie token, or None (unknown, expired or signed out)."""
    if not token or len(token) > 200:
        return None
    with store.transaction() as s:
        row = s.execute(
            select(m.AuthSession, m.User)
            .join(m.User, m.User.id == m.AuthSession.user_id)
            .where(m.AuthSession.token_hash == digest(token))
        ).one_or_none()
        if row is None:
            return None
        sess, user = row
        if from_db_time(sess.expires_at) <= utc(None):
            return None
        return SignedIn(Principal(user.id, user.username, Role(user.role), user.patient_id),
                        sess.csrf_token)


def end(store: Store, token: str | None) -> None:
    if not token:
        return
    with store.transaction(write=True) as s:
        s.execute(m.AuthSession.__table__.delete().where(m.AuthSession.token_hash == digest(token)))
