"""Live coaching bound to the signed-in patient: the page opened from the patient's page
coaches with their prescription, saves each set to their history checked against it (as
``clamcoach analyze --patient`` does), then stores the pain rating with the set. Only the
patient and their own therapist can open it; the plain live page's sessions stay apart.

The app runs in-process with the web tests' stand-in pose model (the real engine behind it);
one test serves it on a real port to see the browser's view of a refused socket (HTTP 403).
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from clamcoach.storage import audit, pain
from clamcoach.web.frames import pack_frame
from tests.web.standin import jpeg, script
from tests.workspace.conftest import csrf_of, make_clinic


@pytest.fixture
def clinic(tmp_path):
    c = make_clinic(f"sqlite:///{tmp_path / 'clinic.sqlite'}", live_pose=True)
    yield c
    c.ws.close()


class Coach:
    """The live page's side of the socket, lock-step (each frame waits for its answer)."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.next_id = 1
        self.t = 0.0

    def hello(self, session: str | None = None, tab: str = "tab-bound-1", takeover: bool = False) -> dict:
        self.ws.send_json({"type": "hello", "session": session, "tab": tab, "takeover": takeover})
        msg = self.until("welcome", "busy")
        if msg["type"] == "busy":
            return msg
        if not msg["session"]["ready"]:
            msg = {**msg, **self.until("ready")}
        return msg

    def until(self, *types: str) -> dict:
        while True:
            msg = self.ws.receive_json()
            if msg["type"] in types:
                return msg

    def reps(self, n: int, **kw) -> dict:
        last = None
        start = self.t
        for t, pose in script(n, **kw):
            self.t = start + t
            fid = self.next_id
            self.next_id += 1
            self.ws.send_bytes(pack_frame(fid, self.t * 1000.0, jpeg(pose)))
            while (last := self.until("result", "error", "dropped")).get("id") != fid:
                pass
        self.t += 1.0
        return last

    def control(self, action: str) -> dict:
        self.ws.send_json({"type": "control", "action": action})
        return self.until("session")


def bound(client: TestClient, pid: int):
    return client.websocket_connect(f"ws://localhost/patients/{pid}/live/ws")


def test_a_patients_live_set_is_saved_to_them_checked_then_rated(clinic):
    ann = clinic.sign_in("ann")
    page = ann.get(f"/patients/{clinic.ann}")
    assert f'href="/patients/{clinic.ann}/live"' in page.text  # opened from their page
    live = ann.get(f"/patients/{clinic.ann}/live")
    assert live.status_code == 200
    assert f'data-ws="/patients/{clinic.ann}/live/ws"' in live.text
    assert f'action="/patients/{clinic.ann}/live/pain"' in live.text and 'name="rating"' in live.text
    before = [s["id"] for s in clinic.store.history("ann")]
    with bound(ann, clinic.ann) as ws:
        coach = Coach(ws)
        welcome = coach.hello()
        # ann's prescription is what the page counts against: 3 sets of 10, 3 s hold.
        state = welcome["session"]
        assert (state["sets"], state["reps_target"], state["hold_target_s"]) == (3, 10, 3.0)
        assert coach.reps(2, roll_back={2: 20})["session"]["reps_in_set"] == 2
        done = coach.control("end_session")["session"]
        assert done["state"] == "done" and done["summary"]["reps"] == 2
    history = clinic.store.history("ann")
    [new] = [s for s in history if s["id"] not in before]
    assert new["kind"] == "live" and new["reps"] == 2 and new["clean_reps"] == 1
    report = clinic.store.session(new["id"])["report"]
    assert report["patient"] == "ann" and report["prescription_version"] == 1
    check = report["prescription_check"]
    assert check["dose"]["reps"] == 10 and check["dose"]["side"] == "left"
    notes = {n["code"]: n for n in check["notes"]}
    assert notes["reps_short"]["done"] == 2 and notes["reps_short"]["target"] == 10
    assert check["sets_done"] == len(before) + 1  # today's sets, this one included
    assert clinic.store.history("bob")[-1]["id"] == clinic.bob_session  # nobody else's

    token = csrf_of(live.text)
    rated = ann.post(f"/patients/{clinic.ann}/live/pain",
                     data={"rating": "4", "note": "fine", "csrf_token": token})
    assert rated.status_code == 303 and rated.headers["location"] == f"/patients/{clinic.ann}#sessions"
    [rating] = pain.ratings(clinic.store, clinic.ann)
    assert (rating.rating, rating.note, rating.session_id) == (4, "fine", new["id"])
    bad = ann.post(f"/patients/{clinic.ann}/live/pain", data={"rating": "12", "csrf_token": token})
    assert bad.status_code == 400 and len(pain.ratings(clinic.store, clinic.ann)) == 1
    actions = [(e.actor, e.action.value) for e in audit.entries(clinic.store, patient_ids=[clinic.ann])]
    assert ("ann", "live_set") in actions and ("ann", "rate_pain") in actions


def test_a_therapist_runs_it_for_their_patient(clinic):
    thera = clinic.sign_in("thera")
    page = thera.get(f"/patients/{clinic.ann}").text
    assert f'href="/patients/{clinic.ann}/live"' in page
    live = thera.get(f"/patients/{clinic.ann}/live")
    assert live.status_code == 200 and "Coaching ann" in live.text
    with bound(thera, clinic.ann) as ws:
        coach = Coach(ws)
        coach.hello()
        coach.reps(1)
        coach.control("end_session")
    latest = clinic.store.history("ann")[-1]
    assert latest["kind"] == "live" and latest["reps"] == 1
    entry = next(e for e in audit.entries(clinic.store, patient_ids=[clinic.ann])
                 if e.action.value == "live_set")
    assert (entry.actor, entry.actor_role) == ("thera", "therapist")
    # The rating the patient tells the therapist goes with that set.
    rated = thera.post(f"/patients/{clinic.ann}/live/pain",
                       data={"rating": "3", "csrf_token": csrf_of(live.text)})
    assert rated.status_code == 303
    assert [(r.rating, r.session_id) for r in pain.ratings(clinic.store, clinic.ann)] == [(3, latest["id"])]


@pytest.mark.parametrize("who, patient", [
    (None, "ann"),          # not signed in
    ("bob", "ann"),         # another patient
    ("other", "ann"),       # another therapist
    ("ann", "bob"),         # a patient, for someone else
    ("thera", "bob"),       # a therapist, for another therapist's patient
])
def test_nobody_else_can_open_or_save(clinic, who, patient):
    client = clinic.sign_in(who) if who else clinic.client()
    pid = getattr(clinic, patient)
    before = len(clinic.store.history(patient))
    with pytest.raises(WebSocketDisconnect) as refused:
        with bound(client, pid) as ws:
            ws.receive_json()
    assert refused.value.code == 1008
    page = client.get(f"/patients/{pid}/live")
    assert page.status_code == (303 if who is None else 404)  # 404: ids cannot be probed
    token = csrf_of(client.get("/login").text) if who is None else \
        csrf_of(client.get("/patients", follow_redirects=True).text)
    rated = client.post(f"/patients/{pid}/live/pain", data={"rating": "2", "csrf_token": token})
    assert rated.status_code == (401 if who is None else 404)
    assert len(clinic.store.history(patient)) == before
    assert pain.ratings(clinic.store, pid) == []


def test_a_forged_rating_needs_the_csrf_token(clinic):
    ann = clinic.sign_in("ann")
    refused = ann.post(f"/patients/{clinic.ann}/live/pain", data={"rating": "2"})
    assert refused.status_code == 403 and pain.ratings(clinic.store, clinic.ann) == []


def test_bound_and_plain_sessions_never_mix(clinic):
    ann = clinic.sign_in("ann")
    with ann.websocket_connect("ws://localhost/ws") as plain:
        anonymous = Coach(plain).hello(tab="tab-plain-1")["session_id"]
    with bound(ann, clinic.ann) as ws:
        coach = Coach(ws)
        mine = coach.hello(session=anonymous)["session_id"]
        assert mine != anonymous  # the plain page's session is not carried into ann's
        coach.reps(1)
    with bound(ann, clinic.ann) as ws:  # the bound page reconnecting carries on its own
        again = Coach(ws).hello(session=mine)
        assert again["session_id"] == mine and again["session"]["reps_in_set"] == 1
    with ann.websocket_connect("ws://localhost/ws") as plain:
        assert Coach(plain).hello(session=mine, tab="tab-plain-1")["session_id"] != mine


def test_taking_over_from_the_plain_page_starts_the_patients_own_session(clinic):
    ann = clinic.sign_in("ann")
    with ann.websocket_connect("ws://localhost/ws") as plain:
        other = Coach(plain)
        anonymous = other.hello(tab="tab-plain-1")["session_id"]
        other.reps(1)
        with bound(ann, clinic.ann) as ws:
            assert Coach(ws).hello()["type"] == "busy"  # one page coaches at a time
        with bound(ann, clinic.ann) as ws:
            coach = Coach(ws)
            taken = coach.hello(takeover=True)
            assert taken["session_id"] != anonymous and taken["session"]["reps_in_set"] == 0
            assert other.until("taken_over")["type"] == "taken_over"
            assert taken["session"]["hold_target_s"] == 3.0  # ann's prescription (the default holds 2 s)


def test_after_sign_out_a_finished_set_is_not_saved(clinic):
    ann = clinic.sign_in("ann")
    token = csrf_of(ann.get(f"/patients/{clinic.ann}").text)
    before = len(clinic.store.history("ann"))
    with bound(ann, clinic.ann) as ws:
        coach = Coach(ws)
        coach.hello()
        coach.reps(1)
        assert ann.post("/logout", data={"csrf_token": token}).status_code == 303
        coach.control("end_session")
    assert len(clinic.store.history("ann")) == before


def test_a_refused_socket_is_http_403_in_a_browser(clinic):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from clamcoach.web.server import BackgroundServer
    from clamcoach.web.workspace.guard import SESSION_COOKIE

    bob = clinic.sign_in("bob")
    with BackgroundServer(clinic.app, lifespan="off") as url:
        target = url.replace("http://", "ws://") + f"/patients/{clinic.ann}/live/ws"
        cookie = {"Cookie": f"{SESSION_COOKIE}={bob.cookies.get(SESSION_COOKIE)}"}
        for headers in (None, cookie):
            with pytest.raises(InvalidStatus) as refused:
                with connect(target, additional_headers=headers, open_timeout=10):
                    pass
            assert refused.value.response.status_code == 403
