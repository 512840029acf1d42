"""Every Python example in docs/ and the README runs (the names the text takes as given are
provided here: a protocol, a frame, the demo clip, its report and analysis)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def examples() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for i, code in enumerate(_BLOCK.findall(doc.read_text(encoding="utf-8"))):
            found.append((f"{doc.name}#{i + 1}", code))
    return found


def test_the_docs_have_python_examples() -> None:
    names = [name for name, _ in examples()]
    assert "ENGINE_API.md#1" in names and "HISTORY.md#1" in names


@pytest.fixture(scope="module")
def given(demo_clip):
    """What the examples' text takes as given."""
    from clamcoach.pipeline import analyze_video
    from clamcoach.protocol import load_protocol

    result = analyze_video(demo_clip, load_protocol())
    rgb = np.full((480, 640, 3), 90, np.uint8)
    return {"path": demo_clip, "protocol": load_protocol(), "report": result.report(),
            "analysis": result.analysis, "rgb_uint8_hxwx3": rgb, "t_seconds": 0.0}


@pytest.mark.slow
@pytest.mark.parametrize("name, code", examples(), ids=[n for n, _ in examples()])
def test_example_runs(name, code, given, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAMCOACH_DATABASE_URL", f"sqlite:///{tmp_path / 'history.sqlite'}")
    monkeypatch.chdir(tmp_path)
    namespace = dict(given)
    exec(compile(code, name, "exec"), namespace)  # noqa: S102 - the docs' own examples
    if name.startswith("ENGINE_API"):
        assert namespace["report"]["schema"] == "clamcoach.analysis/1"
        assert namespace["info"].frames > 0


# --- the safety note: README, the report, the live page ------------------------------------


def test_readme_starts_with_users_and_says_stop_if_it_hurts() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Stop if the exercise hurts" in text and "not a diagnosis" in text
    assert text.index("## Install") < text.index("## Use") < text.index("## Development")
    for page in ("docs/LIVE.md", "docs/HISTORY.md", "docs/CAMERA.md"):
        assert f"]({page})" in text
    for command in ("analyze", "serve", "prescribe", "history", "export", "patients"):
        assert f"clamcoach {command}" in text


def test_report_and_live_page_carry_the_safety_note() -> None:
    from clamcoach.report.html import render_report
    from tests.report.samples import make_report

    html = render_report(make_report(), [])
    assert "Stop if the exercise hurts" in html and "not a diagnosis" in html
    from starlette.testclient import TestClient

    from clamcoach.protocol import load_protocol
    from clamcoach.web.app import WebConfig, create_app

    with TestClient(create_app(WebConfig(protocol=load_protocol())), base_url="http://127.0.0.1") as client:
        page = client.get("/").text
    assert page.count('class="safety"') == 1 and "Stop if it hurts" in page
