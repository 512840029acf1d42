"""`clamcoach batch` at the door: option errors, the install hint without Ray, and the task
function needing no Ray at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
