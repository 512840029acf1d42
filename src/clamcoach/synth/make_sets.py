"""Regenerate the committed synthetic data sets, deterministically from seeds.

    python -m clamcoach.synth.make_sets --which demo      # data/demo/demo.mp4 + demo.json
    python -m clamcoach.synth.make_sets --which tuning    # data/tuning/*.mp4 + manifest.json
    python -m clamcoach.synth.make_sets --which eval      # data/eval/*.mp4 + manifest.json
    python -m clamcoach.synth.make_sets --which shifted   # data/shifted/*.mp4 + manifest.json

``--jobs N`` renders N sets in parallel processes (default 2); ``--only t11,t12`` renders some.
The tuning and eval sets use different bodies and seeds; tuning is for tuning the analyser
only, eval for reporting. Sets t1-t10 and e1-e10 were made from four named camera placements;
t11 on, e11 on and all of shifted are drawn from ranges (``TUNING_RANGES``, ``SHIFTED_RANGES``):
shifted lies outside tuning's ranges on purpose (yaw, elevation, lens, roll, fps, support,
bodies, clothes).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import pathlib
import sys
import time

from .options import Hand, Support
from .ranges import SetRanges, draw_set
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


#: Ranges the new tuning and eval sets are drawn from (eval: other bodies and seeds).
TUNING_RANGES = SetRanges()
#: Outside tuning's ranges: yaw 25-45, elevation 0-10 or 70-80 (with that yaw), lens 24-26 or
#: 45-50 mm, roll 3-5, 24 fps, a bed, older and heavier bodies, loose clothes, hand on the thigh,
#: a pillow between the knees.
SHIFTED_RANGES = SetRanges(
    fps=(24.0,), elevation=((0.0, 10.0), (70.0, 80.0)), yaw_abs=(25.0, 45.0), roll_abs=(3.0, 5.0),
    lens_35mm=((24.0, 26.0), (45.0, 50.0)), feet_end_chance=0.0, supports=(Support.BED,),
    hands=(Hand.THIGH,), pillow_chance=1.0, loose_chance=1.0, looseness_cm=(3.0, 4.0),
    age_years=(70.0, 85.0), weight=(0.8, 1.0),
)
RB_SMALL = (10.0, 15.0)  # roll-backs at the warn level
RB_LARGE = (15.0, 25.0)
SMALL = (5.0, 8.0)  # small reps of a weak person
SHORT_LEAD = (0.8, 1.1)  # the first rep starts about 1 s into the video
NO_LIFT = (0.8, 2.6)  # "no visible lift": the person holds the position and squeezes


def _pilot_cam(el: float, yaw: float, lens: float, roll: float = 0.0, fill: float = 0.8) -> CameraSpec:
    return CameraSpec("front", None, el, yaw, fill, roll, lens)


# Drawn sets: (name, seed, side, reps, mistakes, overrides). Overrides fix what the recipe needs
# (mistake ranges, lead-in, a pillow, ...); everything else is drawn from the family's ranges.
# t11-t13 are the pilot (hands on the mat / thigh, a pillow, 30 fps, elevation 10 and 60, yaw 30).
TUNING_DRAWN = [
    ("t11", 1111, "left", 5, {2: ["roll_back"], 4: ["lift_too_high"], 5: ["roll_back"]},
     {"hand": Hand.MAT, "fps": 30.0, "support": Support.TABLE, "knee_pillow_cm": 0.0, "looseness_cm": 0.0,
      "roll_back_range": RB_SMALL, "resolution": (480, 360),
      "cameras": {"front": _pilot_cam(10.0, 30.0, 28.0, 1.5), "oblique": _pilot_cam(60.0, -12.0, 35.0, -2.0)}}),
    ("t12", 1112, "right", 6, {3: ["roll_back"], 5: ["feet_apart"]},
     {"hand": Hand.THIGH, "fps": 15.0, "support": Support.FLOOR, "knee_pillow_cm": 11.0, "looseness_cm": 2.5,
      "roll_back_range": RB_LARGE, "small_reps": 1, "small_range": SMALL, "resolution": (480, 360),
      "cameras": {"oblique": _pilot_cam(60.0, 30.0, 30.0, -1.0), "front": _pilot_cam(10.0, -20.0, 40.0, 2.5)}}),
    ("t13", 1113, "left", 5, {1: ["roll_back"], 4: ["roll_back"]},
     {"hand": Hand.THIGH, "fps": 30.0, "support": Support.TABLE, "knee_pillow_cm": 9.0, "looseness_cm": 0.0,
      "roll_back_range": RB_SMALL, "small_reps": 2, "small_range": SMALL, "lead_in_range": SHORT_LEAD,
      "resolution": (480, 360),
      "cameras": {"front": _pilot_cam(10.0, -30.0, 32.0, -2.5), "oblique": _pilot_cam(60.0, 25.0, 42.0, 1.0)}}),
    ("t14", 1114, "right", 6, {2: ["roll_back"], 5: ["roll_back"]}, {"roll_back_range": RB_SMALL, "hand": Hand.MAT}),
    ("t15", 1115, "left", 5, {3: ["lift_too_high"], 4: ["feet_apart"]}, {"small_reps": 1, "small_range": SMALL}),
    ("t16", 1116, "right", 7, {}, {"small_reps": 3, "small_range": SMALL, "lead_in_range": SHORT_LEAD}),
    ("t17", 1117, "left", 6, {1: ["roll_back"], 3: ["roll_back"], 6: ["roll_back"]},
     {"roll_back_range": RB_LARGE, "hand": Hand.THIGH}),
    ("t18", 1118, "right", 5, {2: ["roll_back"], 4: ["roll_back"]}, {"roll_back_range": RB_SMALL, "knee_pillow_cm": 12.0}),
    ("t19", 1119, "left", 4, {}, {"opening_range": NO_LIFT, "n_cameras": 2}),
    ("t20", 1120, "right", 6, {1: ["feet_apart"], 4: ["lift_too_high"], 6: ["roll_back"]},
     {"roll_back_range": RB_SMALL, "lead_in_range": SHORT_LEAD}),
    ("t21", 1121, "left", 5, {}, {"small_reps": 1, "small_range": SMALL, "hand": Hand.HIP}),
    ("t22", 1122, "right", 6, {2: ["roll_back"], 3: ["feet_apart"], 5: ["roll_back"]},
     {"roll_back_range": RB_LARGE, "hand": Hand.MAT, "knee_pillow_cm": 10.0}),
    ("t23", 1123, "left", 7, {2: ["roll_back"], 4: ["roll_back"], 6: ["lift_too_high"]},
     {"roll_back_range": RB_SMALL, "small_reps": 1, "small_range": SMALL, "hand": Hand.THIGH}),
    ("t24", 1124, "right", 5, {1: ["roll_back"], 3: ["roll_back"]},
     {"roll_back_range": RB_SMALL, "lead_in_range": SHORT_LEAD, "hand": Hand.HIP}),
]
# e11-e13 are rendered at 1280x720 (two cameras each) for the degraded 480p copies.
HD = (1280, 720)
EVAL_DRAWN = [
    ("e11", 2211, "left", 5, {2: ["roll_back"], 4: ["roll_back"]},
     {"roll_back_range": RB_SMALL, "resolution": HD, "n_cameras": 2, "fps": 15.0}),
    ("e12", 2212, "right", 6, {3: ["lift_too_high"], 5: ["feet_apart"]},
     {"small_reps": 1, "small_range": SMALL, "resolution": HD, "n_cameras": 2, "fps": 15.0}),
    ("e13", 2213, "left", 5, {1: ["roll_back"], 5: ["roll_back"]},
     {"roll_back_range": RB_LARGE, "lead_in_range": SHORT_LEAD, "resolution": HD, "n_cameras": 2, "fps": 15.0}),
    ("e14", 2214, "right", 6, {2: ["roll_back"], 4: ["roll_back"], 6: ["roll_back"]},
     {"roll_back_range": RB_SMALL, "hand": Hand.MAT}),
    ("e15", 2215, "left", 5, {}, {"small_reps": 2, "small_range": SMALL, "hand": Hand.THIGH}),
    ("e16", 2216, "right", 4, {}, {"opening_range": NO_LIFT, "n_cameras": 2}),
    ("e17", 2217, "left", 6, {1: ["feet_apart"], 3: ["roll_back"], 5: ["lift_too_high"]},
     {"roll_back_range": RB_SMALL, "knee_pillow_cm": 12.0}),
    ("e18", 2218, "right", 5, {2: ["roll_back"], 4: ["roll_back"]},
     {"roll_back_range": RB_LARGE, "lead_in_range": SHORT_LEAD, "hand": Hand.THIGH}),
    ("e19", 2219, "left", 7, {3: ["roll_back"], 6: ["roll_back"]}, {"roll_back_range": RB_SMALL, "hand": Hand.MAT}),
    ("e20", 2220, "right", 5, {}, {"small_reps": 1, "small_range": SMALL}),
]
SHIFTED = [
    ("s1", 3301, "left", 5, {2: ["roll_back"], 4: ["roll_back"]}, {"roll_back_range": RB_SMALL}),
    ("s2", 3302, "right", 6, {3: ["lift_too_high"], 5: ["feet_apart"]}, {"small_reps": 1, "small_range": SMALL}),
    ("s3", 3303, "left", 5, {1: ["roll_back"], 3: ["roll_back"]},
     {"roll_back_range": RB_LARGE, "lead_in_range": SHORT_LEAD}),
    ("s4", 3304, "right", 6, {2: ["roll_back"], 5: ["roll_back"]}, {"roll_back_range": RB_SMALL}),
    ("s5", 3305, "left", 4, {}, {"opening_range": NO_LIFT, "n_cameras": 2}),
    ("s6", 3306, "right", 5, {}, {"small_reps": 2, "small_range": SMALL}),
    ("s7", 3307, "left", 6, {1: ["feet_apart"], 4: ["roll_back"], 6: ["lift_too_high"]}, {"roll_back_range": RB_SMALL}),
    ("s8", 3308, "right", 5, {2: ["roll_back"], 4: ["roll_back"]},
     {"roll_back_range": RB_LARGE, "lead_in_range": SHORT_LEAD}),
    ("s9", 3309, "left", 7, {2: ["roll_back"], 5: ["roll_back"]}, {"roll_back_range": RB_SMALL}),
    ("s10", 3310, "right", 5, {3: ["feet_apart"]}, {"small_reps": 1, "small_range": SMALL}),
]
FAMILIES = {"tuning": (TUNING, TUNING_DRAWN, TUNING_RANGES), "eval": (EVAL, EVAL_DRAWN, TUNING_RANGES),
            "shifted": ([], SHIFTED, SHIFTED_RANGES)}


def body_shape(seed: int, sex: str):
    import numpy as np

    from .body import Shape

    return Shape.sample(np.random.default_rng(seed), sex=sex)


def set_jobs(which: str):
    named, drawn, ranges = FAMILIES[which]
    jobs = []
    for name, seed, side, reps, mistakes, extra in named:
        spec = dict(reps=reps, mistakes=mistakes, side=side, views=VIEWS, width=EVAL_RES[0],
                    height=EVAL_RES[1], fps=EVAL_FPS, seed=seed, crf=EVAL_CRF)
        extra = dict(extra)
        if "body" in extra:
            spec["shape"] = body_shape(*extra.pop("body"))
        spec.update(extra)
        jobs.append(dict(name=name, out=str(DATA / which / f"{name}.mp4"), spec=spec, recipe="named views"))
    for name, seed, side, reps, mistakes, extra in drawn:
        d = draw_set(ranges, seed, extra)
        spec = dict(reps=reps, mistakes=mistakes, side=side, seed=seed, crf=EVAL_CRF, **d.spec)
        jobs.append(dict(name=name, out=str(DATA / which / f"{name}.mp4"), spec=spec, drawn=d.params,
                         recipe="SHIFTED_RANGES" if ranges is SHIFTED_RANGES else "TUNING_RANGES"))
    return jobs


def camera_params(cam: dict, side: str) -> dict:
    """Elevation, body-relative azimuth, roll and lens of a ground-truth camera block; for files
    written before those keys existed, derived from its pose and intrinsics (same definitions)."""
    import math

    from .camera import focal_35mm_from_px

    if "azimuth_deg" in cam:
        return {"elevation_deg": cam["elevation_deg"], "azimuth_deg": cam["azimuth_deg"], "roll_deg": cam["roll_deg"],
                "lens_35mm_mm": cam["focal_length_35mm_mm"], "hfov_deg": cam["hfov_deg"]}
    P = cam["pose_camera_to_world"]
    back = [P[0][2], P[1][2]]  # the camera's +z (from the target toward the camera), horizontal part
    sx = -1.0 if side == "right" else 1.0  # undo the mirror: azimuth is body-relative
    w, h = cam["resolution"]
    fx = cam["intrinsics"]["fx"]
    return {"elevation_deg": cam["pitch_deg"],
            "azimuth_deg": round(math.degrees(math.atan2(-sx * back[0], -back[1])), 2),
            # the first sets never rolled their overhead cameras (and over 70 deg "up" is not vertical)
            "roll_deg": 0.0 if cam["pitch_deg"] > 70 else round(math.degrees(math.atan2(P[2][0], P[2][1])), 2),
            "lens_35mm_mm": round(focal_35mm_from_px(fx, w, h), 2),
            "hfov_deg": round(2 * math.degrees(math.atan(0.5 * w / fx)), 3)}


def clip_entry(doc: dict, job: dict) -> dict:
    """A manifest entry for one rendered clip, from its ground truth (old files lack the newer keys)."""
    cam, setup, body = doc["camera"], doc["setup"], doc["body"]
    return {
        "video": doc["video"], "ground_truth": doc["video"][:-4] + ".json", "set": job["name"],
        "view": cam["view"], "side": setup["side_lying_on"], "seed": job["spec"]["seed"],
        "reps": len(doc["reps"]),
        "rep_labels": [x["labels"] for x in doc["reps"]],
        "setup_labels": setup["labels"],
        "set_labels": doc.get("set_labels", []),
        "attempts": len(doc.get("attempts", [])),
        "peak_openings_deg": [x["peak_opening_deg"] for x in doc["reps"]],
        "peak_roll_backs_deg": [x["peak_roll_back_deg"] for x in doc["reps"]],
        "duration_s": doc["duration_s"],
        "resolution": cam["resolution"], "fps": cam["fps"],
        "camera": {k: cam[k] for k in ("distance_m", "height_m", "pitch_deg", "yaw_deg")},
        "body": {k: body[k] for k in ("gender", "age_years", "height_m", "mass_kg")},
        "params": {
            "recipe": job.get("recipe", "named views"),
            **camera_params(cam, setup["side_lying_on"]),
            "support": setup.get("support", "table"),
            "hand": setup.get("hand", "hip" if setup["hand_on_hip"] else "mat_belly"),
            "knee_pillow_cm": setup.get("knee_pillow_cm", 0.0),
            "clothes_looseness_cm": body.get("clothes_looseness_cm", 0.0),
            "light_scale": doc["scene"].get("light_scale", 1.0),
            "lead_in_s": round(doc["plan"]["lead_in_s"], 2),
            "weight": body["weight"],
        },
    }


def _run_job(job) -> dict:
    from .render import SetSpec, render_set

    t0 = time.time()
    docs, r = render_set(SetSpec(**job["spec"]), job["out"])
    seconds = time.time() - t0
    clips = [clip_entry(doc, job) for doc in docs.values()]
    print(f"{job['name']}: {seconds:.0f} s, {r.timing}", flush=True)
    return {"name": job["name"], "clips": clips, "seconds": seconds, "timing": r.timing,
            "drawn": job.get("drawn")}


def _stored_clips(job) -> list[dict]:
    """Manifest entries rebuilt from the ground truth already on disk (no rendering)."""
    from .render import out_paths

    out = []
    for path in out_paths(job["out"], tuple(job["spec"]["views"])).values():
        gt = path.with_suffix(".json")
        if gt.exists():
            out.append(clip_entry(json.loads(gt.read_text()), job))
    return out


PURPOSE = {"tuning": "tuning the analyser only", "eval": "evaluation only (never tune on these)",
           "shifted": "evaluation only, on ranges outside tuning's (never tune on these)"}


def write_manifest(which: str, jobs: list[dict], results: list[dict]) -> pathlib.Path:
    """The family's manifest: every set on disk, the freshly rendered ones with their timing."""
    man_path = DATA / which / "manifest.json"
    old = json.loads(man_path.read_text()) if man_path.exists() else {}
    old_sets = {x["name"]: x for x in old.get("sets", [])}
    fresh = {r["name"]: r for r in results}
    clips, sets = [], []
    for job in jobs:
        r = fresh.get(job["name"])
        cs = r["clips"] if r else _stored_clips(job)
        if not cs:
            continue
        clips += cs
        entry = {"name": job["name"], "recipe": job.get("recipe", "named views"),
                 "clips": [c["video"] for c in cs], "drawn": job.get("drawn")}
        if r:
            entry["render_seconds"] = round(r["seconds"], 1)
            entry["render_timing"] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r["timing"].items()}
        elif job["name"] in old_sets:
            for k in ("render_seconds", "render_timing"):
                if k in old_sets[job["name"]]:
                    entry[k] = old_sets[job["name"]][k]
        sets.append(entry)
    manifest = {
        "purpose": PURPOSE[which],
        "generator": f"python -m clamcoach.synth.make_sets --which {which}",
        "ground_truth": "each clip's .json beside it; definitions inside each file "
                        "and in src/clamcoach/synth/README.md",
        "ranges": {"TUNING_RANGES": TUNING_RANGES.describe()} if which != "shifted"
        else {"SHIFTED_RANGES": SHIFTED_RANGES.describe()},
        "clips": clips,
        "sets": sets,
    }
    tmp = man_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, default=str))
    tmp.replace(man_path)
    return man_path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m clamcoach.synth.make_sets", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--which", choices=("demo", "tuning", "eval", "shifted"), required=True)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only", default=None, help="comma-separated set names to (re)render")
    p.add_argument("--manifest-only", action="store_true",
                   help="rebuild the manifest from the ground truth on disk, render nothing")
    a = p.parse_args(argv)
    all_jobs = demo_jobs() if a.which == "demo" else set_jobs(a.which)
    jobs = all_jobs
    if a.only:
        keep = set(a.only.split(","))
        unknown = keep - {j["name"] for j in all_jobs}
        if unknown:
            p.error(f"no such set in {a.which}: {', '.join(sorted(unknown))}")
        jobs = [j for j in all_jobs if j["name"] in keep]
    if a.manifest_only:
        jobs = []
    for j in jobs:
        pathlib.Path(j["out"]).parent.mkdir(parents=True, exist_ok=True)
    if a.jobs > 1 and len(jobs) > 1:
        with mp.get_context("spawn").Pool(min(a.jobs, len(jobs))) as pool:
            results = pool.map(_run_job, jobs, chunksize=1)
    else:
        results = [_run_job(j) for j in jobs]
    if a.which != "demo":
        write_manifest(a.which, all_jobs, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
