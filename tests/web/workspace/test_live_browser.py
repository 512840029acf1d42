"""Live coaching bound to the patient, end to end in headless Chromium: ann signs in, opens
live coaching from her page (which names her and her prescription), the fake camera plays
stand-in reps, she finishes set 1 and, in the rest, is asked how that set felt (with its
prescription notes), types a note (the page's keys stay quiet) and rates it 3; she does a
second set, ends the session, and the summary asks about set 2 (she rates it 5) and lists
both sets with their pain. Both sets are in her history, each with its own rating, checked
against her prescription; bob's history is untouched."""

from __future__ import annotations

import pytest

from clamcoach.storage import pain
from clamcoach.web.server import BackgroundServer
from tests.web.browser import STATE, BrowserMissing, Chromium, chromium_path, keep_screenshot
from tests.web.clips import write_y4m
from tests.web.standin import frame_rgb, script
from tests.web.workspace.conftest import PASSWORD, make_clinic

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    try:
        chromium_path()
    except BrowserMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    clinic = make_clinic(f"sqlite:///{tmp_path / 'clinic.sqlite'}", live_pose=True)
    try:
        with BackgroundServer(clinic.app) as url:
            yield clinic, url
    finally:
        clinic.ws.close()


@pytest.fixture
def clip(tmp_path):
    """Two clean stand-in reps with rests, looped by Chromium's fake camera."""
    frames = list(script(2, fps=15, rest=2.0, lead_in=2.0))
    path = tmp_path / "two-reps.y4m"
    write_y4m((frame_rgb(p, 320, 240) for _, p in frames), path, fps=15)
    return path


FORM_SHOWN = "!document.getElementById('live-pain').hidden && !document.getElementById('live-pain').closest('[hidden]')"
STATUS = "document.getElementById('live-pain-status').textContent"


def test_a_patient_coaches_live_and_rates_each_set(served, clip, tmp_path):
    clinic, url = served
    before = {s["id"] for s in clinic.store.history("ann")}
    with Chromium(fake_video=clip) as browser:
        page = browser.page
        page.set_viewport(1280, 900)
        page.navigate(f"{url}/login")
        driver = page.driver
        driver.find_element("name", "username").send_keys("ann")
        driver.find_element("name", "password").send_keys(PASSWORD)
        page.click("form[action='/login'] button")
        page.wait_for(f"location.pathname === '/patients/{clinic.ann}'", timeout=20)
        page.click("#start-live")
        page.wait_for(f"location.pathname === '/patients/{clinic.ann}/live'", timeout=20)
        page.wait_for(f"window.clamcoach && {STATE}.ready", timeout=60)
        whose = page.evaluate("document.getElementById('live-whose').textContent")
        assert "ann" in whose and "3 × 10 reps, hold 3 s" in " ".join(whose.split())
        session = page.evaluate(f"{STATE}.session")
        # ann's prescription: 3 x 10, a 3 s hold (the default protocol holds 2 s)
        assert (session["sets"], session["reps_target"], session["hold_target_s"]) == (3, 10, 3.0)
        page.click("#start-camera")
        page.wait_for(f"{STATE}.session && {STATE}.session.reps_in_set >= 2", timeout=60)
        page.click("#finish-set")
        # The rest after set 1 asks about set 1, with what its prescription check said.
        page.wait_for(f"{STATE}.screen === 'rest' && {FORM_SHOWN}", timeout=20)
        assert page.evaluate("document.getElementById('live-pain').closest('#screen-rest') !== null")
        assert page.evaluate("document.getElementById('live-pain-h').textContent") == "Set 1: how did it feel?"
        notes = page.evaluate("document.getElementById('live-pain-notes').textContent")
        assert "Fewer reps than prescribed" in notes and "of 10 reps in this set." in notes
        keep_screenshot(page, tmp_path, "live-pain-rest.png")
        driver.find_element("css selector", "#live-pain textarea").send_keys("knee ok, a bit of effort")
        assert page.evaluate(f"{STATE}.session.state") == "rest"  # "n" and "e" in a note are not keys
        page.click("#live-pain input[name=rating][value='3']")
        page.click("#live-pain button[type=submit]")
        page.wait_for(f"{STATUS}.includes('Rated 3/10')", timeout=20)
        page.click("#skip-rest")
        page.wait_for(f"{STATE}.session.set === 2 && {STATE}.session.reps_in_set >= 1", timeout=60)
        page.click("#end-session")
        page.wait_for(f"{STATE}.screen === 'summary' && {FORM_SHOWN} && "
                      "document.getElementById('live-pain-h').textContent === 'Set 2: how did it feel?'",
                      timeout=20)
        page.click("#live-pain input[name=rating][value='5']")
        page.click("#live-pain button[type=submit]")
        page.wait_for(f"{STATUS}.includes('Rated 5/10')", timeout=20)
        rows = page.wait_for("[...document.querySelectorAll('#live-set-list > li > p')].map(p => p.textContent)"
                             ".filter(t => t.includes('pain 5/10')).length && "
                             "[...document.querySelectorAll('#live-set-list > li > p')].map(p => p.textContent)")
        page.evaluate("window.scrollTo(0, 0)")
        keep_screenshot(page, tmp_path, "live-pain.png")
        errors = [e for e in page.js_errors() if "favicon.ico" not in e["message"]]
        assert errors == [], errors  # (the workspace pages have no icon: their 404 is not an error)
    assert len(rows) == 2 and rows[0].startswith("Set 1") and "pain 3/10" in rows[0]
    assert rows[1].startswith("Set 2") and "pain 5/10" in rows[1]
    new = [s for s in clinic.store.history("ann") if s["id"] not in before]
    assert [s["kind"] for s in new] == ["live", "live"] and new[0]["reps"] >= 2
    report = clinic.store.session(new[0]["id"])["report"]
    assert report["patient"] == "ann" and report["prescription_check"]["dose"]["reps"] == 10
    assert [(r.rating, r.note, r.session_id) for r in pain.ratings(clinic.store, clinic.ann)] == \
        [(3, "knee ok, a bit of effort", new[0]["id"]), (5, None, new[1]["id"])]  # each set's form starts empty
    assert clinic.store.history("bob")[-1]["id"] == clinic.bob_session
