"""Accuracy per camera view on the EVALUATION set (never used for tuning).

Runs the analysis behind `clamcoach analyze` (real decoder, real pose model, the engine) on
every clip of data/eval, scores it against the clip's ground truth, prints a table per camera
view, and writes docs/ACCURACY.md.

    .venv/bin/python benchmarks/bench_accuracy.py [--data data/eval] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from clamcoach.evaluation import SCORED_CODES, ClipScore, Counts, TruthRep, mean, score_clip  # noqa: E402

VIEWS = ("oblique", "overhead", "front", "feet")
TARGETS = {"count": 0.95, "f1": 0.9, "opening": 5.0, "roll": 4.0, "flex": 6.0}


def truth_reps(gt: dict, roll_warn: float = 10.0) -> list[TruthRep]:
    out = []
    for r in gt["reps"]:
        out.append(TruthRep(
            start_s=r["start_s"], peak_s=r["peak_s"], end_s=r["end_s"],
            opening_deg=r["peak_opening_deg"], roll_back_deg=r["peak_roll_back_deg"],
            labels=frozenset(r["labels"]),
        ))
    return out


def frame_truth(gt: dict) -> list[dict]:
    """Per-frame truth, hip and knee flexion as the mean of both legs (as measured)."""
    out = []
    for f in gt["frames"]:
        out.append({
            "t": f["t"],
            "hip_flexion_deg": (f["hip_flexion_deg"] + f.get("bottom_hip_flexion_deg", f["hip_flexion_deg"])) / 2,
            "knee_flexion_deg": (f["knee_flexion_deg"] + f.get("bottom_knee_flexion_deg", f["knee_flexion_deg"])) / 2,
        })
    return out


def analyse_clip(video: str) -> dict:
    from clamcoach.errors import ClamcoachError
    from clamcoach.pipeline import analyze_video
    from clamcoach.protocol import load_protocol

    path = Path(video)
    gt = json.loads(path.with_suffix(".json").read_text())
    t0 = time.perf_counter()
    try:
        result = analyze_video(path, load_protocol())
    except ClamcoachError as exc:
        return {"video": path.name, "view": gt["camera"]["view"], "error": str(exc)}
    report = result.report()
    frames = [{k: row[k] for k in ("t", "hip_flexion_deg", "knee_flexion_deg")} for row in result.analysis.frames]
    return {"video": path.name, "view": gt["camera"]["view"], "report": report, "frames": frames,
            "seconds": time.perf_counter() - t0}


def clips(data: Path) -> list[Path]:
    manifest = data / "manifest.json"
    if manifest.exists():
        items = json.loads(manifest.read_text())
        items = items.get("clips", items) if isinstance(items, dict) else items
        return [data / (c["video"] if isinstance(c, dict) else c) for c in items]
    return sorted(v for v in data.glob("*.mp4") if v.with_suffix(".json").exists())


def fmt(x: float, digits: int = 1, pct: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{100 * x:.0f}%" if pct else f"{x:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "eval"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "docs" / "ACCURACY.md"))
    args = ap.parse_args(argv)
    videos = clips(Path(args.data))
    if not videos:
        print(f"no clips in {args.data}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(analyse_clip, [str(v) for v in videos]))
    elapsed = time.perf_counter() - t0

    per_view: dict[str, list[ClipScore]] = defaultdict(list)
    view_hits: dict[str, list[bool]] = defaultdict(list)
    roll_outcomes: dict[str, list[tuple[float, bool, bool]]] = defaultdict(list)  # deg, found, hand off
    errors = []
    for res, video in zip(results, videos):
        if "error" in res:
            errors.append(f"{res['video']}: {res['error']}")
            continue
        gt = json.loads(video.with_suffix(".json").read_text())
        s = score_clip(res["report"], truth_reps(gt), frame_truth(gt), res["frames"])
        per_view[res["view"]].append(s)
        view_hits[res["view"]].append(res["report"]["camera_view"] == res["view"])
        hand_off = "hand_off_hip" in gt["setup"]["labels"]
        roll_outcomes[res["view"]] += [(deg, found, hand_off) for deg, found in s.roll_back_outcomes]
        codes = " ".join(f"{r['index']}:{','.join(f['code'] for f in r['findings']) or '-'}" for r in res["report"]["reps"])
        truth_codes = " ".join(f"{i + 1}:{','.join(sorted(r['labels'])) or '-'}" for i, r in enumerate(gt["reps"]))
        print(f"{res['video']:38s} {res['view']:8s} saw {res['report']['camera_view']:8s} "
              f"reps {s.n_detected}/{s.n_truth}  found [{codes}]  truth [{truth_codes}]", file=sys.stderr)

    rows = []
    for view in VIEWS + tuple(v for v in per_view if v not in VIEWS):
        scores = per_view.get(view)
        if not scores:
            continue
        codes: dict[str, Counts] = {c: Counts() for c in SCORED_CODES}
        for s in scores:
            for c, k in s.codes.items():
                codes[c].add(k)
        judged = all(s.roll_judged for s in scores)
        rows.append({
            "view": view, "sets": len(scores),
            "view_ok": sum(view_hits[view]) / len(view_hits[view]),
            "exact": sum(s.exact_count for s in scores) / len(scores),
            "timing": mean([e for s in scores for e in s.timing_errors]),
            "opening": mean([e for s in scores for e in s.opening_errors]),
            "roll": mean([e for s in scores for e in s.roll_back_errors]) if judged else math.nan,
            "roll_judged": judged,
            "hip": mean([e for s in scores for e in s.hip_errors]),
            "knee": mean([e for s in scores for e in s.knee_errors]),
            "codes": {c: (k.precision, k.recall, k.f1, k.tp + k.fn) for c, k in codes.items()},
            "roll_bands": roll_bands(roll_outcomes[view]),
        })
    table = render(rows, len(videos), elapsed, errors)
    print(table)
    Path(args.out).write_text(table)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


#: The roll-back table's columns: (heading, test on (true deg, hand off the hip)).
ROLL_BANDS = (
    ("10-15 deg, hand on hip", lambda deg, off: not off and deg < 15.0),
    ("15 deg or more, hand on hip", lambda deg, off: not off and deg >= 15.0),
    ("hand off hip (any size)", lambda deg, off: off),
)


def roll_bands(outcomes: list[tuple[float, bool, bool]]) -> list[tuple[int, int]]:
    """Per band of ``ROLL_BANDS``: (roll-back reps flagged, roll-back reps in the truth)."""
    return [(sum(found for deg, found, off in outcomes if test(deg, off)),
             sum(1 for deg, _, off in outcomes if test(deg, off))) for _, test in ROLL_BANDS]


def render(rows: list[dict], n: int, elapsed: float, errors: list[str]) -> str:
    lines = [
        "# Accuracy by camera view",
        "",
        f"Measured by `make bench-accuracy` on the evaluation set (`data/eval`, {n} rendered clips "
        "whose every angle is known; nothing was tuned on it). Each clip runs through the same "
        "analysis as `clamcoach analyze` (real decoder, BlazePose full, the engine). "
        f"Run time {elapsed:.0f} s on this machine.",
        "",
        "| view | sets | view recognised | exact rep count | rep timing error (s) | opening MAE (deg) "
        "| roll-back MAE (deg) | hip flexion MAE (deg) | knee flexion MAE (deg) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        roll = fmt(r["roll"]) if r["roll_judged"] else "not judged (said so)"
        lines.append(f"| {r['view']} | {r['sets']} | {fmt(r['view_ok'], pct=True)} | {fmt(r['exact'], pct=True)} "
                     f"| {fmt(r['timing'], 2)} | {fmt(r['opening'])} | {roll} | {fmt(r['hip'])} | {fmt(r['knee'])} |")
    lines += ["", "Findings per rep: precision / recall / F1 (reps with that label in the truth).", "",
              "| view | " + " | ".join(SCORED_CODES) + " |", "|---|" + "---|" * len(SCORED_CODES)]
    for r in rows:
        cells = []
        for c in SCORED_CODES:
            p, rc, f1, support = r["codes"][c]
            if c == "roll_back" and not r["roll_judged"]:
                cells.append("not judged (said so)")
            else:
                cells.append(f"{fmt(p, 2)} / {fmt(rc, 2)} / {fmt(f1, 2)} (n={support})")
        lines.append(f"| {r['view']} | " + " | ".join(cells) + " |")
    judged = [r for r in rows if r["roll_judged"]]
    if judged:
        lines += ["", "Roll-back reps flagged (recall), by how far the pelvis truly rolled back and by the "
                  "setup (the method's warn level is 10 deg; with the hand off the hip the report says its "
                  "roll-back check cannot be trusted):", "",
                  "| view | " + " | ".join(h for h, _ in ROLL_BANDS) + " |", "|---|" + "---|" * len(ROLL_BANDS)]
        for r in judged:
            lines.append(f"| {r['view']} | " + " | ".join(f"{k} of {m}" for k, m in r["roll_bands"]) + " |")
        best = max(judged, key=lambda r: (r["exact"], r["codes"]["roll_back"][2] or 0.0))
        lines += ["", f"**Recommended placement: {best['view']}** (the view that judges the roll-back and "
                  f"counts reps best here: exact count {fmt(best['exact'], pct=True)}, roll-back F1 "
                  f"{fmt(best['codes']['roll_back'][2], 2)}). Views whose roll-back says \"not judged\" "
                  "make clamcoach tell the user it cannot judge the roll-back from there and where "
                  "to move the camera (docs/CAMERA.md)."]
    lines += ["", "Targets (issue 3): exact rep count >= 95% of sets; F1 >= 0.9 for roll_back, "
              "lift_too_high, feet_apart; opening MAE <= 5 deg; roll-back MAE <= 4 deg; hip and knee "
              "flexion MAE <= 6 deg at the recommended placements. Where a view cannot see the "
              "roll-back, the analyser says so in its report instead of guessing.", ""]
    if errors:
        lines += ["Clips that failed:", ""] + [f"- {e}" for e in errors] + [""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
