"""`clamcoach serve --phone` reached over a real network link, as from a phone.

The test makes a network namespace with a veth pair and two private addresses of its own
(10.231.7.1 on this side, 10.231.7.2 inside) and runs the real command inside it, with the
real pose model. Headless Chromium on this side, at a phone's viewport with the demo clip as
its camera, opens the ``Phone:`` address the command printed (HTTPS to an address that is not
loopback), trusts the project's certificate by its SPKI hash only, coaches the demo's 5 reps
and shows the summary; then the patient follows the page's link to the workspace, signs in on
the phone and sees their own plan. Making a namespace needs root (CI runs as root); elsewhere
the test says so in its skip reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from clamcoach.web.tls import spki_sha256
from tests.processes import ctrl_c_reaches_it
from tests.web.browser import STATE, Chromium, keep_screenshot, state

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOST_ADDR, NS_ADDR, PREFIX = "10.231.7.1", "10.231.7.2", 30
CLAMCOACH = Path(sys.executable).with_name("clamcoach")
PATIENT, PASSWORD = "ann", "correct horse battery"


def _ip(*args: str, ns: str | None = None) -> None:
    cmd = ["ip", *(("netns", "exec", ns, "ip") if ns else ()), *args]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=20)


@pytest.fixture
def netns() -> Iterator[str]:
    """A namespace linked to this one by a veth pair; removed afterwards (with the pair)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.fail("cannot make a network namespace: needs root and iproute2 (make test installs iproute2; CI runs as root)")
    tag = f"{os.getpid() % 100000}"
    name, host_if, ns_if = f"clamcoach-{tag}", f"cch{tag}", f"ccn{tag}"
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, text=True, timeout=20)
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"cannot make a network namespace: {exc.stderr.strip()}")
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _ip("link", "set", ns_if, "netns", name)
        _ip("addr", "add", f"{HOST_ADDR}/{PREFIX}", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("addr", "add", f"{NS_ADDR}/{PREFIX}", "dev", ns_if, ns=name)
        _ip("link", "set", ns_if, "up", ns=name)
        _ip("link", "set", "lo", "up", ns=name)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, timeout=20)


class Served:
    """The command's output, read as it comes."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def close(self) -> None:
        self._reader.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def phone_url(self, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if line.startswith("Phone: ")]
            if found:
                return found[0].removeprefix("Phone: ").strip()
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("no 'Phone: ' line from clamcoach serve --phone:\n" + "\n".join(self.lines[-30:]))


@pytest.fixture
def served(netns, tmp_path) -> Iterator[tuple[Served, Path]]:
    config = tmp_path / "config"
    # The test's own config and data folders: nothing of the user's (or CI's database) is used.
    env = {k: v for k, v in os.environ.items() if k != "CLAMCOACH_DATABASE_URL"}
    env.update(XDG_CONFIG_HOME=str(config), XDG_DATA_HOME=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    db = f"sqlite:///{tmp_path / 'clinic.sqlite'}"
    for name, role in (("thera", ["--role", "therapist"]), (PATIENT, ["--role", "patient", "--therapist", "thera"])):
        subprocess.run([str(CLAMCOACH), "user", "add", name, *role, "--password-stdin", "--db", db],
                       input=PASSWORD + "\n", check=True, capture_output=True, text=True, env=env, timeout=60)
    cmd = ["ip", "netns", "exec", netns, str(CLAMCOACH), "serve", "--phone", "--host", NS_ADDR,
           "--port", "0", "--no-browser", "--db", db,
           "--set", "prescription.reps=5", "--set", "prescription.sets=1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=ctrl_c_reaches_it)
    out = Served(proc)
    try:
        yield out, config / "clamcoach" / "tls"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        out.close()


def test_a_phone_on_the_network_pairs_and_is_coached_through_the_demo(served, demo, tmp_path):
    out, tls = served
    url = out.phone_url()
    assert url.startswith(f"https://{NS_ADDR}:") and "/pair/" in url
    server_cert = x509.load_pem_x509_certificates((tls / "server.pem").read_bytes())[0]
    assert oct((tls / "server-key.pem").stat().st_mode & 0o777) == "0o600"
    spki = spki_sha256(server_cert)
    with Chromium(fake_video=demo["y4m"], size=(390, 844),
                  extra=(f"--ignore-certificate-errors-spki-list={spki}",)) as browser:
        page = browser.page
        page.set_viewport(390, 844, mobile=True)
        page.navigate(url)
        page.wait_for(f"window.clamcoach && {STATE}.ready", timeout=90)
        assert page.evaluate("location.origin") == url.split("/pair/")[0]
        page.click("#start-camera")
        page.wait_for(f"{STATE}.source === 'camera'", timeout=20)
        page.wait_for(f"{STATE}.screen === 'summary'", timeout=demo["duration"] + 60)
        keep_screenshot(page, tmp_path, "live-phone-network-summary.png")
        s = state(page)
        # The workspace is served too: the patient follows the summary's link, signs in on the
        # phone and sees their own plan.
        page.click("#summary-sign-in a")
        page.wait_for("location.pathname === '/login' && !!document.querySelector('input[name=password]')")
        page.evaluate(f"""(() => {{ const f = document.querySelector('form[action="/login"]');
            f.username.value = {PATIENT!r}; f.password.value = {PASSWORD!r}; f.submit(); }})()""")
        page.wait_for("location.pathname.startsWith('/patients/')", timeout=30)
        own = page.evaluate("document.body.textContent")
        keep_screenshot(page, tmp_path, "workspace-phone-network.png")
    summary = s["session"]["summary"]
    reps = [r for r in s["reps"] if r["set"] == 1]
    assert summary["reps"] == len(demo["reps"]) == 5 == len(reps), (summary, out.lines[-10:])
    assert s["cue"] == "" and s["conn"] == "open"
    assert [e["text"] for e in s["spoken"] if e["channel"] == "count"] == ["one", "two", "three", "four", "five"]
    assert PATIENT in own and "My plan" in own and "Wrong user name" not in own, own[:300]
    # the pairing link was used up: opening it again is refused
    with Chromium(fake_camera=False, extra=(f"--ignore-certificate-errors-spki-list={spki}",)) as other:
        other.page.navigate(url)
        assert "used or has expired" in other.page.evaluate("document.body.textContent")
