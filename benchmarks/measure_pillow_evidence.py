"""Does a rep's motion tell a pillow between the knees from none? (tuning set only)

From a raised camera the setup cannot see how high the top knee rests, so an undeclared pillow
reads openings 1.3-1.9x too high from above (the knee starts further round its circle, and its
point moves further per degree than the no-pillow model says). One way out would be to fit both
setups and keep the one whose per-frame fits explain the first reps better. This prints, per
clip from a camera raised 35 deg or more, the mean per-frame robust cost of the fit with the
pillow's prior minus the fit without it, at rest and over the first two reps: a consistent
sign on the pillow clips and the other sign on the rest would mean the motion tells them apart.

    .venv/bin/python benchmarks/measure_pillow_evidence.py [--data data/tuning]

Measured at f8b203f on the 31 tuning clips from 35 deg up (5 with a pillow): every difference
but one within +-0.5 per frame, of either sign on the pillow clips as on the others (the most
negative, -1.7, is a clip without one): the four degrees of freedom absorb the other circle,
and the motion does not tell them apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_accuracy import clips, elevation  # noqa: E402
from posecache import pose_frames  # noqa: E402

from clamcoach.engine import Engine  # noqa: E402
from clamcoach.measure.stage import StageState  # noqa: E402
from clamcoach.protocol import load_protocol  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MIN_ELEVATION_DEG = 35.0  # where a declared pillow sets the rest knee (MeasureParams)


def frame_costs(video: Path, overrides: tuple[str, ...]) -> dict[float, float]:
    """Each tracked frame's fit cost, by time."""
    eng = Engine(load_protocol(overrides=overrides))
    out: dict[float, float] = {}
    last = None
    for t, pose in pose_frames(video):
        eng.push(pose, t)
        est = eng.measure.last_estimate
        if eng.measure.state is StageState.TRACKING and est is not None and est is not last:
            out[round(t, 3)] = est.cost
            last = est
    return out


def mean_difference(without: dict[float, float], with_pillow: dict[float, float], lo: float, hi: float) -> str:
    ts = [t for t in without if t in with_pillow and lo <= t <= hi]
    if not ts:
        return "n/a"
    return f"{sum(with_pillow[t] - without[t] for t in ts) / len(ts):+.2f} (n={len(ts)})"


def clip_row(video: str) -> str:
    path = Path(video)
    gt = json.loads(path.with_suffix(".json").read_text())
    without = frame_costs(path, ())
    with_pillow = frame_costs(path, ("setup.knee_pillow=true",))
    reps = gt["reps"]
    first = reps[0]["start_s"] if reps else float("inf")
    cells = [mean_difference(without, with_pillow, -1.0, first)]
    cells += [mean_difference(without, with_pillow, r["start_s"], r["end_s"]) for r in reps[:2]]
    cells += ["no rep"] * (3 - len(cells))
    pillow = gt["setup"].get("knee_pillow_cm") or 0.0
    return f"| {path.name} | {elevation(gt):.0f} | {pillow:.1f} | " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "tuning"))
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if "tuning" not in Path(args.data).parts:
        print("measured on the tuning set only (a design is chosen on it)", file=sys.stderr)
        return 2
    videos = [str(v) for v in clips(Path(args.data))
              if elevation(json.loads(v.with_suffix(".json").read_text())) >= MIN_ELEVATION_DEG]
    print("| clip | elevation | pillow cm | cost with pillow prior minus without: rest | rep 1 | rep 2 |")
    print("|---|---|---|---|---|---|")
    with ProcessPoolExecutor(args.jobs) as ex:
        for line in ex.map(clip_row, videos):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
