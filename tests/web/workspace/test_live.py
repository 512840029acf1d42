"""Live coaching bound to the signed-in patient: the page opened from the patient's page
coaches with their prescription, saves each set to their history checked against it (as
``clamcoach analyze --patient`` does), and after each set stores the pain rating of that set
(posted to the set's own saved session; a second rating corrects it; the therapist's flags
see it). The page names the patient and the prescription; its list of saved sets carries
each set's prescription notes in the reader's language. Only the patient and their own
therapist can open it, rate or list; the plain live page's sessions stay apart.

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
from tests.web.workspace.conftest import csrf_of, make_clinic


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


def rate(client, pid: int, sid: int, token: str, rating, note: str = "", json: bool = True):
    headers = {"accept": "application/json"} if json else {}
    return client.post(f"/patients/{pid}/sessions/{sid}/pain", headers=headers,
                       data={"rating": str(rating), "note": note, "csrf_token": token})


def live_sets(client, pid: int) -> list[dict]:
    response = client.get(f"/patients/{pid}/live/sets")
    assert response.status_code == 200
    return response.json()["sets"]


def test_a_patients_live_set_is_saved_to_them_checked_then_rated(clinic):
    ann = clinic.sign_in("ann")
    page = ann.get(f"/patients/{clinic.ann}")
    assert f'href="/patients/{clinic.ann}/live"' in page.text  # opened from their page
    live = ann.get(f"/patients/{clinic.ann}/live")
    assert live.status_code == 200
    assert f'data-ws="/patients/{clinic.ann}/live/ws"' in live.text
    assert f'data-sets="/patients/{clinic.ann}/live/sets"' in live.text and 'name="rating"' in live.text
    assert live_sets(ann, clinic.ann) == []  # nothing saved by this sign-in yet
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

    # The page's list of saved sets: this one, with the notes of its prescription check.
    [listed] = live_sets(ann, clinic.ann)
    assert (listed["id"], listed["reps"], listed["rating"]) == (new["id"], 2, None)
    assert listed["rate"] == f"/patients/{clinic.ann}/sessions/{new['id']}/pain"
    said = {n["code"]: n for n in listed["notes"]}
    assert said["reps_short"]["text"] == "2 of 10 reps in this set."
    assert said["reps_short"]["label"] == "Fewer reps than prescribed"

    token = csrf_of(live.text)
    rated = rate(ann, clinic.ann, new["id"], token, 4, "fine")
    assert rated.status_code == 200
    assert rated.json() == {"session_id": new["id"], "rating": 4, "note": "fine"}
    assert [(r.rating, r.note, r.session_id) for r in pain.ratings(clinic.store, clinic.ann)] == \
        [(4, "fine", new["id"])]
    # A second answer about the same set corrects it (no second rating).
    assert rate(ann, clinic.ann, new["id"], token, 5, "").status_code == 200
    assert [(r.rating, r.note, r.session_id) for r in pain.ratings(clinic.store, clinic.ann)] == \
        [(5, None, new["id"])]
    assert live_sets(ann, clinic.ann)[0]["rating"] == 5
    bad = rate(ann, clinic.ann, new["id"], token, 12)
    assert bad.status_code == 400 and pain.ratings(clinic.store, clinic.ann)[0].rating == 5
    actions = [(e.actor, e.action.value) for e in audit.entries(clinic.store, patient_ids=[clinic.ann])]
    assert ("ann", "live_set") in actions and ("ann", "rate_pain") in actions


def test_each_set_is_rated_in_the_rest_after_it_and_the_flags_see_it(clinic):
    ann = clinic.sign_in("ann")
    token = csrf_of(ann.get(f"/patients/{clinic.ann}/live").text)
    with bound(ann, clinic.ann) as ws:
        coach = Coach(ws)
        coach.hello()
        coach.reps(1)
        rest = coach.control("finish_set")["session"]
        assert rest["state"] == "rest" and len(rest["sets_done"]) == 1
        # In the rest: set 1 is saved already, and is what the page asks about.
        [first] = live_sets(ann, clinic.ann)
        assert rate(ann, clinic.ann, first["id"], token, 2).status_code == 200
        coach.control("next_set")
        coach.reps(1)
        coach.control("finish_set")
        second = live_sets(ann, clinic.ann)[-1]
        assert second["id"] != first["id"]
        coach.control("next_set")
        coach.reps(1)
        done = coach.control("end_session")["session"]
        assert done["state"] == "done" and len(done["sets_done"]) == 3
        third = live_sets(ann, clinic.ann)[-1]
    assert [s["id"] for s in live_sets(ann, clinic.ann)] == [first["id"], second["id"], third["id"]]
    # Set 2 skipped; set 3 (after the last set) rated 4: a rise of 2 over the recent ratings.
    assert rate(ann, clinic.ann, third["id"], token, 4).status_code == 200
    assert [(r.session_id, r.rating) for r in pain.ratings(clinic.store, clinic.ann)] == \
        [(first["id"], 2), (third["id"], 4)]
    thera = clinic.sign_in("thera")
    listing = thera.get("/patients").text
    assert "pain up by 2 or more" in listing and "pain 7 or more" not in listing
    # The last set corrected to 8: severe pain flags ann too; corrected to 2: no pain flag.
    assert rate(ann, clinic.ann, third["id"], token, 8).status_code == 200
    assert "pain 7 or more" in thera.get("/patients").text
    assert rate(ann, clinic.ann, third["id"], token, 2).status_code == 200
    listing = thera.get("/patients").text
    assert "pain 7 or more" not in listing and "pain up by" not in listing
    assert len(pain.ratings(clinic.store, clinic.ann)) == 2


def test_the_page_names_the_patient_and_the_prescription(clinic):
    ann = clinic.sign_in("ann")
    html = ann.get(f"/patients/{clinic.ann}/live").text
    whose = html[html.index('id="live-whose"'):]
    whose = " ".join(whose[:whose.index("</p>")].split())
    assert "ann" in whose and "3 × 10 reps, hold 3 s" in whose
    assert "tempo 3-3-3 s (up-hold-down)" in whose and "the left leg lifts" in whose
    assert "(prescription version 1)" in whose
    assert html.count("3 × 10 reps, hold 3 s") == 2  # at the top and in the summary
    spanish = ann.get(f"/patients/{clinic.ann}/live", headers={"accept-language": "es"}).text
    assert "3 × 10 repeticiones, mantener 3 s" in spanish and "sube la pierna izquierda" in spanish
    german = ann.get(f"/patients/{clinic.ann}/live", headers={"accept-language": "de"}).text
    assert "das linke Bein hebt sich" in german and "Ihre Sätze" in german


def test_the_sets_notes_come_in_the_readers_language(clinic):
    clinic.store.prescribe("ann", side="right")  # the stand-in lifts the left leg
    ann = clinic.sign_in("ann")
    with bound(ann, clinic.ann) as ws:
        coach = Coach(ws)
        coach.hello()
        coach.reps(2)
        coach.control("end_session")
    english, german = (ann.get(f"/patients/{clinic.ann}/live/sets", headers={"accept-language": lang})
                       .json()["sets"][0]["notes"] for lang in ("en", "de"))
    said = {n["code"]: n for n in german}
    assert said["reps_short"]["text"] == "2 von 10 Wiederholungen in diesem Satz."
    assert said["wrong_side"]["label"] == "Anderes Bein als verordnet"
    assert "„links“" in said["wrong_side"]["text"] and "„rechts“" in said["wrong_side"]["text"]
    # English is the report's own sentence, word for word.
    report = clinic.store.session(clinic.store.history("ann")[-1]["id"])["report"]
    assert [n["text"] for n in english] == [n["text"] for n in report["prescription_check"]["notes"]]


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
    # The therapist's list is the therapist's sign-in's sets; ann's own sign-in saw none.
    assert [s["id"] for s in live_sets(thera, clinic.ann)] == [latest["id"]]
    assert live_sets(clinic.sign_in("ann"), clinic.ann) == []
    # The rating the patient tells the therapist goes with that set.
    rated = rate(thera, clinic.ann, latest["id"], csrf_of(live.text), 3)
    assert rated.status_code == 200
    assert [(r.rating, r.session_id) for r in pain.ratings(clinic.store, clinic.ann)] == [(3, latest["id"])]


def test_an_uploads_report_asks_for_its_rating(clinic):
    """An upload's result is its report: it carries the set's rating form (a plain form, as
    the report runs no script), back to the report after, a second answer correcting it."""
    ann = clinic.sign_in("ann")
    sid = clinic.ann_session  # saved as an upload saves (kind "analyze")
    report = ann.get(f"/patients/{clinic.ann}/sessions/{sid}")
    assert report.status_code == 200
    assert "form-action 'self'" in report.headers["content-security-policy"]
    assert f'action="/patients/{clinic.ann}/sessions/{sid}/pain"' in report.text
    token = csrf_of(report.text)
    rated = rate(ann, clinic.ann, sid, token, 6, "sore", json=False)
    assert rated.status_code == 303
    assert rated.headers["location"] == f"/patients/{clinic.ann}/sessions/{sid}#pain"
    again = ann.get(f"/patients/{clinic.ann}/sessions/{sid}").text
    assert "Rated 6/10 for this set." in again and 'value="6" required checked' in again
    assert rate(ann, clinic.ann, sid, token, 7, json=False).status_code == 303
    assert [(r.rating, r.note, r.session_id) for r in pain.ratings(clinic.store, clinic.ann)] == \
        [(7, None, sid)]
    thera = clinic.sign_in("thera")
    assert "pain 7 or more" in thera.get("/patients").text


def test_a_patient_can_only_rate_their_own_sets(clinic):
    ann, bob = clinic.sign_in("ann"), clinic.sign_in("bob")
    ann_token = csrf_of(ann.get(f"/patients/{clinic.ann}").text)
    bob_token = csrf_of(bob.get(f"/patients/{clinic.bob}").text)
    # bob's set under ann's number, and ann's set under bob's: no such session / patient.
    assert rate(ann, clinic.ann, clinic.bob_session, ann_token, 3).status_code == 404
    assert rate(bob, clinic.ann, clinic.ann_session, bob_token, 3).status_code == 404
    assert rate(bob, clinic.bob, clinic.ann_session, bob_token, 3).status_code == 404
    assert rate(ann, clinic.ann, 10**6, ann_token, 3).status_code == 404
    assert bob.get(f"/patients/{clinic.ann}/live/sets").status_code == 404
    assert pain.ratings(clinic.store, clinic.ann) == pain.ratings(clinic.store, clinic.bob) == []


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
    sid = clinic.ann_session if patient == "ann" else clinic.bob_session
    rated = client.post(f"/patients/{pid}/sessions/{sid}/pain", data={"rating": "2", "csrf_token": token})
    assert rated.status_code == (401 if who is None else 404)
    listed = client.get(f"/patients/{pid}/live/sets")
    assert listed.status_code == (303 if who is None else 404)
    assert len(clinic.store.history(patient)) == before
    assert pain.ratings(clinic.store, pid) == []


def test_a_forged_rating_needs_the_csrf_token(clinic):
    ann = clinic.sign_in("ann")
    url = f"/patients/{clinic.ann}/sessions/{clinic.ann_session}/pain"
    for data in ({"rating": "2"}, {"rating": "2", "csrf_token": "forged"}):
        refused = ann.post(url, data=data, headers={"accept": "application/json"})
        assert refused.status_code == 403
    assert pain.ratings(clinic.store, clinic.ann) == []


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
