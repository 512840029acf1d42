"""Analysis opens no network connection: not from Python, and not from mediapipe's C++ code.

Three independent proofs, each running the real video reader and the real pose model:

1. in-process, with Python's socket entry points replaced by ones that raise;
2. a child process with an audit hook recording every ``socket.*`` event Python raises;
3. a child process under ``strace -f``, which sees every socket syscall from any thread or
   library (mediapipe >= 0.10.30 posts usage reports from C++, invisible to 1 and 2);

plus a run inside an empty network namespace (``unshare -n``) to show it works offline.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

import clamcoach

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
SRC = Path(clamcoach.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lying_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight frames of the fixture person lying on their side."""
    return _still_clip(tmp_path_factory.mktemp("net") / "lying.mp4", 8)


@pytest.fixture(scope="module")
def lying_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same for 3.5 s: long enough to be judged, as a batch's videos must be."""
    return _still_clip(tmp_path_factory.mktemp("net") / "lying-set.mp4", 105)


def _still_clip(path: Path, n_frames: int) -> Path:
    rgb = cv2.cvtColor(cv2.imread(str(FIXTURES / "walking_person.jpg")), cv2.COLOR_BGR2RGB)
    person = np.ascontiguousarray(np.rot90(rgb, 1))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = person.shape[1], person.shape[0], "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(person, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 30)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def analyse(path: Path) -> int:
    """What the child processes run too: read the clip, estimate a pose on every frame."""
    from clamcoach.io import open_video
    from clamcoach.pose import open_estimator

    found = 0
    with open_estimator(rotation_fallback=True) as estimator:
        for frame in open_video(path):
            found += estimator.estimate(frame.rgb, frame.t) is not None
    return found


CHILD = """
import json, sys
events = []
def hook(event, args):
    if event.startswith("socket."):
        events.append(event)
sys.addaudithook(hook)
sys.path.insert(0, {tests!r})
from test_no_network import analyse
found = analyse({clip!r})
print("RESULT " + json.dumps({{"found": found, "socket_events": sorted(set(events))}}))
"""


def run_child(clip: Path, prefix: list[str], tmp_path: Path) -> tuple[dict, subprocess.CompletedProcess]:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(Path(__file__).parent), clip=str(clip)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [*prefix, sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"child failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(lines[-1][len("RESULT "):]), proc


def test_no_python_socket_use_in_process(lying_clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []

    def refuse(name: str):
        def blocked(*args: object, **kwargs: object) -> None:
            attempts.append(name)
            raise OSError(f"network use attempted: {name}")

        return blocked

    for name in ("connect", "connect_ex", "sendto", "sendmsg"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.{name}"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, refuse(name))
    assert analyse(lying_clip) == 8
    assert attempts == []


def test_no_python_socket_events_in_a_child(lying_clip: Path, tmp_path: Path) -> None:
    result, _ = run_child(lying_clip, [], tmp_path)
    assert result == {"found": 8, "socket_events": []}


# Socket syscalls that reach (or look up) other machines; AF_UNIX/AF_NETLINK stay local.
_NETWORK_SYSCALL = re.compile(r"\b(socket|connect|sendto|sendmsg|sendmmsg)\((\d+, )?\{?(sa_family=)?AF_INET6?\b")


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace (Debian package `strace`)")
def test_no_network_syscalls_from_any_library(lying_clip: Path, tmp_path: Path) -> None:
    trace = tmp_path / "strace.txt"
    prefix = ["strace", "-f", "-qq", "-e", "signal=none", "-e", "trace=%network", "-o", str(trace)]
    result, _ = run_child(lying_clip, prefix, tmp_path)
    assert result["found"] == 8
    calls = [ln for ln in trace.read_text().splitlines() if _NETWORK_SYSCALL.search(ln)]
    assert calls == [], "network syscalls during analysis:\n" + "\n".join(calls[:20])


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    for flags in (["-n"], ["-r", "-n"]):  # as root, or in a user namespace
        if subprocess.run(["unshare", *flags, "true"], capture_output=True, check=False).returncode == 0:
            return True
    return False


def _unshare_prefix() -> list[str]:
    ok = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode == 0
    return ["unshare", "-n"] if ok else ["unshare", "-r", "-n"]


@pytest.mark.skipif(not _unshare_works(), reason="network namespaces are not available here")
def test_analysis_works_with_no_network_at_all(lying_clip: Path, tmp_path: Path) -> None:
    result, _ = run_child(lying_clip, _unshare_prefix(), tmp_path)
    assert result == {"found": 8, "socket_events": []}


# ---- clamcoach batch: Ray on this machine talks to this machine only ------------------------

_INET_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')
_LOOPBACK = re.compile(r"^(127\.|::1$|::ffff:127\.)")


def _batch(clip: Path, out: Path, prefix: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    cmd = [*prefix, sys.executable, "-m", "clamcoach.cli", "batch", str(clip), "--out", str(out),
           "--workers", "2", "--no-progress"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, check=False)


def _batch_result(out: Path) -> dict:
    return json.loads((out / "batch.json").read_text())["videos"][0]


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace (Debian package `strace`)")
def test_a_batch_on_ray_reaches_only_this_machine(lying_set: Path, tmp_path: Path) -> None:
    """Every socket address that Ray's processes (driver, GCS, raylet, agents, workers)
    connect to, send to or listen on is a loopback one: no probe of 8.8.8.8, no cloud
    metadata, nothing bound to all interfaces."""
    trace = tmp_path / "strace.txt"
    prefix = ["strace", "-f", "-qq", "-e", "signal=none", "-e", "trace=connect,sendto,sendmsg,bind",
              "-o", str(trace)]
    done = _batch(lying_set, tmp_path / "out", prefix)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _batch_result(tmp_path / "out")["status"] == "ok"
    lines = trace.read_text().splitlines()
    addresses = {a or b for line in lines for a, b in _INET_ADDRESS.findall(line)}
    assert any(_LOOPBACK.match(a) for a in addresses), "Ray's own traffic was not seen: is strace tracing?"
    outside = sorted(a for a in addresses if not _LOOPBACK.match(a))
    assert outside == [], "batch used addresses beyond this machine: " + ", ".join(outside)


@pytest.mark.skipif(not _unshare_works() or shutil.which("ip") is None,
                    reason="network namespaces (and iproute2) are not available here")
def test_a_batch_runs_with_only_loopback(lying_set: Path, tmp_path: Path) -> None:
    namespace = [*_unshare_prefix(), "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
    done = _batch(lying_set, tmp_path / "out", namespace)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _batch_result(tmp_path / "out")["status"] == "ok"
