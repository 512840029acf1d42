"""Accounts: users and roles, passwords, sign-in sessions, the user commands (the tokens and
the rate limiter they use: tests/test_tokens.py, tests/web/test_ratelimit.py)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from clamcoach.accounts import Role, add_user, authenticate, list_users, remove_user
from clamcoach.accounts import sessions
from clamcoach.accounts.users import UnknownUser, assign_patient, patients_of
from clamcoach.cli import main
from clamcoach.errors import UsageError
from clamcoach.storage import models as m
from clamcoach.storage import open_store


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "h.sqlite") as s:
        yield s


def test_users_roles_and_passwords(store):
    tid = add_user(store, "thera", Role.THERAPIST, "long enough")
    add_user(store, "ann", "patient", "ann's password", therapist="thera")
    with pytest.raises(UsageError, match="already a user"):
        add_user(store, "ann", "therapist", "another one")
    with pytest.raises(UsageError, match="needs --therapist"):
        add_user(store, "cara", "patient", "long enough")
    with pytest.raises(UnknownUser):
        add_user(store, "cara", "patient", "long enough", therapist="ann")  # not a therapist
    with pytest.raises(UsageError, match="8 to 1024"):
        add_user(store, "dan", "therapist", "short")
    with pytest.raises(UsageError, match="role must be"):
        add_user(store, "eve", "admin", "long enough")
    assert [(u.username, u.role, u.therapist) for u in list_users(store)] == [
        ("thera", Role.THERAPIST, None), ("ann", Role.PATIENT, "thera")]
    assert [name for _, name in patients_of(store, tid)] == ["ann"]
    who = authenticate(store, "ann", "ann's password")
    assert who is not None and who.role is Role.PATIENT and who.patient_id == store.patient_id("ann")
    assert authenticate(store, "ann", "wrong") is None and authenticate(store, "nobody", "x" * 9) is None
    with store.transaction() as s:
        stored = s.query(m.User).filter_by(username="ann").one().password_hash
    assert stored.startswith("$argon2id$") and "ann's password" not in stored
    with pytest.raises(UsageError, match="still looks after 1 patient"):
        remove_user(store, "thera")
    remove_user(store, "ann")
    assert store.history("ann") == []  # the record stays (no sessions yet); only the sign-in went
    with pytest.raises(UsageError, match="still looks after 1 patient"):
        remove_user(store, "thera")  # ann's record is still in thera's care
    add_user(store, "tess", "therapist", "long enough")
    assign_patient(store, "ann", "tess")
    remove_user(store, "thera")
    assert [u.username for u in list_users(store)] == ["tess"]


def test_sessions_expire_and_end(store):
    uid = add_user(store, "thera", "therapist", "long enough")
    token = sessions.start(store, uid)
    signed = sessions.lookup(store, token)
    assert signed.principal.username == "thera" and len(signed.csrf_token) >= 40
    with store.transaction() as s:
        assert s.query(m.AuthSession).one().token_hash != token  # only its hash is kept
    assert sessions.lookup(store, token + "x") is None and sessions.lookup(store, None) is None
    sessions.end(store, token)
    assert sessions.lookup(store, token) is None
    old = sessions.start(store, uid, ttl=timedelta(seconds=-1))
    assert sessions.lookup(store, old) is None
    sessions.start(store, uid)  # a new sign-in sweeps expired sessions away
    with store.transaction() as s:
        assert s.query(m.AuthSession).count() == 1


def test_user_commands(tmp_path, monkeypatch, capsys):
    db = str(tmp_path / "h.sqlite")

    def run(*args, password=None):
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n" if password else ""))
        return main(["user", *args, "--db", db])

    assert run("add", "thera", "--role", "therapist", "--password-stdin", password="long enough") == 0
    assert run("add", "ann", "--role", "patient", "--therapist", "thera", "--password-stdin",
               password="long enough") == 0
    assert "added patient ann, looked after by thera" in capsys.readouterr().out
    assert run("add", "bob", "--role", "patient", "--password-stdin", password="long enough") == 2
    assert run("add", "x", "--role", "therapist", "--password-stdin", password="short") == 2
    assert run("add", "y", "--role", "therapist") == 2  # no terminal for the password
    assert "use --password-stdin" in capsys.readouterr().err
    assert run("list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["name"], u["role"], u["therapist"]) for u in listed] == [
        ("thera", "therapist", None), ("ann", "patient", "thera")]
    assert run("remove", "nobody") == 2
    assert run("remove", "ann") == 0
    assert capsys.readouterr().out == "removed ann\n"
    assert run("list") == 0 and "ann" not in capsys.readouterr().out
