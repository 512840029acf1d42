"""The set recipes in make_sets: names, reps and mistakes as the issue asks, shifted outside
tuning's ranges, and the committed manifests describing the files beside them (no rendering)."""

from __future__ import annotations

import json
import pathlib

import pytest

from clamcoach.synth import make_sets
from clamcoach.synth.options import Support

FAMILIES = ("tuning", "eval", "shifted")


@pytest.fixture(scope="module")
def jobs():
    return {w: make_sets.set_jobs(w) for w in FAMILIES}


def test_names_and_seeds_are_unique(jobs):
    names = [j["name"] for w in FAMILIES for j in jobs[w]]
    seeds = [j["spec"]["seed"] for w in FAMILIES for j in jobs[w]]
    assert len(names) == len(set(names)) and len(seeds) == len(set(seeds))
    assert len(jobs["tuning"]) == 24 and len(jobs["eval"]) == 20 and len(jobs["shifted"]) == 10


def test_drawn_sets_follow_the_issue(jobs):
    for w in FAMILIES:
        for j in jobs[w]:
            if "drawn" not in j:
                continue
            s = j["spec"]
            assert 4 <= s["reps"] <= 7 and all(1 <= n <= s["reps"] for n in s["mistakes"])
            assert 2 <= len(s["cameras"]) <= 3


def test_shifted_sets_lie_outside_tuning(jobs):
    for j in jobs["shifted"]:
        s = j["spec"]
        assert s["fps"] == 24.0 and s["support"] is Support.BED and s["knee_pillow_cm"] >= 8
        assert s["looseness_cm"] >= 3.0 and s["shape"].age_years >= 70 and s["shape"].weight >= 0.8
        for c in s["cameras"].values():
            assert 25 <= abs(c.yaw) <= 45 and 3 <= abs(c.roll) <= 5
            assert c.pitch <= 10 or c.pitch >= 70
            assert c.focal35 <= 26 or c.focal35 >= 45
    for j in jobs["tuning"][13:]:  # t14 on: drawn, no fixed pilot cameras
        for c in j["spec"]["cameras"].values():
            assert abs(c.yaw) <= 25 and abs(c.roll) <= 3 and 26 <= c.focal35 <= 45 and c.pitch <= 70


@pytest.mark.parametrize("which", FAMILIES)
def test_committed_manifest_describes_its_files(which, jobs):
    folder = make_sets.DATA / which
    man_path = folder / "manifest.json"
    if not man_path.exists():
        pytest.fail(f"{man_path} is committed and missing from this checkout")
    man = json.loads(man_path.read_text())
    on_disk = {p.name for p in folder.glob("*.mp4")}
    assert {c["video"] for c in man["clips"]} == on_disk
    names = {j["name"] for j in jobs[which]}
    assert {s["name"] for s in man["sets"]} <= names
    for c in man["clips"][::7]:
        gt = json.loads((folder / c["ground_truth"]).read_text())
        assert gt["video"] == c["video"] and gt["camera"]["view"] == c["view"]
        assert len(gt["reps"]) == c["reps"] and pathlib.Path(c["video"]).stem.startswith(c["set"] + "_")
