"""Live coaching bound to the patient, end to end in headless Chromium: ann signs in, opens
live coaching from her page, the fake camera plays two stand-in reps, she ends the session,
the summary asks how it felt, she rates it 3, and her page lists the live set with its pain.
The set is in her history, checked against her prescription; bob's history is untouched."""

from __future__ import annotations

import pytest

from clamcoach.storage import pain
from clamcoach.web.server import BackgroundServer
from tests.web.browser import STATE, BrowserMissing, Chromium, chromium_path, keep_screenshot
from tests.web.clips import write_y4m
from tests.web.standin import frame_rgb, script
from tests.workspace.conftest import PASSWORD, make_clinic

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


def test_a_patient_coaches_live_and_rates_the_pain(served, clip, tmp_path):
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
        session = page.evaluate(f"{STATE}.session")
        # ann's prescription: 3 x 10, a 3 s hold (the default protocol holds 2 s)
        assert (session["sets"], session["reps_target"], session["hold_target_s"]) == (3, 10, 3.0)
        page.click("#start-camera")
        page.wait_for(f"{STATE}.session && {STATE}.session.reps_in_set >= 2", timeout=60)
        page.click("#end-session")
        page.wait_for(f"{STATE}.screen === 'summary'", timeout=20)
        assert page.evaluate("!document.getElementById('live-pain').closest('[hidden]')")
        keep_screenshot(page, tmp_path, "live-pain.png")
        page.click("#live-pain input[name=rating][value='3']")
        page.click("#live-pain button[type=submit]")
        page.wait_for(f"location.pathname === '/patients/{clinic.ann}'", timeout=20)
        listing = page.evaluate("document.getElementById('sessions').nextElementSibling.textContent")
        errors = [e for e in page.js_errors() if "favicon.ico" not in e["message"]]
        assert errors == [], errors  # (the workspace pages have no icon: their 404 is not an error)
    [new] = [s for s in clinic.store.history("ann") if s["id"] not in before]
    assert new["kind"] == "live" and new["reps"] >= 2
    report = clinic.store.session(new["id"])["report"]
    assert report["patient"] == "ann" and report["prescription_check"]["dose"]["reps"] == 10
    assert [(r.rating, r.session_id) for r in pain.ratings(clinic.store, clinic.ann)] == [(3, new["id"])]
    assert "live" in listing
    assert clinic.store.history("bob")[-1]["id"] == clinic.bob_session
