"""The page on a phone, in Chromium over HTTPS: paired by its link, laid out for a mat 2 m away.

The server runs in phone mode on 127.0.0.1 with the stand-in pose model; Chromium trusts the
project's certificate by its SPKI hash only (not a blanket ignore). The stand-in clip holds
two reps, the second rolled back, so the page shows a cue, counts aloud and reaches the summary.
Screenshots go to $CLAMCOACH_SCREENSHOTS too (``make docs-screenshots`` -> docs/img).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.web.browser import STATE, Chromium, Page, keep_screenshot, state, watch_network
from tests.web.clips import write_y4m
from tests.web.helpers import serve_phone
from tests.web.standin import frame_rgb, script

pytestmark = pytest.mark.browser

PORTRAIT, LANDSCAPE, DESKTOP = (390, 844), (844, 390), (1280, 800)
MIN_READ_PX = 24

#: Where each element is and how big its text is, for the elements the patient reads.
GEOMETRY_JS = """((ids) => Object.fromEntries(ids.map((id) => {
  const el = document.getElementById(id);
  if (!el || el.closest('[hidden]') || !el.getClientRects().length) return [id, null];
  const r = el.getBoundingClientRect();
  return [id, { top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                font: parseFloat(getComputedStyle(el).fontSize), w: innerWidth, h: innerHeight }];
})))(%s)"""


def geometry(page: Page, ids: list[str]) -> dict:
    import json

    return page.evaluate(GEOMETRY_JS % json.dumps(ids))


def assert_in_view_and_large(page: Page, ids: list[str], where: str) -> None:
    for id_, g in geometry(page, ids).items():
        assert g is not None, f"{where}: #{id_} is not shown"
        inside = g["top"] >= 0 and g["left"] >= 0 and g["bottom"] <= g["h"] + 0.5 and g["right"] <= g["w"] + 0.5
        assert inside, f"{where}: #{id_} is not (wholly) in view: {g}"
        assert g["font"] >= MIN_READ_PX, f"{where}: #{id_} text is {g['font']} px"


@pytest.fixture(scope="module")
def two_rep_clip(tmp_path_factory) -> Path:
    frames = list(script(2, fps=15, rest=2.0, lead_in=2.0, roll_back={2: 20}))
    path = tmp_path_factory.mktemp("clips") / "phone.y4m"
    write_y4m((frame_rgb(p, 320, 240) for _, p in frames), path, fps=15)
    return path


def phone_browser(srv, clip: Path, lang: str | None = None) -> Chromium:
    return Chromium(fake_video=clip, size=PORTRAIT, lang=lang,
                    extra=(f"--ignore-certificate-errors-spki-list={srv.access.identity.spki_sha256}",))


def pair(page: Page, srv) -> None:
    page.set_viewport(*PORTRAIT, mobile=True)
    page.navigate(srv.access.pairing_url())        # what the QR code holds
    page.wait_for(f"window.clamcoach && {STATE}.ready", timeout=60)
    assert page.evaluate("location.href") == srv.url + "/"


def test_a_paired_phone_coaches_in_view_and_aloud_and_the_computer_mirrors_it(two_rep_clip, tmp_path):
    with serve_phone(tmp_path, ("prescription.reps=2", "prescription.sets=1")) as srv, \
            phone_browser(srv, two_rep_clip) as browser:
        # the computer's screen: the pairing code, then the phone's coaching
        computer = browser.page
        computer.set_viewport(*DESKTOP)
        computer.navigate(srv.local + "/")
        computer.wait_for(f"window.clamcoach && {STATE}.conn === 'open'", timeout=30)
        computer.wait_for("document.getElementById('pair-qr').naturalWidth > 100", timeout=20)
        shown = computer.evaluate("document.getElementById('pair-url').textContent")
        assert shown == srv.access.pairing_url() and state(computer)["viewer"]
        keep_screenshot(computer, tmp_path, "live-computer-pairing.png")

        phone = browser.new_page()
        urls = watch_network(phone)
        pair(phone, srv)
        s = state(phone)
        assert (s["where"], s["viewer"], s["conn"]) == ("phone", False, "open")
        phone.click("#mute-hold")                  # the hold countdown muted, the rep count not
        for size in (PORTRAIT, LANDSCAPE):
            phone.set_viewport(*size, mobile=True)
            assert_in_view_and_large(phone, ["start-camera", "start-h"], f"start {size}")
            keep_screenshot(phone, tmp_path, f"live-phone-start-{size[0]}x{size[1]}.png")
        phone.set_viewport(*PORTRAIT, mobile=True)
        phone.click("#start-camera")
        phone.wait_for(f"{STATE}.source === 'camera'", timeout=10)
        assert state(phone)["facing"] == "user"

        # while the second rep's roll-back cue shows: counter and cue in view, large, every layout
        phone.wait_for(f"{STATE}.cue !== '' && {STATE}.screen === 'reps'", timeout=40)
        for size, mobile in ((PORTRAIT, True), (LANDSCAPE, True), (DESKTOP, False)):
            phone.set_viewport(*size, mobile=mobile)
            assert_in_view_and_large(phone, ["rep-count", "cue-text", "hold"], f"reps {size}")
            keep_screenshot(phone, tmp_path, f"live-phone-reps-{size[0]}x{size[1]}.png")
        phone.set_viewport(*PORTRAIT, mobile=True)
        assert state(phone)["wakeLock"]                    # the screen stays on during the set
        mirrored = state(computer)
        assert mirrored["remote"] and mirrored["screen"] in ("reps", "setup")
        keep_screenshot(computer, tmp_path, "live-computer-mirror.png")

        phone.wait_for(f"{STATE}.screen === 'summary'", timeout=40)
        s = state(phone)
        assert s["cue"] == "" and s["session"]["summary"]["reps"] == 2   # the summary clears the last cue
        assert not s["wakeLock"]                                         # released with the set
        counts = [e for e in s["spoken"] if e["channel"] == "count"]
        holds = [e for e in s["spoken"] if e["channel"] == "hold"]
        assert [e["text"] for e in counts] == ["one", "two"] and not any(e["muted"] for e in counts)
        assert holds and all(e["muted"] for e in holds)                  # asked, but muted
        assert holds[0]["text"].startswith("hold")
        assert_in_view_and_large(phone, ["summary-h", "work-on"], "summary portrait")
        keep_screenshot(phone, tmp_path, "live-phone-summary-390x844.png")
        computer.wait_for(f"{STATE}.screen === 'summary'", timeout=10)
        assert not phone.js_errors() and not computer.js_errors()
        # the phone asked nobody but the computer for anything (no third-party address)
        seen = urls()
        own = (srv.url + "/", srv.url.replace("https://", "wss://") + "/", "blob:", "data:")
        assert seen and [u for u in seen if not u.startswith(own)] == []


def test_the_phone_speaks_and_shows_its_own_language(two_rep_clip, tmp_path):
    with serve_phone(tmp_path, ("prescription.reps=2", "prescription.sets=1")) as srv, \
            phone_browser(srv, two_rep_clip, lang="de") as browser:
        phone = browser.page
        pair(phone, srv)
        assert state(phone)["lang"] == "de"
        assert phone.evaluate("document.getElementById('start-camera').textContent") == "Kamera starten"
        phone.click("input[name=facing][value=environment]")   # another screen shows the coaching
        phone.navigate(srv.url + "/")                          # the choice is remembered
        phone.wait_for(f"window.clamcoach && {STATE}.ready", timeout=30)
        assert phone.evaluate("document.querySelector('input[name=facing]:checked').value") == "environment"
        phone.click("#start-camera")
        phone.wait_for(f"{STATE}.source === 'camera'", timeout=10)
        assert state(phone)["facing"] == "environment"
        assert not phone.evaluate("document.getElementById('preview').classList.contains('camera')")  # no mirror
        phone.wait_for(f"{STATE}.screen === 'summary'", timeout=60)
        s = state(phone)
        counts = [e["text"] for e in s["spoken"] if e["channel"] == "count"]
        holds = [e["text"] for e in s["spoken"] if e["channel"] == "hold"]
        assert counts == ["eins", "zwei"] and holds[0] == "halten, zwei" and "eins" in holds
        cues = [e["text"] for e in s["spoken"] if e["channel"] == "voice"]
        assert "Nach vorn drehen, weniger anheben." in cues             # the roll-back cue, translated
        assert phone.evaluate("document.getElementById('summary-h').textContent") == "Gut gemacht"
        # A finding's name: the protocol file's label, sent by the server, shown in German.
        assert s["labels"]["roll_back"] == "Rolling back"
        chip = phone.evaluate("import('/static/js/view.js').then((v) => v.repChip("
                              f"{STATE}.reps.find((r) => r.index === 2), {STATE}.labels).textContent)")
        assert chip == "2: Nach hinten gedreht"


def test_a_phone_that_is_not_paired_is_told_so(tmp_path):
    with serve_phone(tmp_path) as srv, phone_browser(srv, Path("/dev/null")) as browser:
        page = browser.page
        page.set_viewport(*PORTRAIT, mobile=True)
        page.navigate(srv.url + "/")
        assert "not paired" in page.evaluate("document.body.textContent")
        page.navigate(srv.url + "/pair/" + "x" * 43)                      # a used or guessed link
        text = page.evaluate("document.getElementById('reason').textContent")
        assert "used or has expired" in text
        keep_screenshot(page, tmp_path, "live-phone-link-expired.png")
        time.sleep(0.1)
