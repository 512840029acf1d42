"""Choosing the database, and failures turned into StorageError."""

from __future__ import annotations

import sqlite3

import pytest

from clamcoach.errors import StorageError
from clamcoach.storage import db, open_store


def test_default_is_a_file_in_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(db.ENV_URL, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = db.resolve_url()
    assert url == f"sqlite:///{tmp_path / 'data' / 'clamcoach' / 'history.sqlite'}"
    with open_store() as store:  # creates the folder and the file
        store.add_patient("x")
    assert (tmp_path / "data" / "clamcoach" / "history.sqlite").is_file()


def test_environment_and_argument(monkeypatch, tmp_path):
    monkeypatch.setenv(db.ENV_URL, "postgresql://u@h:5/d")
    assert db.resolve_url() == "postgresql+psycopg://u@h:5/d"
    assert db.resolve_url(tmp_path / "a.sqlite") == f"sqlite:///{tmp_path / 'a.sqlite'}"
    assert db.resolve_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_runs_in_wal_mode(tmp_path):
    path = tmp_path / "h.sqlite"
    with open_store(path) as store:
        store.add_patient("x")
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


@pytest.mark.parametrize("url", [
    "postgresql://nobody@127.0.0.1:1/none",  # nothing listens there
    "nosuchdb://x",
    "::not a url::/x://",
])
def test_unreachable_or_bad_urls_raise_storage_error(url):
    with pytest.raises(StorageError):
        open_store(url).close()


def test_unwritable_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError):
        open_store(blocker / "sub" / "h.sqlite").close()


def test_not_a_database(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError):
        open_store(junk).close()
