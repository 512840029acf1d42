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


def test_web_rounds_numbers_only_through_jsonio():
    # One rounding, NaN-to-None helper (clamcoach.jsonio.rounded): no function of web/ checks
    # finiteness and rounds on its own.
    own = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                calls = {ast.unparse(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
                if "round" in calls and calls & {"math.isfinite", "isfinite", "np.isfinite", "math.isnan"}:
                    own.append(f"{path.relative_to(WEB)}:{node.lineno} {node.name}")
    assert own == []


def test_the_page_gets_each_measure_to_its_decimals_and_nan_as_null():
    import math

    from clamcoach.types import Finding, Rep, Severity
    from clamcoach.web.messages import Ping, parse_text, rep_dict

    roll = Finding("roll_back", Severity.ERROR, 12.345, 10.0, "m", "c")
    rep = Rep(index=2, start_s=1.0, peak_s=2.0, end_s=3.0, opening_deg=31.26, knee_lift_cm=9.0,
              roll_back_deg=12.345, trunk_roll_back_deg=1.0, ankle_gap_cm=1.0, ankle_gap_limit_cm=4.0,
              up_s=1.2345, hold_s=2.005, down_s=math.nan, roll_back_sustained_s=0.5, roll_judged=True,
              opening_sd_deg=math.inf, findings=(roll,))
    out = rep_dict(rep, 1)
    assert (out["opening_deg"], out["opening_sd_deg"], out["roll_back_deg"]) == (31.3, None, 12.3)
    assert out["roll_back_sd_deg"] is None  # NaN default
    assert (out["up_s"], out["hold_s"], out["down_s"]) == (1.23, round(2.005, 2), None)
    assert out["findings"][0]["value"] == 12.3 and out["clean"] is False
    assert parse_text('{"type": "ping", "t": 1.23456}') == Ping(1.235)
    assert parse_text('{"type": "ping"}') == Ping(None)
