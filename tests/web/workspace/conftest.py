"""The workspace's fixtures: a clinic (two therapists, each with a patient who signs in, and
sessions saved the way ``analyze --patient`` saves them), the app in-process, signed-in
clients. ``make_clinic(..., phone_folder=...)`` serves it in phone mode, as
``clamcoach serve --phone`` does: then ``client(network=True)`` is a phone on the network
(HTTPS, paired unless told otherwise) and ``client()`` the computer's own browser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from clamcoach.accounts.users import add_user
from clamcoach.measure.profiles import JOINT_CENTRES
from clamcoach.protocol import load_protocol
from clamcoach.storage.repository import Store, open_store
from clamcoach.web.app import WebConfig, create_app
from clamcoach.web.phone import PhoneAccess
from clamcoach.web.ratelimit import RateLimiter
from clamcoach.web.tls import ensure_certificates
from clamcoach.web.workspace import Workspace, WorkspaceConfig
from tests.report.samples import make_frames, make_report
from tests.web.standin import StandInEstimator

PASSWORD = "correct horse battery"
BASE = "http://localhost"
PHONE_BASE = "https://localhost"
#: Where requests come from: this computer, and a phone on the network (TEST-NET-1).
THIS_COMPUTER = ("127.0.0.1", 50000)
A_PHONE = ("192.0.2.10", 50000)


@dataclass
class Clinic:
    store: Store
    ws: Workspace
    app: object
    ann: int          # patient ids
    bob: int
    ann_session: int
    bob_session: int
    #: Phone mode's pairing and certificate (None: served on this computer only).
    phone: PhoneAccess | None = None

    def client(self, *, network: bool = False, paired: bool = True) -> TestClient:
        """A browser on this computer (plain HTTP from loopback), or with ``network`` a phone
        (HTTPS from another address) that opened the pairing address unless ``paired=False``."""
        if not network:
            return TestClient(self.app, base_url=BASE, follow_redirects=False, client=THIS_COMPUTER)
        assert self.phone is not None, "network clients need make_clinic(..., phone_folder=...)"
        client = TestClient(self.app, base_url=PHONE_BASE, follow_redirects=False, client=A_PHONE)
        if paired:
            response = client.get(f"/pair/{self.phone.book.current().token}")
            assert response.status_code == 303, response.text
        return client

    def sign_in(self, username: str, password: str = PASSWORD, *, network: bool = False) -> TestClient:
        client = self.client(network=network)
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


def make_clinic(url: str, limiter: RateLimiter | None = None,
                phone_folder: Path | None = None, live_pose: bool = False) -> Clinic:
    """``live_pose``: live coaching with the web tests' stand-in pose model (exact, colour
    coded frames) instead of BlazePose."""
    store = open_store(url)
    add_user(store, "thera", "therapist", PASSWORD)
    add_user(store, "other", "therapist", PASSWORD)
    add_user(store, "ann", "patient", PASSWORD, therapist="thera")
    add_user(store, "bob", "patient", PASSWORD, therapist="other")
    store.prescribe("ann", sets=3, reps=10, hold_s=3, tempo="3-3-3", side="left",
                    sessions_per_week=5)
    ann_session = store.save_analysis("ann", make_report("/v/ann.mp4"), make_frames())
    bob_session = store.save_analysis("bob", make_report("/v/bob.mp4"), None)
    ws = Workspace(WorkspaceConfig(database_url=url, limiter=limiter or RateLimiter(10_000, 900)),
                   store=store)
    phone = None
    if phone_folder is not None:
        identity = ensure_certificates(phone_folder / "tls", ["127.0.0.1"], ["localhost"])
        # The matrix pairs many clients from one address: the pairing limit is tested elsewhere.
        phone = PhoneAccess(identity, base_url=PHONE_BASE, limiter=RateLimiter(100_000, 60))
    live = {"estimator_factory": StandInEstimator, "profile": JOINT_CENTRES} if live_pose else {}
    app = create_app(WebConfig(protocol=load_protocol(), workspace=ws, phone=phone, **live))
    return Clinic(store, ws, app, store.patient_id("ann"), store.patient_id("bob"),
                  ann_session, bob_session, phone)


@pytest.fixture
def clinic(tmp_path):
    c = make_clinic(f"sqlite:///{tmp_path / 'clinic.sqlite'}")
    yield c
    c.ws.close()
