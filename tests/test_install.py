"""The light install: what `pip install .` declares, and the main jobs running without any
optional part (torch, mediapipe, the renderer, the PostgreSQL driver blocked from import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
HEAVY = ("torch", "mediapipe", "anny", "pyrender", "jax", "tensorflow")
GUI_OPENCV = ("opencv-python", "opencv-contrib-python")


def _name(requirement: str) -> str:
    for sep in "<>=!~;[ ":
        requirement = requirement.split(sep)[0]
    return requirement.lower()


def test_core_dependencies_are_light() -> None:
    core = {_name(r) for r in PROJECT["dependencies"]}
    assert not core & set(HEAVY) and not core & set(GUI_OPENCV)
    # analyse (decoder, pose runtime, report plots), serve, history on SQLite
    assert {"av", "ai-edge-litert", "opencv-python-headless", "matplotlib", "starlette", "uvicorn",
            "websockets", "sqlalchemy", "alembic", "platformdirs"} <= core


def test_heavy_parts_are_extras() -> None:
    extras = PROJECT["optional-dependencies"]
    assert "torch==2.13.0" in extras["synth"]  # the only torch that installs here
    assert {_name(r) for r in extras["mediapipe"]} >= {"protobuf", "attrs", "flatbuffers"}
    assert {"synth", "mediapipe", "storage", "web", "test", "dev"} <= set(extras)


BLOCKED_CHILD = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is not part of the light install")
sys.meta_path.insert(0, Block())
from clamcoach.cli import main
code = main(sys.argv[1:])
sys.exit(code)
"""


def _light(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "light.py"
    script.write_text(BLOCKED_CHILD.format(blocked=(*HEAVY, "psycopg", "trimesh", "OpenGL")))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"),
           "CLAMCOACH_DATABASE_URL": f"sqlite:///{tmp_path / 'h.sqlite'}",
           "CLAMCOACH_OUTBOX_DIR": str(tmp_path / "outbox")}
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


@pytest.mark.slow
def test_main_jobs_run_without_the_optional_parts(tmp_path, demo_clip) -> None:
    out = tmp_path / "a.json"
    done = _light(tmp_path, "analyze", str(demo_clip), "--json", str(out), "--quiet",
                  "--report", str(tmp_path / "a.html"), "--patient", "ann")
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["summary"]["reps"] == 5
    done = _light(tmp_path, "history", "ann", "--json")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["sessions"]) == 1
    done = _light(tmp_path, "serve", "--help")
    assert done.returncode == 0 and "--port" in done.stdout
    done = _light(tmp_path, "synth", "--reps", "1", "--out", str(tmp_path / "s.mp4"))
    assert done.returncode == 10 and "clamcoach[synth]" in done.stderr  # an extra, with its hint
