"""web/ is typed against the engine's and the workspace's classes, and keeps one copy of
what the core already has (the review of issue 10)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import clamcoach.web

WEB = Path(clamcoach.web.__file__).parent


def _modules() -> list[Path]:
    return sorted(WEB.rglob("*.py"))


def _bare_any(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Name) and node.id == "Any"


def test_no_parameter_return_or_field_of_web_is_typed_bare_any():
    # dict[str, Any] (JSON) and **kwargs: Any (template context) are fine; a bare Any where a
    # class exists hides a renamed attribute from the type checker.
    found = []
    for path in _modules():
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, *([a.vararg] if a.vararg else [])]:
                    if _bare_any(arg.annotation):
                        found.append(f"{path.relative_to(WEB)}:{arg.lineno} {node.name}({arg.arg})")
                if _bare_any(node.returns):
                    found.append(f"{path.relative_to(WEB)}:{node.lineno} {node.name} -> Any")
            elif isinstance(node, ast.AnnAssign) and _bare_any(node.annotation):
                found.append(f"{path.relative_to(WEB)}:{node.lineno} {ast.unparse(node.target)}")
    assert found == []


def test_the_live_set_source_is_defined_once():
    # Every saver of live sets (`serve --patient`, the workspace's bound page) names the source
    # through web.session.live_source.
    defining = [p.relative_to(WEB).as_posix() for p in _modules()
                if '"live session"' in p.read_text("utf-8")]
    assert defining == ["session.py"]


def test_serve_patient_saves_the_same_source_as_the_workspace(tmp_path, monkeypatch):
    pytest.importorskip("sqlalchemy")
    from clamcoach.protocol import load_protocol
    from clamcoach.storage import open_store
    from clamcoach.web.cli import _history_saver
    from clamcoach.web.frames import Frame
    from clamcoach.web.session import Session, live_source
    from tests.web.standin import StandInEstimator, jpeg, script

    monkeypatch.setenv("CLAMCOACH_DATABASE_URL", str(tmp_path / "history.sqlite"))
    proto = load_protocol(None, ["prescription.reps=2", "prescription.sets=1"])
    done = []
    saver = _history_saver("ann")

    def both(analysis):
        done.append(analysis)
        saver(analysis)

    session = Session("s-source", proto, StandInEstimator, on_set_done=both)
    try:
        for i, (t, pose) in enumerate(script(2)):
            frame = Frame(id=i, t_ms=t * 1000, epoch=0, jpeg=jpeg(pose), received=0.0)
            session.executor.submit(session.process, frame, "tab-source").result()
    finally:
        session.close()
    [analysis] = done
    source = live_source(analysis)
    times = analysis.frames.t
    assert source["name"] == "live session" and source["frames"] == analysis.n_frames > 1
    assert source["duration_s"] == pytest.approx(times[-1] - times[0], abs=1e-3)
    assert source["fps"] == pytest.approx((len(times) - 1) / (times[-1] - times[0]), abs=1e-3)
    with open_store() as store:
        [row] = store.history("ann")
        saved = store.session(row["id"])["report"]["source"]
    assert saved == source
