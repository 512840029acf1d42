"""``clamcoach serve --phone`` hosts the workspace too: over real HTTPS (a free port on
127.0.0.1, the project's certificate trusted as a phone that installed it), a patient pairs
the phone, follows the live page's link to sign in and sees their own plan; the therapist
signs in on the computer's own plain-HTTP page. The device session and the sign-in are two
locks: neither opens patient data without the other over the network."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from clamcoach.protocol import load_protocol
from clamcoach.web.app import WebConfig, create_app
from clamcoach.web.guard import NOT_PAIRED
from clamcoach.web.server import BackgroundServer
from clamcoach.web.workspace.guard import SESSION_COOKIE
from tests.web.workspace.conftest import PASSWORD, Clinic, make_clinic, sign_in

SIGN_IN_LINK = re.compile(r'<a href="/login">[^<]+</a>')


@dataclass
class Served:
    clinic: Clinic
    url: str            # the network's HTTPS listener
    local: str          # the computer's own plain-HTTP listener
    tls: ssl.SSLContext

    def phone(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=self.tls, follow_redirects=False, timeout=20, **kw)


@pytest.fixture
def served(tmp_path) -> Iterator[Served]:
    clinic = make_clinic(f"sqlite:///{tmp_path / 'clinic.sqlite'}", phone_folder=tmp_path)
    identity = clinic.phone.identity
    tls = ssl.create_default_context(cafile=str(identity.ca_cert_path))
    try:
        with BackgroundServer(clinic.app, tls=identity) as url, \
                BackgroundServer(clinic.app, lifespan="off") as local:
            clinic.phone.base_url = url
            yield Served(clinic, url, local, tls)
    finally:
        clinic.ws.close()


def test_a_patient_signs_in_from_the_phone_page(served):
    clinic = served.clinic
    with served.phone() as phone:
        assert phone.get("/login").status_code == 401          # not paired: not even the form
        paired = phone.get(clinic.phone.pairing_url().removeprefix(served.url))
        assert paired.status_code == 303 and paired.headers["location"] == "/"
        live = phone.get("/")
        assert live.status_code == 200 and SIGN_IN_LINK.search(live.text), "no sign-in link"
        signed = sign_in(phone, "ann", PASSWORD)
        assert signed.status_code == 303 and signed.headers["location"] == f"/patients/{clinic.ann}"
        cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
        assert {"secure", "httponly", "samesite=strict"} <= {a.strip().lower() for a in cookie.split(";")}
        own = phone.get(f"/patients/{clinic.ann}")
        assert own.status_code == 200 and "ann" in own.text \
            and f'<a href="/patients/{clinic.ann}/live">Live coaching</a>' in own.text
        assert phone.get(f"/patients/{clinic.bob}").status_code == 404
        token = phone.cookies.get(SESSION_COOKIE)
    # The sign-in cookie alone, from a device that never paired: the device check refuses it.
    with served.phone(cookies={SESSION_COOKIE: token}) as stranger:
        refused = stranger.get(f"/patients/{clinic.ann}")
        assert refused.status_code == 401 and refused.json() == {"error": NOT_PAIRED}


def test_the_therapist_signs_in_on_the_computers_own_page(served):
    with httpx.Client(base_url=served.local, follow_redirects=False, timeout=20) as computer:
        assert SIGN_IN_LINK.search(computer.get("/").text)
        signed = sign_in(computer, "thera", PASSWORD)
        assert signed.status_code == 303 and signed.headers["location"] == "/patients"
        listing = computer.get("/patients")
        assert listing.status_code == 200 and "ann" in listing.text and "bob" not in listing.text
    # ... and the computer's page still shows the pairing code (phone mode is on)
    assert httpx.get(served.local + "/pairing", timeout=20).json()["url"].startswith(served.url + "/pair/")


def test_no_sign_in_link_without_the_workspace():
    page = TestClient(create_app(WebConfig(protocol=load_protocol())), base_url="http://localhost").get("/")
    assert page.status_code == 200 and 'href="/login"' not in page.text


def test_the_app_closes_a_workspace_it_opened(tmp_path):
    from clamcoach.web.workspace import WorkspaceConfig

    app = create_app(WebConfig(protocol=load_protocol(),
                               workspace=WorkspaceConfig(database_url=f"sqlite:///{tmp_path / 'h.sqlite'}")))
    with TestClient(app, base_url="http://localhost") as client:
        assert SIGN_IN_LINK.search(client.get("/").text)
        assert client.get("/login").status_code == 200
    with pytest.raises(RuntimeError, match="shutdown"):  # its upload worker has stopped
        app.state.workspace.uploads._pool.submit(print)
