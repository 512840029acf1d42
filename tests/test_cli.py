"""The command line: exit codes, one-line errors, outputs checked first and written
atomically (in-process), interrupts and a full disk (real processes and signals), the real clip."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from clamcoach.cli import main
from tests.processes import ctrl_c_reaches_it

ROOT = Path(__file__).resolve().parents[1]


def write_video(path: Path, frames: int = 10, size=(320, 240), colour=(90, 90, 90), fps: int = 10) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        img = np.zeros((size[1], size[0], 3), np.uint8)
        img[:] = colour
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", [["analyze", "set.mp4"], ["serve"], ["batch", "folder", "--out", "results"]])
def test_knee_pillow_is_the_protocols_setup_knee_pillow_beside_other_changes(command):
    from clamcoach.cli import build_parser
    from clamcoach.protocol import load_protocol

    args = build_parser().parse_args([*command, "--set", "roll_back.error_deg=12", "--knee-pillow"])
    proto = load_protocol(None, args.set)
    assert proto.setup.knee_pillow is True and proto.roll_back.error_deg == 12
    assert load_protocol(None, build_parser().parse_args(command).set).setup.knee_pillow is False


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "analyze", str(tmp_path / "nope.mp4"))
    assert code == 4
    assert err.startswith("clamcoach: error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_not_a_video(capsys, tmp_path):
    f = tmp_path / "notes.mp4"
    f.write_text("this is not a video\n" * 50)
    code, _, err = run(capsys, "analyze", str(f))
    assert code == 5 and err.count("\n") == 1


def test_zero_frames(capsys, tmp_path):
    """A valid container with a video stream but not one frame."""
    f = tmp_path / "empty.mkv"
    out = av.open(str(f), "w")
    s = out.add_stream("mpeg4", rate=10)
    s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
    out.start_encoding()
    out.close()
    code, _, err = run(capsys, "analyze", str(f))
    assert code == 6 and err.count("\n") == 1


@pytest.mark.slow
def test_nobody_in_view_writes_nothing(capsys, tmp_path):
    video = write_video(tmp_path / "empty_room.mp4", frames=40)
    out, annotated = tmp_path / "out.json", tmp_path / "out.mp4"
    code, _, err = run(capsys, "analyze", str(video), "--json", str(out), "--annotated", str(annotated))
    assert code == 7 and "nobody" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty_room.mp4"]


@pytest.mark.parametrize("frames", [1, 20])
def test_too_short_clip_has_its_own_exit_code(capsys, tmp_path, frames):
    video = write_video(tmp_path / "short.mp4", frames=frames)
    code, out, err = run(capsys, "analyze", str(video), "--json", str(tmp_path / "a.json"))
    assert code == 12, err
    seconds = frames / 10
    assert err == f"clamcoach: error: too short to judge: {seconds:.1f} s, at least one rep needs about 3 s\n"
    assert out == "" and not (tmp_path / "a.json").exists()


def test_bad_override(capsys, tmp_path):
    video = write_video(tmp_path / "v.mp4")
    code, _, err = run(capsys, "analyze", str(video), "--set", "roll_back.error=12")
    assert code == 3 and "unknown protocol key" in err


def test_output_folder_missing(capsys, tmp_path):
    video = write_video(tmp_path / "v.mp4")
    code, _, err = run(capsys, "analyze", str(video), "--json", str(tmp_path / "no" / "such" / "out.json"))
    assert code == 9 and "folder" in err and "does not exist" in err
    assert not (tmp_path / "no").exists()


def _read_only_mount(tmp_path: Path) -> Path | None:
    """A read-only folder even for root (a read-only tmpfs), or None where mounting is not allowed."""
    target = tmp_path / "ro"
    target.mkdir()
    if os.geteuid() != 0:
        target.chmod(0o555)
        return target
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(target)],
                          capture_output=True, check=False)
    return target if done.returncode == 0 else None


@pytest.mark.parametrize("option", ["--json", "--csv", "--report", "--pdf", "--annotated"])
def test_unwritable_outputs_fail_within_a_second(capsys, tmp_path, demo_clip, option):
    """Before the analysis: the 25 s demo clip would take several seconds to analyse."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    folder_target = tmp_path / "a-folder"
    folder_target.mkdir()
    bad = [tmp_path / "missing" / "out", blocker / "out", folder_target]
    read_only = _read_only_mount(tmp_path)
    if read_only is not None:
        bad.append(read_only / "out")
    try:
        for path in bad:
            start = time.perf_counter()
            code, out, err = run(capsys, "analyze", str(demo_clip), option, str(path))
            assert time.perf_counter() - start < 1.0
            assert code == 9, (path, err)
            assert err.startswith(f"clamcoach: error: {option}: cannot write") and err.count("\n") == 1
            assert out == ""
    finally:
        if read_only is not None and os.geteuid() == 0:
            subprocess.run(["umount", str(read_only)], check=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["a-file", "a-folder"] + (["ro"] if read_only is not None else []))


def test_two_outputs_naming_one_file_are_refused(capsys, tmp_path, demo_clip):
    code, _, err = run(capsys, "analyze", str(demo_clip), "--json", str(tmp_path / "x"),
                       "--csv", str(tmp_path / "x"))
    assert code == 9 and "same file" in err


def test_export_into_a_missing_folder_creates_nothing(capsys, tmp_path):
    db = tmp_path / "h.sqlite"
    assert run(capsys, "prescribe", "ann", "--reps", "10", "--db", str(db))[0] == 0
    code, _, err = run(capsys, "export", "ann", "--csv", str(tmp_path / "no" / "such" / "x.csv"),
                       "--db", str(db))
    assert code == 9 and "does not exist" in err
    assert not (tmp_path / "no").exists()


# --- real processes: interrupts and a full disk ---------------------------------------------


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-m", "clamcoach.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_reaches_it, **kwargs)


def _size(path: Path) -> int:
    """A file's size, 0 once it is gone (the writability probe files come and go)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _wait_for(predicate, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_interrupt_leaves_no_output(tmp_path, demo_clip, sig, code):
    out = tmp_path / "out"
    out.mkdir()
    proc = _cli("analyze", str(demo_clip), "--annotated", str(out / "a.mp4"), "--json", str(out / "a.json"),
                "--report", str(out / "a.html"))
    # Interrupt in the middle: once the annotated video's temporary file has grown.
    try:
        _wait_for(lambda: any(_size(p) > 50_000 for p in out.glob(".a.mp4.*")) or proc.poll() is not None)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    assert proc.poll() is None, "the analysis finished before it could be interrupted"
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert stderr.strip().splitlines()[-1].startswith("clamcoach: interrupted")
    assert "Traceback" not in stderr
    assert list(out.iterdir()) == []  # neither the partial video nor its temporary file


def _tmpfs_run(tmp_path: Path, size: str, fill_kb: int, *args: str) -> subprocess.CompletedProcess:
    """Run the CLI in a private mount namespace with a small tmpfs at tmp_path/disk (filled with
    ``fill_kb`` first); print what is left on it after the run."""
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size={size} tmpfs {disk} && "
              f"{{ [ {fill_kb} -eq 0 ] || dd if=/dev/zero of={disk}/ballast bs=1k count={fill_kb} 2>/dev/null; "
              f"PYTHONPATH={ROOT / 'src'} {sys.executable} -m clamcoach.cli {' '.join(args)}; rc=$?; "
              f"echo LEFT: $(ls -A {disk}); exit $rc; }}")
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                          timeout=300, check=False)


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                           capture_output=True, check=False)
    return probe.returncode == 0


needs_tmpfs = pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs mount namespaces (root)")


@pytest.mark.slow
@needs_tmpfs
def test_full_disk_during_the_annotated_video(tmp_path, demo_clip):
    done = _tmpfs_run(tmp_path, "128k", 0, "analyze", str(demo_clip),
                      "--annotated", str(tmp_path / "disk" / "a.mp4"))
    assert done.returncode == 9, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("clamcoach: error: cannot") and "a.mp4" in last
    assert "No space left on device" in last
    assert done.stdout.strip().splitlines()[-1] == "LEFT:"  # nothing half-written


@pytest.mark.slow
@needs_tmpfs
def test_full_disk_for_the_json(tmp_path, demo_clip):
    # Room for the checks' empty probe file, not for the 7 kB report.
    done = _tmpfs_run(tmp_path, "64k", 62, "analyze", str(demo_clip), "--quiet",
                      "--json", str(tmp_path / "disk" / "a.json"))
    assert done.returncode == 9, done.stderr
    assert "No space left on device" in done.stderr
    assert done.stdout.strip().splitlines()[-1] == "LEFT: ballast"


def test_usage_error(capsys):
    code, _, _ = run(capsys, "analyze")
    assert code == 2


def test_debug_shows_traceback(capsys, tmp_path):
    code, _, err = run(capsys, "--debug", "analyze", str(tmp_path / "nope.mp4"))
    assert code == 4 and "Traceback" in err


@pytest.mark.slow
def test_demo_clip_end_to_end(capsys, tmp_path, demo_clip):
    """The real pose model on the real rendered clip: reps and findings match the truth."""
    out_json, out_csv = tmp_path / "a.json", tmp_path / "a.csv"
    code, out, err = run(capsys, "analyze", str(demo_clip), "--json", str(out_json), "--csv", str(out_csv))
    assert code == 0, err
    report = json.loads(out_json.read_text())
    truth = json.loads(demo_clip.with_suffix(".json").read_text())
    truth_reps = truth["reps"]
    assert report["schema"] == "clamcoach.analysis/1"
    assert report["summary"]["reps"] == len(truth_reps)
    assert report["camera_view"] == truth["camera"]["view"]  # from the fitted camera now
    assert report["top_side"] == truth["setup"]["top_side"]
    too_high = truth["thresholds"]["lift_too_high_deg"]
    for rep, tr in zip(report["reps"], truth_reps):
        got = {f["code"] for f in rep["findings"]} & {"roll_back", "lift_too_high", "feet_apart"}
        # A check on a measured value can only be asked to agree with the truth where the truth
        # is further from the threshold than the value's stated uncertainty (90%).
        if abs(tr["peak_opening_deg"] - too_high) < 1.645 * rep["opening_sd_deg"]:
            got.discard("lift_too_high")
            want = set(tr["labels"]) - {"lift_too_high"}
        else:
            want = set(tr["labels"])
        assert got == want, (rep["index"], got, tr["labels"])
        assert abs(rep["opening_deg"] - tr["peak_opening_deg"]) <= 1.645 * rep["opening_sd_deg"] + 2.0
    assert "Reps:" in out and "What to change" in out
    header = out_csv.read_text().splitlines()[0]
    assert "opening_deg" in header and "pelvis_roll_deg" in header
