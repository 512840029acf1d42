"""Regenerate the committed synthetic data sets, deterministically from seeds.

    python -m clamcoach.synth.make_sets --which demo      # data/demo/demo.mp4 + demo.json
    python -m clamcoach.synth.make_sets --which tuning    # data/tuning/*.mp4 + manifest.json
    python -m clamcoach.synth.make_sets --which eval      # data/eval/*.mp4 + manifest.json

``--jobs N`` renders N sets in parallel processes (default 2). The tuning and eval sets use
different bodies and seeds; tuning is for tuning the analyser only, eval for reporting.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import pathlib
import sys
import time

from .scene import VIEWS, CameraSpec

ROOT = pathlib.Path(__file__).resolve().parents[3]
DATA = ROOT / "data"

EVAL_RES = (480, 360)
EVAL_FPS = 15.0
EVAL_CRF = 28
#: The placements that can see the pelvis roll (docs/CAMERA.md).
RAISED = ("oblique", "overhead")


def demo_jobs():
    return [dict(
        name="demo", out=str(DATA / "demo" / "demo.mp4"),
        spec=dict(reps=5, mistakes={3: ["roll_back"], 5: ["lift_too_high"]}, side="left",
                  views=("oblique",), width=640, height=480, fps=15.0, seed=20251, crf=24,
                  tempo=(1.2, 1.5, 1.2, 0.7), forward_roll=11.0, hip_flex=45.0, knee_flex=55.0,
                  cameras={"oblique": CameraSpec("oblique", 2.5, 35.0, -8.0, 0.78)}),
    )]


# (name, seed, side, reps, mistakes, extra spec fields); "body" = (body seed, sex) for a fixed
# body shared by several sets, otherwise the set's seed draws the body.
TUNING = [
    ("t1", 1101, "left", 5, {2: ["roll_back"], 4: ["feet_apart"]}, {"small_reps": 1, "body": (31, "male")}),
    ("t2", 1102, "right", 5, {3: ["lift_too_high"], 5: ["roll_back"]}, {"body": (31, "male")}),
    ("t3", 1103, "left", 4, {1: ["feet_apart"], 3: ["roll_back"]}, {"small_reps": 1, "body": (32, "female")}),
    ("t4", 1104, "right", 5, {2: ["roll_back"]}, {"small_reps": 2, "body": (32, "female")}),
    ("t5", 1105, "left", 5, {4: ["lift_too_high"], 2: ["feet_apart"]}, {"forward_roll": -4.0, "body": (33, "female")}),
    ("t6", 1106, "right", 4, {3: ["roll_back", "feet_apart"]}, {"hand_on_hip": False, "body": (33, "female")}),
    # Small roll-backs around the method's warn level (10 deg), from the two raised
    # placements that can see the roll: the range the product stands or falls on.
    ("t7", 1107, "left", 6, {2: ["roll_back"], 4: ["roll_back"], 6: ["roll_back"]},
     {"roll_back_range": (7.0, 16.0), "views": RAISED, "body": (34, "male")}),
    ("t8", 1108, "right", 6, {1: ["roll_back"], 3: ["roll_back"], 5: ["roll_back"]},
     {"roll_back_range": (7.0, 16.0), "forward_roll": -2.0, "views": RAISED, "body": (35, "female")}),
    ("t9", 1109, "left", 5, {2: ["roll_back"], 5: ["roll_back"]},
     {"roll_back_range": (9.0, 15.0), "hand_on_hip": False, "views": RAISED, "body": (36, "female")}),
    ("t10", 1110, "right", 6, {2: ["roll_back"], 3: ["roll_back"], 6: ["roll_back"]},
     {"roll_back_range": (6.0, 14.0), "small_reps": 1, "views": RAISED, "body": (37, "male")}),
]
EVAL = [
    ("e1", 2201, "left", 5, {2: ["roll_back"]}, {"small_reps": 1, "body": (41, "female")}),
    ("e2", 2202, "right", 6, {3: ["lift_too_high"], 5: ["feet_apart"]}, {"small_reps": 1, "body": (42, "male")}),
    ("e3", 2203, "left", 5, {}, {"small_reps": 3, "body": (43, "male")}),
    ("e4", 2204, "right", 5, {1: ["roll_back"], 4: ["roll_back"], 3: ["feet_apart"]}, {"body": (44, "female")}),
    ("e5", 2205, "left", 4, {3: ["roll_back"]}, {"forward_roll": -3.0, "small_reps": 1, "body": (45, "male")}),
    ("e6", 2206, "right", 5, {2: ["lift_too_high"], 4: ["roll_back"]},
     {"hand_on_hip": False, "small_reps": 1, "body": (46, "female")}),
    ("e7", 2207, "left", 6, {1: ["roll_back"], 4: ["roll_back"]},
     {"roll_back_range": (10.0, 15.0), "views": RAISED, "body": (47, "male")}),
    ("e8", 2208, "right", 5, {2: ["roll_back"], 4: ["roll_back"]},
     {"roll_back_range": (10.0, 15.0), "forward_roll": -2.0, "views": RAISED, "body": (48, "female")}),
    ("e9", 2209, "left", 6, {3: ["roll_back"], 5: ["roll_back"]},
     {"roll_back_range": (6.0, 14.0), "hand_on_hip": False, "small_reps": 1, "views": RAISED,
      "body": (49, "female")}),
    ("e10", 2210, "right", 5, {1: ["roll_back"], 3: ["roll_back"], 5: ["roll_back"]},
     {"roll_back_range": (10.0, 15.0), "views": RAISED, "body": (50, "male")}),
]


def body_shape(seed: int, sex: str):
    import numpy as np

    from .body import Shape

    return Shape.sample(np.random.default_rng(seed), sex=sex)


def set_jobs(which: str):
    table = TUNING if which == "tuning" else EVAL
    jobs = []
    for name, seed, side, reps, mistakes, extra in table:
        spec = dict(reps=reps, mistakes=mistakes, side=side, views=VIEWS, width=EVAL_RES[0],
                    height=EVAL_RES[1], fps=EVAL_FPS, seed=seed, crf=EVAL_CRF)
        extra = dict(extra)
        if "body" in extra:
            spec["shape"] = body_shape(*extra.pop("body"))
        spec.update(extra)
        jobs.append(dict(name=name, out=str(DATA / which / f"{name}.mp4"), spec=spec))
    return jobs


def _run_job(job) -> dict:
    from .render import SetSpec, render_set

    t0 = time.time()
    docs, r = render_set(SetSpec(**job["spec"]), job["out"])
    clips = []
    for view, doc in docs.items():
        clips.append({
            "video": doc["video"], "ground_truth": doc["video"][:-4] + ".json", "set": job["name"],
            "view": view, "side": doc["setup"]["side_lying_on"], "seed": job["spec"]["seed"],
            "reps": len(doc["reps"]),
            "rep_labels": [x["labels"] for x in doc["reps"]],
            "setup_labels": doc["setup"]["labels"],
            "peak_openings_deg": [x["peak_opening_deg"] for x in doc["reps"]],
            "duration_s": doc["duration_s"],
            "resolution": doc["camera"]["resolution"], "fps": doc["camera"]["fps"],
            "camera": {k: doc["camera"][k] for k in ("distance_m", "height_m", "pitch_deg", "yaw_deg")},
            "body": {k: doc["body"][k] for k in ("gender", "age_years", "height_m", "mass_kg")},
        })
    print(f"{job['name']}: {time.time() - t0:.0f} s, {r.timing}", flush=True)
    return {"name": job["name"], "clips": clips, "seconds": time.time() - t0, "timing": r.timing}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m clamcoach.synth.make_sets", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--which", choices=("demo", "tuning", "eval"), required=True)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only", default=None, help="comma-separated set names to (re)render")
    a = p.parse_args(argv)
    jobs = demo_jobs() if a.which == "demo" else set_jobs(a.which)
    if a.only:
        keep = set(a.only.split(","))
        jobs = [j for j in jobs if j["name"] in keep]
    for j in jobs:
        pathlib.Path(j["out"]).parent.mkdir(parents=True, exist_ok=True)
    if a.jobs > 1 and len(jobs) > 1:
        with mp.get_context("spawn").Pool(min(a.jobs, len(jobs))) as pool:
            results = pool.map(_run_job, jobs, chunksize=1)
    else:
        results = [_run_job(j) for j in jobs]
    if a.which != "demo":
        man_path = DATA / a.which / "manifest.json"
        old = json.loads(man_path.read_text()) if man_path.exists() and a.only else {"clips": []}
        done = {r["name"] for r in results}
        clips = [c for c in old.get("clips", []) if c["set"] not in done]
        clips += [c for r in results for c in r["clips"]]
        clips.sort(key=lambda c: (int(c["set"][1:]), VIEWS.index(c["view"])))
        manifest = {
            "purpose": "tuning the analyser only" if a.which == "tuning" else
                       "evaluation only (never tune on these)",
            "generator": f"python -m clamcoach.synth.make_sets --which {a.which}",
            "ground_truth": "each clip's .json beside it; definitions inside each file "
                            "and in src/clamcoach/synth/README.md",
            "clips": clips,
        }
        man_path.write_text(json.dumps(manifest, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
