"""The workspace's fixtures: a clinic (two therapists, each with a patient who signs in, and
sessions saved the way ``analyze --patient`` saves them), the app in-process, signed-in
clients."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from clamcoach.accounts.ratelimit import SignInLimiter
from clamcoach.accounts.users import add_user
from clamcoach.protocol import load_protocol
from clamcoach.storage.repository import Store, open_store
from clamcoach.web.app import WebConfig, create_app
from clamcoach.web.workspace import Workspace, WorkspaceConfig
from tests.report.samples import make_frames, make_report

PASSWORD = "correct horse battery"
BASE = "http://localhost"


@dataclass
class Clinic:
    store: Store
    ws: Workspace
    app: object
    ann: int          # patient ids
    bob: int
    ann_session: int
    bob_session: int

    def client(self) -> TestClient:
        return TestClient(self.app, base_url=BASE, follow_redirects=False)

    def sign_in(self, username: str, password: str = PASSWORD) -> TestClient:
        client = self.client()
        response = sign_in(client, username, password)
        assert response.status_code == 303, response.text
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str):
    form = client.get("/login")
    assert form.status_code == 200
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_of(form.text)})


def make_clinic(url: str, limiter: SignInLimiter | None = None) -> Clinic:
    store = open_store(url)
    add_user(store, "thera", "therapist", PASSWORD)
    add_user(store, "other", "therapist", PASSWORD)
    add_user(store, "ann", "patient", PASSWORD, therapist="thera")
    add_user(store, "bob", "patient", PASSWORD, therapist="other")
    store.prescribe("ann", sets=3, reps=10, hold_s=3, tempo="3-3-3", side="left",
                    sessions_per_week=5)
    ann_session = store.save_analysis("ann", make_report("/v/ann.mp4"), make_frames())
    bob_session = store.save_analysis("bob", make_report("/v/bob.mp4"), None)
    ws = Workspace(WorkspaceConfig(database_url=url, limiter=limiter or SignInLimiter(10_000)),
                   store=store)
    app = create_app(WebConfig(protocol=load_protocol(), workspace=ws))
    return Clinic(store, ws, app, store.patient_id("ann"), store.patient_id("bob"),
                  ann_session, bob_session)


@pytest.fixture
def clinic(tmp_path):
    c = make_clinic(f"sqlite:///{tmp_path / 'clinic.sqlite'}")
    yield c
    c.ws.close()
