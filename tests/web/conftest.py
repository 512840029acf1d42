"""Web fixtures: a served app with the stand-in pose model, and WebSocket clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.web.clips import video_fps, video_frames, write_y4m
from tests.web.helpers import Client, serve

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "data" / "demo" / "demo.mp4"


@pytest.fixture
def server():
    with serve() as (url, app):
        yield url, app


@pytest.fixture
def client_factory():
    made: list[Client] = []

    def make(url: str, **kw: Any) -> Client:
        c = Client(url, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> dict:
    truth_path = DEMO.with_suffix(".json")
    assert DEMO.exists() and truth_path.exists(), f"the rendered demo is missing: {DEMO}"
    truth = json.loads(truth_path.read_text())
    fps = round(video_fps(DEMO))
    y4m = tmp_path_factory.mktemp("demo") / "demo.y4m"
    n = write_y4m(video_frames(DEMO), y4m, fps=fps)
    roll = [r["index"] for r in truth["reps"]
            if "roll_back" in (r.get("labels") or []) + (r.get("planned_mistakes") or [])]
    assert len(roll) == 1, "the demo should have exactly one rolled-back rep"
    return {"y4m": y4m, "duration": n / fps, "reps": truth["reps"], "roll_rep": roll[0]}
