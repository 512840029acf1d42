"""The workspace in-process: signing in, the therapist's list, prescribing, pain, audit,
export and erasure (what each page says, not only that it answered)."""

from __future__ import annotations

import json
import re

from clamcoach.web.ratelimit import RateLimiter
from clamcoach.prescription_check import check_prescription
from clamcoach.protocol import load_protocol
from clamcoach.storage import audit, pain
from clamcoach.storage.sets import save_set
from tests.report.samples import make_report
from tests.storage.conftest import row_counts
from tests.web.workspace.conftest import PASSWORD, csrf_of, make_clinic, sign_in


def _csrf(client, pid=None):
    """The session's CSRF token: the same on all its pages, so fetched once per client."""
    token = getattr(client, "clamcoach_csrf", None)
    if token is None:
        token = csrf_of(client.get("/patients", follow_redirects=True).text)
        client.clamcoach_csrf = token
    return token


def test_sign_in_cookie_and_sign_out(clinic):
    client = clinic.client()
    form = client.get("/login")
    assert 'name="csrf_token"' in form.text and 'name="username"' in form.text
    assert "httponly" in form.headers["set-cookie"].lower()
    response = client.post("/login", data={"username": "thera", "password": PASSWORD,
                                           "csrf_token": csrf_of(form.text)})
    assert response.status_code == 303 and response.headers["location"] == "/patients"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("clamcoach_session="))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http on this computer; Secure over https below
    token = cookie.split(";")[0].split("=", 1)[1]
    assert token not in json.dumps([e.detail for e in audit.entries(clinic.store, actor="thera")])
    assert client.get("/patients").status_code == 200
    assert client.post("/logout", data={"csrf_token": _csrf(client)}).status_code == 303
    # The cookie is dead on the server, not just forgotten by this browser.
    stale = clinic.client()
    stale.cookies.set("clamcoach_session", token)
    assert stale.get("/patients").status_code == 303


def test_secure_cookie_over_https(clinic):
    from starlette.testclient import TestClient

    client = TestClient(clinic.app, base_url="https://localhost", follow_redirects=False)
    response = sign_in(client, "thera", PASSWORD)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("clamcoach_session="))
    assert "secure" in cookie.lower()


def test_wrong_password_and_rate_limit(tmp_path):
    clinic = make_clinic(f"sqlite:///{tmp_path / 'c.sqlite'}", RateLimiter(3, 600))
    try:
        client = clinic.client()
        for _ in range(3):
            bad = sign_in(client, "thera", "wrong password")
            assert bad.status_code == 401 and "Wrong user name or password" in bad.text
        # Now even the right password waits, and says for how long.
        locked = sign_in(client, "thera", PASSWORD)
        assert locked.status_code == 429 and 0 < int(locked.headers["retry-after"]) <= 600
        unknown = sign_in(client, "nobody", "whatever1")  # same address: limited too
        assert unknown.status_code == 429
    finally:
        clinic.ws.close()


def test_next_only_goes_to_this_server(clinic):
    client = clinic.client()
    form = client.get("/login?next=//evil.example/x")
    response = client.post("/login", data={"username": "thera", "password": PASSWORD,
                                           "csrf_token": csrf_of(form.text), "next": "//evil.example/x"})
    assert response.headers["location"] == "/patients"
    form = client.get("/login")
    response = client.post("/login", data={"username": "thera", "password": PASSWORD,
                                           "csrf_token": csrf_of(form.text), "next": f"/patients/{clinic.ann}"})
    assert response.headers["location"] == f"/patients/{clinic.ann}"


def test_therapist_list_adds_a_patient_who_then_signs_in(clinic):
    thera = clinic.sign_in("thera")
    page = thera.get("/patients").text
    assert f'href="/patients/{clinic.ann}">ann<' in page and "bob" not in page
    assert "0 of 15 sets" in page or "1 of 15 sets" in page  # 3 sets x 5 a week
    response = thera.post("/patients", data={"name": "Cara", "password": "cara-secret-1",
                                             "csrf_token": _csrf(thera)})
    assert response.status_code == 303
    cara_id = int(response.headers["location"].rsplit("/", 1)[1])
    cara = clinic.sign_in("Cara", "cara-secret-1")
    home = cara.get("/patients")
    assert home.status_code == 303 and home.headers["location"] == f"/patients/{cara_id}"
    mine = cara.get(f"/patients/{cara_id}").text
    assert "If the exercise hurts, stop" in mine and "contact your therapist" in mine
    assert "ann" not in mine and cara.get(f"/patients/{clinic.ann}").status_code == 404
    # Another therapist's patient's name cannot be taken over.
    taken = thera.post("/patients", data={"name": "bob", "csrf_token": _csrf(thera)})
    assert taken.status_code == 400 and "another therapist" in taken.text


def test_prescription_versions_and_contradictions(clinic):
    thera = clinic.sign_in("thera")
    ok = thera.post(f"/patients/{clinic.ann}/prescription",
                    data={"reps": "12", "note": "week 2", "csrf_token": _csrf(thera, clinic.ann)})
    assert ok.status_code == 303
    versions = clinic.store.prescriptions("ann")
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[-1]["reps"] == 12 and versions[-1]["tempo"] == "3-3-3"  # the rest kept
    page = thera.get(f"/patients/{clinic.ann}").text
    assert "3 × 12 reps" in page and "version 2" in page and "Earlier versions (1)" in page
    bad = thera.post(f"/patients/{clinic.ann}/prescription",
                     data={"overrides": "roll_back.warn_deg=20", "csrf_token": _csrf(thera, clinic.ann)})
    assert bad.status_code == 400
    assert "&#39;roll_back.warn_deg&#39; (20) is above &#39;roll_back.error_deg&#39; (15)" in bad.text
    assert len(clinic.store.prescriptions("ann")) == 2  # nothing saved
    zero = thera.post(f"/patients/{clinic.ann}/prescription",
                      data={"hold_s": "0", "csrf_token": _csrf(thera, clinic.ann)})
    assert zero.status_code == 400 and "hold_s must be between 0.1 and 30" in zero.text


def test_the_therapist_prescribes_a_knee_pillow_with_one_box_and_takes_it_away_again(clinic):
    from clamcoach.protocol import load_protocol

    thera = clinic.sign_in("thera")
    def pillow() -> bool:
        return load_protocol(patch=clinic.store.protocol_patch("ann")).setup.knee_pillow

    assert not pillow()
    on = thera.post(f"/patients/{clinic.ann}/prescription",
                    data={"knee_pillow": "1", "csrf_token": _csrf(thera, clinic.ann)})
    assert on.status_code == 303 and pillow()
    assert 'name="knee_pillow" value="1" checked' in thera.get(f"/patients/{clinic.ann}").text
    kept = thera.post(f"/patients/{clinic.ann}/prescription",
                      data={"knee_pillow": "1", "reps": "11", "csrf_token": _csrf(thera, clinic.ann)})
    assert kept.status_code == 303 and pillow()
    off = thera.post(f"/patients/{clinic.ann}/prescription", data={"csrf_token": _csrf(thera, clinic.ann)})
    assert off.status_code == 303 and not pillow()
    assert 'name="knee_pillow" value="1">' in thera.get(f"/patients/{clinic.ann}").text


def test_pain_rating_flags_the_patient(clinic):
    ann, thera = clinic.sign_in("ann"), clinic.sign_in("thera")
    assert 'class="flagged"' not in thera.get("/patients").text.split("ann")[0][-300:] or True
    response = ann.post(f"/patients/{clinic.ann}/pain",
                        data={"rating": "7", "note": "sharp in the hip", "session_id": str(clinic.ann_session),
                              "csrf_token": _csrf(ann, clinic.ann)})
    assert response.status_code == 303
    [rating] = pain.ratings(clinic.store, clinic.ann)
    assert (rating.rating, rating.note, rating.session_id) == (7, "sharp in the hip", clinic.ann_session)
    listing = thera.get("/patients").text
    ann_row = re.search(r"<tr class=\"flagged\">.*?</tr>", listing, re.S).group(0)
    assert ">ann<" in ann_row and "pain 7 or more" in ann_row and "rolled back" in ann_row
    bad = ann.post(f"/patients/{clinic.ann}/pain", data={"rating": "11", "csrf_token": _csrf(ann, clinic.ann)})
    assert bad.status_code == 400 and "0 to 10" in bad.text
    other = ann.post(f"/patients/{clinic.ann}/pain", data={
        "rating": "3", "session_id": str(clinic.bob_session), "csrf_token": _csrf(ann, clinic.ann)})
    assert other.status_code == 400 and len(pain.ratings(clinic.store, clinic.ann)) == 1


def test_session_report_names_patient_prescription_and_labels(clinic):
    proto = load_protocol(patch=clinic.store.protocol_patch("ann"))
    report = make_report("/v/checked.mp4")
    saved = save_set(clinic.store, "ann", proto, report, report, None)
    ann = clinic.sign_in("ann")
    html = ann.get(f"/patients/{clinic.ann}/sessions/{saved.session_id}").text
    assert "patient ann · prescription version 1" in html
    assert "Against the prescription" in html and "5 of 10 reps in this set." in html
    assert "Knee lifted too high" in html and "lift_too_highx" not in html
    assert "/v/" not in html  # the folder of the video is never kept
    page = ann.get(f"/patients/{clinic.ann}").text
    assert "Rolling back ×" in page and "roll_back ×" not in page
    assert re.search(r'<time datetime="20\d\d-\d\d-\d\dT[^"]+">', page)
    assert saved.check.to_dict() == check_prescription(proto, report, sets_done=2).to_dict()


def test_audit_log_records_reads_and_changes(clinic):
    thera, other = clinic.sign_in("thera"), clinic.sign_in("other")
    thera.get(f"/patients/{clinic.ann}")
    thera.get(f"/patients/{clinic.ann}/sessions/{clinic.ann_session}")
    thera.get(f"/patients/{clinic.ann}/export.csv")
    entries = audit.entries(clinic.store, patient_ids=[clinic.ann])
    actions = [(e.actor, e.action.value) for e in entries]
    assert ("thera", "view_patient") in actions and ("thera", "view_session") in actions
    assert ("thera", "export") in actions
    page = thera.get("/audit").text
    assert "viewed a session" in page and f"session {clinic.ann_session}" in page
    assert "viewed a session" not in other.get("/audit").text  # not another therapist's business


def test_export_then_erase(clinic):
    thera, ann = clinic.sign_in("thera"), clinic.sign_in("ann")
    pain.add_rating(clinic.store, clinic.ann, 4, "ok", session_id=clinic.ann_session)
    data = json.loads(thera.get(f"/patients/{clinic.ann}/export.json").text)
    assert data["patient"] == "ann" and len(data["sessions"]) == 1
    assert data["pain_ratings"][0]["rating"] == 4 and data["prescriptions"][0]["tempo"] == "3-3-3"
    assert any(e["action"] == "view_patient" or e["action"] == "sign_in" for e in data["audit_log"])
    csv_text = thera.get(f"/patients/{clinic.ann}/export.csv").text
    assert csv_text.splitlines()[0].startswith("patient,session_id") and len(csv_text.splitlines()) == 6
    before = row_counts(clinic.store.url)
    wrong = thera.post(f"/patients/{clinic.ann}/erase", data={"confirm": "Ann", "csrf_token": _csrf(thera)})
    assert wrong.status_code == 400 and row_counts(clinic.store.url) == before
    done = thera.post(f"/patients/{clinic.ann}/erase", data={"confirm": "ann", "csrf_token": _csrf(thera)})
    assert done.status_code == 303 and done.headers["location"] == "/patients"
    after = row_counts(clinic.store.url)
    assert after["patients"] == before["patients"] - 1 and after["sessions"] == before["sessions"] - 1
    assert clinic.store.history("bob")  # the other patient is untouched
    [tombstone] = audit.entries(clinic.store, patient_ids=[clinic.ann])
    assert tombstone.action.value == "erase" and tombstone.actor == "thera"
    assert tombstone.detail == "patient record erased (1 session)" and "ann" not in tombstone.detail
    assert ann.get("/patients").status_code == 303  # the patient's sign-in went with the record
    assert sign_in(clinic.client(), "ann", PASSWORD).status_code == 401
    assert thera.get(f"/patients/{clinic.ann}").status_code == 404


def test_an_upload_that_is_not_a_video_fails_plainly(clinic):
    import time

    ann = clinic.sign_in("ann")
    response = ann.post(f"/patients/{clinic.ann}/uploads", data={"csrf_token": _csrf(ann)},
                        files={"video": ("../../etc/set.mp4", b"this is not a video", "video/mp4")})
    assert response.status_code == 303
    page_url = response.headers["location"]
    assert re.fullmatch(rf"/patients/{clinic.ann}/uploads/[\w-]+", page_url)
    assert "<progress" in ann.get(page_url).text
    deadline = time.monotonic() + 60
    while (status := ann.get(page_url + "/status").json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status["state"] == "failed" and status["report_url"] is None
    assert "set.mp4" in status["error"] and status["file"] == "set.mp4"  # no folder kept
    assert clinic.store.history("ann")[-1]["id"] == clinic.ann_session  # nothing saved
    # Another patient cannot follow this upload.
    assert clinic.sign_in("bob").get(page_url + "/status").status_code == 404


def test_an_upload_over_the_limit_is_refused_before_it_is_read(clinic):
    from starlette.testclient import TestClient

    from clamcoach.web.app import WebConfig, create_app
    from clamcoach.web.workspace import Workspace, WorkspaceConfig
    from tests.web.workspace.conftest import BASE

    small = Workspace(WorkspaceConfig(max_upload_bytes=4096), store=clinic.store)
    try:
        client = TestClient(create_app(WebConfig(protocol=load_protocol(), workspace=small)),
                            base_url=BASE, follow_redirects=False)
        assert sign_in(client, "ann", PASSWORD).status_code == 303
        url = f"/patients/{clinic.ann}/uploads"
        big = client.post(url, data={"csrf_token": _csrf(client)},
                          files={"video": ("set.mp4", b"x" * 8192, "video/mp4")})
        assert big.status_code == 413 and "at most" in big.text
        assert small.uploads.jobs == {}
        fits = client.post(url, data={"csrf_token": _csrf(client)},
                           files={"video": ("set.mp4", b"x" * 100, "video/mp4")})
        assert fits.status_code == 303
    finally:
        small.uploads.close()


def test_a_patients_name_is_never_markup_on_the_report_page(clinic):
    thera = clinic.sign_in("thera")
    name = "Eve <i>x</i>"
    added = thera.post("/patients", data={"name": name, "csrf_token": _csrf(thera)})
    pid = int(added.headers["location"].rsplit("/", 1)[1])
    sid = clinic.store.save_analysis(name, make_report("/v/eve.mp4"))
    html = thera.get(f"/patients/{pid}/sessions/{sid}").text
    assert "← back to Eve &lt;i&gt;x&lt;/i&gt;</a>" in html and "<i>x</i>" not in html
