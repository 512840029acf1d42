"""The authorization matrix: every route and method of the served app, for no user, the
patient's own therapist, another therapist, the patient and another patient. Each cell is
the exact status; a route of the app without a row here fails ``test_every_route_has_a_row``.

The same matrix holds wherever a request reaches the app: served on this computer only
(``default``), and in phone mode both on the computer's own plain-HTTP listener
(``phone-local``) and from a paired phone over HTTPS (``phone-network``): pairing a phone
opens the device-session check, never the workspace's own sign-in. Phone mode's routes have
rows of their own per listener (``PHONE_MATRIX``); over HTTPS without a device session every
route but the pairing page and the CA certificate is 401, whoever is signed in
(``test_unpaired_phone_cell``).
"""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from clamcoach.web.guard import CLOSE_NOT_PAIRED, NOT_PAIRED
from clamcoach.web.workspace.guard import SESSION_COOKIE
from clamcoach.web.workspace.uploads import Job
from tests.web.workspace.conftest import csrf_of, make_clinic

WHO = ("anon", "owner", "therapist", "patient", "other_patient")
USERS = {"owner": "thera", "therapist": "other", "patient": "ann", "other_patient": "bob"}
MODES = ("default", "phone-local", "phone-network")


def row(anon, owner, therapist, patient, other_patient):
    return dict(zip(WHO, (anon, owner, therapist, patient, other_patient)))


def everyone(status):
    return row(status, status, status, status, status)


#: (method, route path) -> statuses. Bodies are harmless: erase gets a wrong confirmation
#: and upload no file, so an allowed caller reaches the handler and gets its 400.
MATRIX = {
    ("GET", "/login"): row(200, 200, 200, 200, 200),
    ("POST", "/login"): row(403, 403, 403, 403, 403),  # no sign-in form cookie: refused
    ("POST", "/logout"): row(401, 303, 303, 303, 303),
    ("GET", "/patients"): row(303, 200, 200, 303, 303),  # a patient is sent to their page
    ("POST", "/patients"): row(401, 303, 303, 403, 403),
    ("GET", "/patients/{pid:int}"): row(303, 200, 404, 200, 404),
    ("POST", "/patients/{pid:int}/prescription"): row(401, 303, 404, 403, 404),
    ("GET", "/patients/{pid:int}/sessions/{sid:int}"): row(303, 200, 404, 200, 404),
    ("POST", "/patients/{pid:int}/pain"): row(401, 403, 404, 303, 404),
    # The pain rating of one saved set (a live set or an upload): the patient or their therapist.
    ("POST", "/patients/{pid:int}/sessions/{sid:int}/pain"): row(401, 303, 404, 303, 404),
    # Live coaching bound to the patient (the socket is refused the same way: test_live.py).
    ("GET", "/patients/{pid:int}/live"): row(303, 200, 404, 200, 404),
    ("GET", "/patients/{pid:int}/live/sets"): row(303, 200, 404, 200, 404),
    ("POST", "/patients/{pid:int}/uploads"): row(401, 400, 404, 400, 404),
    ("GET", "/patients/{pid:int}/uploads/{job}"): row(303, 200, 404, 200, 404),
    ("GET", "/patients/{pid:int}/uploads/{job}/status"): row(303, 200, 404, 200, 404),
    ("GET", "/patients/{pid:int}/sheet"): row(303, 200, 404, 200, 404),
    ("GET", "/patients/{pid:int}/sheet.pdf"): row(303, 200, 404, 200, 404),
    ("GET", "/patients/{pid:int}/export.json"): row(303, 200, 404, 403, 404),
    ("GET", "/patients/{pid:int}/export.csv"): row(303, 200, 404, 403, 404),
    ("POST", "/patients/{pid:int}/erase"): row(401, 400, 404, 403, 404),
    ("GET", "/audit"): row(303, 200, 200, 403, 403),
    ("GET", "/lesson.mp4"): row(303, 200, 200, 200, 200),
    # Live coaching: the page, its words and the health check hold no patient data.
    ("GET", "/"): everyone(200),
    ("GET", "/i18n/{lang}.json"): everyone(200),
    ("GET", "/healthz"): everyone(200),
}
#: Phone mode's own routes, per listener: ``local`` is the computer's plain-HTTP loopback one,
#: ``network`` the HTTPS one with a paired phone. A sign-in changes nothing here.
PHONE_MATRIX = {
    ("GET", "/pair"): {"local": everyone(200), "network": everyone(200)},  # how to pair
    ("GET", "/pair/{token}"): {"local": everyone(401), "network": everyone(401)},  # a guessed token
    ("GET", "/pair/style.css"): {"local": everyone(200), "network": everyone(200)},
    ("GET", "/ca.crt"): {"local": everyone(200), "network": everyone(200)},
    # The pairing code is for this computer's screen: a phone cannot mint tokens for others.
    ("GET", "/pairing"): {"local": everyone(200), "network": everyone(404)},
    ("GET", "/pairing/qr.svg"): {"local": everyone(200), "network": everyone(404)},
}
#: Over HTTPS without a device session these still answer as above; every other route gets
#: the device-session check's 401, signed in or not.
OPEN_WITHOUT_DEVICE = {("GET", "/pair"), ("GET", "/pair/{token}"), ("GET", "/pair/style.css"),
                       ("GET", "/ca.crt")}
#: Mounted static files and the WebSockets: (path, a file to fetch or None).
OTHER = {"/static": "/static/css/app.css", "/workspace-static": "/workspace-static/workspace.css",
         "/ws": None, "/patients/{pid:int}/live/ws": None}
#: Cells that run headless Chromium (the PDF): in the browser tests.
CHROMIUM_CELLS = {(("GET", "/patients/{pid:int}/sheet.pdf"), "owner"),
                  (("GET", "/patients/{pid:int}/sheet.pdf"), "patient")}

FORMS = {
    "/login": {"username": "thera", "password": "x"},
    "/patients": {"name": "New Patient"},
    "/patients/{pid:int}/prescription": {"reps": "12"},
    "/patients/{pid:int}/pain": {"rating": "2"},
    "/patients/{pid:int}/sessions/{sid:int}/pain": {"rating": "2"},
    "/patients/{pid:int}/erase": {"confirm": "not the name"},
}


def rows(mode: str) -> dict:
    """(method, path) -> statuses, for the routes of ``mode``'s app."""
    if mode == "default":
        return dict(MATRIX)
    listener = "local" if mode == "phone-local" else "network"
    return {**MATRIX, **{key: by[listener] for key, by in PHONE_MATRIX.items()}}


def _check_routes(app, expected: dict) -> None:
    seen = set()
    for route in app.routes:
        if isinstance(route, Route):
            for method in route.methods - {"HEAD"}:
                assert (method, route.path) in expected, f"no authorization row for {method} {route.path}"
                seen.add((method, route.path))
        elif isinstance(route, (Mount, WebSocketRoute)):
            assert route.path in OTHER, f"no authorization row for {route.path}"
        else:  # pragma: no cover - a new kind of route needs a new kind of row
            pytest.fail(f"unknown route {route!r}")
    assert seen == set(expected)


def test_every_route_has_a_row(clinic):
    _check_routes(clinic.app, rows("default"))


def test_every_route_has_a_row_in_phone_mode(tmp_path):
    phone = make_clinic(f"sqlite:///{tmp_path / 'clinic.sqlite'}", phone_folder=tmp_path)
    try:
        _check_routes(phone.app, rows("phone-local"))
    finally:
        phone.ws.close()


class Setups:
    """One clinic per mode, built when first asked for, with one signed-in client per caller
    for all its cells (signing in runs Argon2, which is slow on purpose)."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self.made: dict[str, tuple] = {}

    def get(self, mode: str):
        if mode not in self.made:
            where = self.folder / mode
            where.mkdir()
            c = make_clinic(f"sqlite:///{where / 'clinic.sqlite'}",
                            phone_folder=None if mode == "default" else where)
            network = mode == "phone-network"
            clients = {"anon": c.client(network=network),
                       **{who: c.sign_in(name, network=network) for who, name in USERS.items()}}
            # One CSRF token per signed-in session (the same on every page of it).
            tokens = {who: csrf_of(clients[who].get("/patients", follow_redirects=True).text)
                      for who in USERS}
            self.made[mode] = (c, clients, tokens)
        return self.made[mode]

    def close(self) -> None:
        for c, _, _ in self.made.values():
            c.ws.close()


@pytest.fixture(scope="module")
def setups(tmp_path_factory):
    made = Setups(tmp_path_factory.mktemp("matrix"))
    yield made
    made.close()


def _url(clinic, path: str, job: str) -> str:
    return (path.replace("{pid:int}", str(clinic.ann)).replace("{sid:int}", str(clinic.ann_session))
            .replace("{job}", job).replace("{lang}", "es").replace("{token}", "g" * 43))


def _cells():
    for mode in MODES:
        for key, statuses in rows(mode).items():
            for who in WHO:
                if (key, who) not in CHROMIUM_CELLS:
                    yield mode, key, who, statuses[who]


def _request(client, clinic, method: str, path: str, who: str, token: str | None, job: str = "x"):
    url = _url(clinic, path, job)
    if method == "GET":
        return url, client.get(url)
    data = dict(FORMS.get(path, {}))
    if path == "/patients":
        data["name"] = f"New patient of {who}"
    if token:
        data["csrf_token"] = token
    return url, client.post(url, data=data)


@pytest.mark.parametrize("mode, key, who, status", list(_cells()),
                         ids=[f"{m} {k[0]} {k[1]} {w}" for m, k, w, _ in _cells()])
def test_matrix_cell(setups, mode, key, who, status):
    clinic, clients, tokens = setups.get(mode)
    method, path = key
    network = mode == "phone-network"
    job = Job("job-of-ann", clinic.ann, "set.mp4")
    clinic.ws.uploads.jobs[job.id] = job
    # Signing out ends the shared session: that cell signs in on its own.
    fresh = path == "/logout" and who != "anon"
    client = clinic.sign_in(USERS[who], network=network) if fresh else clients[who]
    token = None
    if who != "anon":
        token = (csrf_of(client.get("/patients", follow_redirects=True).text) if fresh
                 else tokens[who])
    url, response = _request(client, clinic, method, path, who, token, job.id)
    assert response.status_code == status, f"{mode}: {method} {url} as {who}: {response.text[:300]}"
    if status == 303 and who == "anon":
        assert response.headers["location"].startswith("/login?next=")
    if status == 401 and key not in OPEN_WITHOUT_DEVICE:
        # the workspace's own refusal, not the device-session check's
        assert "Please sign in first." in response.text


@pytest.mark.parametrize("key", sorted(rows("phone-network")), ids=lambda k: f"{k[0]} {k[1]}")
@pytest.mark.parametrize("who", WHO)
def test_unpaired_phone_cell(setups, key, who):
    """Over HTTPS without a device session: the workspace's sign-in cookie and a valid CSRF
    token are not enough. Only the pairing page and the CA certificate answer."""
    clinic, clients, tokens = setups.get("phone-network")
    method, path = key
    client = clinic.client(network=True, paired=False)
    if who != "anon":
        client.cookies.set(SESSION_COOKIE, clients[who].cookies.get(SESSION_COOKIE))
    url, response = _request(client, clinic, method, path, who, tokens.get(who))
    if key in OPEN_WITHOUT_DEVICE:
        assert response.status_code == PHONE_MATRIX[key]["network"][who], url
    else:
        assert response.status_code == 401, f"{method} {url} as {who}: {response.text[:300]}"
        assert response.json() == {"error": NOT_PAIRED}


def test_unpaired_phone_mounts_and_websocket(setups):
    clinic, clients, _ = setups.get("phone-network")
    unpaired, paired = clinic.client(network=True, paired=False), clients["owner"]
    for path, sample in OTHER.items():
        if sample:
            assert unpaired.get(sample).status_code == 401, sample
            assert paired.get(sample).status_code == 200, sample
    with unpaired.websocket_connect("wss://localhost/ws") as ws, \
            pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert (closed.value.code, closed.value.reason) == (CLOSE_NOT_PAIRED, "not paired")


@pytest.mark.browser
@pytest.mark.parametrize("who", ["owner", "patient"])
def test_sheet_pdf_cells(clinic, who):
    response = clinic.sign_in(USERS[who]).get(f"/patients/{clinic.ann}/sheet.pdf")
    assert response.status_code == MATRIX[("GET", "/patients/{pid:int}/sheet.pdf")][who]
    assert response.content.startswith(b"%PDF-") and len(response.content) > 50_000


def test_other_mounts(clinic):
    for path, sample in OTHER.items():
        if sample:
            assert clinic.client().get(sample).status_code == 200


def test_every_post_needs_the_csrf_token(clinic):
    owner, patient = clinic.sign_in("thera"), clinic.sign_in("ann")
    for (method, path), statuses in MATRIX.items():
        if method != "POST" or path == "/login":
            continue
        url = _url(clinic, path, "x")
        for client, who in ((owner, "owner"), (patient, "patient")):
            for token in (None, "forged-token"):
                data = dict(FORMS.get(path, {}))
                if token:
                    data["csrf_token"] = token
                response = client.post(url, data=data)
                expected = 403 if statuses[who] not in (404,) else 404
                assert response.status_code in (403, expected), (path, who, response.status_code)
                assert response.status_code == 403 or statuses[who] == 404
