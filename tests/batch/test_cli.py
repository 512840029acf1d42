"""`clamcoach batch` at the door: option errors, the install hint without Ray, and the task
function needing no Ray at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clamcoach.batch.index import VideoRecord
from clamcoach.cli import main


def test_bad_options_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.mp4").write_bytes(b"x")
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--workers", "2",
                 "--address", "10.0.0.5:6379"]) == 2
    assert main(["batch", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "no such folder or manifest" in err


def test_without_ray_the_batch_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.mp4").write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    before = dict(os.environ)
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--no-progress"]) == 10
    assert "pip install 'clamcoach[batch]'" in capsys.readouterr().err
    assert dict(os.environ) == before  # Ray's settings are not left behind


def test_the_task_function_imports_no_ray() -> None:
    code = ("import sys; from clamcoach.batch import analyze_one, AnalysisOptions; "
            "import clamcoach.batch.run, clamcoach.batch.ray_driver; print('ray' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _record(video_id: str, status: str) -> VideoRecord:
    return VideoRecord(video_id, f"/v/{video_id}.mp4", status, 0 if status == "ok" else 5,
                       "ok" if status == "ok" else "not a video", 2.0, reps=4)


def test_progress_is_plain_lines_off_a_terminal() -> None:
    import io

    from clamcoach.batch.progress import Progress

    stream = io.StringIO()
    progress = Progress(3, skipped=2, stream=stream)
    progress.start_line(2, "this machine", 1.5)
    progress.update(_record("a", "ok"))
    progress.update(_record("b", "failed"))
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "batch: 3 to analyse, 2 already done; 2 workers on this machine (Ray started in 1.5 s)"
    assert lines[1].startswith("[1/3] a: ok (4 reps, 2.0 s); done 1, failed 0, left 2, ")
    assert lines[2].startswith("[2/3] b: failed (exit 5): not a video; done 1, failed 1, left 1, ")
    assert "/min, about " in lines[2]


def test_progress_is_a_bar_on_a_terminal() -> None:
    import io

    from clamcoach.batch.progress import Progress

    stream = io.StringIO()
    progress = Progress(2, stream=stream, bar=True)
    progress.update(_record("a", "ok"))
    progress.update(_record("b", "failed"))
    progress.close()
    text = stream.getvalue()
    assert "\r" in text and "2/2" in text and "done 1, failed 1, left 0" in text
    assert "failed b: not a video" in text
