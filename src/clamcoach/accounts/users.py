"""Users: add, list, remove, sign in; and which therapist looks after which patient.

A patient user is linked to the patient record of the same name (made if new), so the
history commands (``--patient NAME``) and the workspace see the same person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clamcoach.accounts import passwords
from clamcoach.accounts.roles import Principal, Role
from clamcoach.errors import UsageError
from clamcoach.storage import models as m
from clamcoach.storage.records import from_db_time, utc
from clamcoach.storage.repository import Store

MAX_NAME = 80


class UnknownUser(UsageError):
    """No user of that name."""


@dataclass(frozen=True)
class UserInfo:
    username: str
    role: Role
    therapist: str | None      # a patient's therapist
    patient_id: int | None
    created_at: datetime
    last_login_at: datetime | None


def _name(username: str) -> str:
    text = str(username).strip()
    if not 0 < len(text) <= MAX_NAME or any(ord(c) < 32 for c in text):
        raise UsageError(f"a user name must have 1 to {MAX_NAME} printable characters")
    return text


def _role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UsageError(f"role must be therapist or patient, got {role!r}") from None


def add_user(store: Store, username: str, role: str | Role, password: str, *,
             therapist: str | None = None) -> int:
    """Add a user; returns their id. A patient needs ``therapist`` (an existing therapist's
    user name); their patient record is created, or an existing one of that name is used."""
    name, role = _name(username), _role(role)
    if role is Role.PATIENT and not therapist:
        raise UsageError("a patient needs --therapist NAME (the therapist who looks after them)")
    if role is Role.THERAPIST and therapist:
        raise UsageError("--therapist is for patients only")
    hashed = passwords.hash_password(password)
    with store.transaction(write=True) as s:
        if s.scalar(select(m.User.id).where(m.User.username == name)) is not None:
            raise UsageError(f"there is already a user named {name!r}")
        user = m.User(username=name, role=role.value, password_hash=hashed, created_at=utc(None))
        if role is Role.PATIENT:
            carer = _therapist(s, therapist)
            patient = s.scalars(select(m.Patient).where(m.Patient.name == name)).one_or_none()
            if patient is None:
                patient = m.Patient(name=name, created_at=utc(None))
                s.add(patient)
                s.flush()
            elif s.scalar(select(m.User.id).where(m.User.patient_id == patient.id)) is not None:
                raise UsageError(f"patient {name!r} already has a sign-in")
            user.patient_id = patient.id
            _link(s, patient.id, carer.id)
        s.add(user)
        try:
            s.flush()
        except IntegrityError:  # another process added the same name a moment ago
            raise UsageError(f"there is already a user named {name!r}") from None
        return user.id


def _therapist(s, username: str | None) -> m.User:
    found = s.scalars(select(m.User).where(m.User.username == _name(username or ""),
                                           m.User.role == Role.THERAPIST.value)).one_or_none()
    if found is None:
        raise UnknownUser(f"no therapist named {username!r}")
    return found


def _link(s, patient_id: int, therapist_id: int) -> None:
    link = s.get(m.PatientTherapist, patient_id)
    if link is None:
        s.add(m.PatientTherapist(patient_id=patient_id, therapist_id=therapist_id))
    else:
        link.therapist_id = therapist_id


def assign_patient(store: Store, patient: str, therapist: str) -> int:
    """Put the patient record ``patient`` (made if new) in ``therapist``'s care; returns the
    patient's id. For patients without a sign-in (history only)."""
    with store.transaction(write=True) as s:
        carer = _therapist(s, therapist)
        found = s.scalars(select(m.Patient).where(m.Patient.name == patient.strip())).one_or_none()
        if found is None:
            found = m.Patient(name=patient.strip(), created_at=utc(None))
            s.add(found)
            s.flush()
        _link(s, found.id, carer.id)
        return found.id


def list_users(store: Store) -> list[UserInfo]:
    with store.transaction() as s:
        carer = m.User.__table__.alias("carer")
        rows = s.execute(
            select(m.User, carer.c.username)
            .outerjoin(m.PatientTherapist, m.PatientTherapist.patient_id == m.User.patient_id)
            .outerjoin(carer, carer.c.id == m.PatientTherapist.therapist_id)
            .order_by(m.User.role.desc(), m.User.username)
        ).all()
        return [UserInfo(u.username, Role(u.role), t, u.patient_id, from_db_time(u.created_at),
                         from_db_time(u.last_login_at) if u.last_login_at else None)
                for u, t in rows]


def remove_user(store: Store, username: str) -> None:
    """Remove a sign-in (and its sessions). A patient's history stays (erase it from the
    workspace or with ``clamcoach erase``); a therapist who still looks after patients is
    refused, so no patient is left without one by accident."""
    name = _name(username)
    with store.transaction(write=True) as s:
        user = s.scalars(select(m.User).where(m.User.username == name)).one_or_none()
        if user is None:
            raise UnknownUser(f"no user named {name!r}")
        if user.role == Role.THERAPIST.value:
            n = len(s.scalars(select(m.PatientTherapist.patient_id)
                              .where(m.PatientTherapist.therapist_id == user.id)).all())
            if n:
                raise UsageError(f"{name} still looks after {n} patient(s): give them to "
                                 "another therapist first (clamcoach user assign PATIENT --therapist NAME)")
        s.execute(m.AuthSession.__table__.delete().where(m.AuthSession.user_id == user.id))
        s.delete(user)


def authenticate(store: Store, username: str, password: str) -> Principal | None:
    """The user if the password is theirs, else None (an unknown name takes as long)."""
    name = str(username).strip()
    with store.transaction() as s:
        user = s.scalars(select(m.User).where(m.User.username == name)).one_or_none() \
            if 0 < len(name) <= MAX_NAME else None
        stored = user.password_hash if user is not None else passwords.dummy_hash()
        if not passwords.verify_password(stored, password) or user is None:
            return None
        principal = Principal(user.id, user.username, Role(user.role), user.patient_id)
        rehash = passwords.needs_rehash(stored)
    with store.transaction(write=True) as s:
        row = s.get(m.User, principal.user_id)
        if row is not None:
            row.last_login_at = utc(None)
            if rehash:
                row.password_hash = passwords.hash_password(password)
    return principal


def principal(store: Store, user_id: int) -> Principal | None:
    with store.transaction() as s:
        user = s.get(m.User, user_id)
        return Principal(user.id, user.username, Role(user.role), user.patient_id) if user else None


def patients_of(store: Store, therapist_id: int) -> list[tuple[int, str]]:
    """(id, name) of the therapist's patients, by name."""
    with store.transaction() as s:
        return [(pid, name) for pid, name in s.execute(
            select(m.Patient.id, m.Patient.name)
            .join(m.PatientTherapist, m.PatientTherapist.patient_id == m.Patient.id)
            .where(m.PatientTherapist.therapist_id == therapist_id)
            .order_by(m.Patient.name)).all()]


def therapist_of(store: Store, patient_id: int) -> int | None:
    with store.transaction() as s:
        link = s.get(m.PatientTherapist, patient_id)
        return link.therapist_id if link else None
