"""The authorization matrix: every route and method of the served app, for no user, the
patient's own therapist, another therapist, the patient and another patient. Each cell is
the exact status; a route of the app without a row here fails ``test_every_route_has_a_row``.
"""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route, WebSocketRoute

from clamcoach.web.workspace.uploads import Job
from tests.workspace.conftest import csrf_of

WHO = ("anon", "owner", "therapist", "patient", "other_patient")
USERS = {"owner": "thera", "therapist": "other", "patient": "ann", "other_patient": "bob"}


def row(anon, owner, therapist, patient, other_patient):
    return dict(zip(WHO, (anon, owner, therapist, patient, other_patient)))


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
    # Live coaching (the phone/live engineer's routes): public on this computer.
    ("GET", "/"): row(200, 200, 200, 200, 200),
    ("GET", "/healthz"): row(200, 200, 200, 200, 200),
}
#: Mounted static files and the WebSocket: (path, a file to fetch or None).
OTHER = {"/static": "/static/css/app.css", "/workspace-static": "/workspace-static/workspace.css",
         "/ws": None}
#: Cells that run headless Chromium (the PDF): in the browser tests.
CHROMIUM_CELLS = {(("GET", "/patients/{pid:int}/sheet.pdf"), "owner"),
                  (("GET", "/patients/{pid:int}/sheet.pdf"), "patient")}

FORMS = {
    "/login": {"username": "thera", "password": "x"},
    "/patients": {"name": "New Patient"},
    "/patients/{pid:int}/prescription": {"reps": "12"},
    "/patients/{pid:int}/pain": {"rating": "2"},
    "/patients/{pid:int}/erase": {"confirm": "not the name"},
}


def test_every_route_has_a_row(clinic):
    seen = set()
    for route in clinic.app.routes:
        if isinstance(route, Route):
            for method in route.methods - {"HEAD"}:
                assert (method, route.path) in MATRIX, f"no authorization row for {method} {route.path}"
                seen.add((method, route.path))
        elif isinstance(route, (Mount, WebSocketRoute)):
            assert route.path in OTHER, f"no authorization row for {route.path}"
        else:  # pragma: no cover - a new kind of route needs a new kind of row
            pytest.fail(f"unknown route {route!r}")
    assert seen == set(MATRIX)


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One clinic and one signed-in client per caller for all the cells (signing in runs
    Argon2, which is slow on purpose)."""
    from tests.workspace.conftest import make_clinic

    c = make_clinic(f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'clinic.sqlite'}")
    clients = {"anon": c.client(), **{who: c.sign_in(name) for who, name in USERS.items()}}
    # One CSRF token per signed-in session (the same on every page of it).
    tokens = {who: csrf_of(clients[who].get("/patients", follow_redirects=True).text) for who in USERS}
    yield c, clients, tokens
    c.ws.close()


def _url(clinic, path: str, job: str) -> str:
    return (path.replace("{pid:int}", str(clinic.ann)).replace("{sid:int}", str(clinic.ann_session))
            .replace("{job}", job))


def _cells():
    for key, statuses in MATRIX.items():
        for who in WHO:
            if (key, who) not in CHROMIUM_CELLS:
                yield key, who, statuses[who]


@pytest.mark.parametrize("key, who, status", list(_cells()),
                         ids=[f"{k[0]} {k[1]} {w}" for k, w, _ in _cells()])
def test_matrix_cell(shared, key, who, status):
    clinic, clients, tokens = shared
    method, path = key
    job = Job("job-of-ann", clinic.ann, "set.mp4")
    clinic.ws.uploads.jobs[job.id] = job
    # Signing out ends the shared session: that cell signs in on its own.
    fresh = path == "/logout" and who != "anon"
    client = clinic.sign_in(USERS[who]) if fresh else clients[who]
    url = _url(clinic, path, job.id)
    if method == "GET":
        response = client.get(url)
    else:
        data = dict(FORMS.get(path, {}))
        if path == "/patients":
            data["name"] = f"New patient of {who}"
        if who != "anon":
            data["csrf_token"] = (csrf_of(client.get("/patients", follow_redirects=True).text)
                                  if fresh else tokens[who])
        response = client.post(url, data=data)
    assert response.status_code == status, f"{method} {url} as {who}: {response.text[:300]}"
    if status == 303 and who == "anon":
        assert response.headers["location"].startswith("/login?next=")


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
