"""Score the engine on the TUNING set from cached poses (fast iterations while tuning).

Same scoring as bench_accuracy.py, but the pose model's landmarks are cached per clip, so a
change in the engine can be scored in seconds. Never point it at data/eval.

    .venv/bin/python benchmarks/tune_report.py [--data data/tuning] [-v]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_accuracy import clips, frame_truth, truth_reps  # noqa: E402
from posecache import pose_frames  # noqa: E402

from clamcoach.engine import Engine  # noqa: E402
from clamcoach.evaluation import SCORED_CODES, Counts, mean, score_clip  # noqa: E402
from clamcoach.protocol import load_protocol  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "tuning"))
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args(argv)
    if "eval" in Path(args.data).parts:
        print("refusing to tune on the evaluation set", file=sys.stderr)
        return 2
    per_view = defaultdict(list)
    for video in clips(Path(args.data)):
        gt = json.loads(video.with_suffix(".json").read_text())
        eng = Engine(load_protocol())
        for t, pose in pose_frames(video):
            eng.push(pose, t)
        a = eng.finish()
        report = a.to_dict({"path": str(video)})
        s = score_clip(report, truth_reps(gt), frame_truth(gt), a.frames)
        per_view[gt["camera"]["view"]].append(s)
        if args.v:
            found = " ".join(f"{r['index']}:{r['opening_deg']:.0f}/{(r['roll_back_deg'] or 0):.0f}:"
                             f"{','.join(f['code'] for f in r['findings'] if f['severity'] != 'info') or '-'}"
                             for r in report["reps"])
            want = " ".join(f"{r['index']}:{r['peak_opening_deg']:.0f}/{r['peak_roll_back_deg']:.0f}:"
                            f"{','.join(r['labels']) or '-'}" for r in gt["reps"])
            setup = report["setup"]
            print(f"{video.name:22s} saw {report['camera_view']:8s} reps {s.n_detected}/{s.n_truth} "
                  f"setup hip {setup['hip_flexion_deg']} knee {setup['knee_flexion_deg']} roll {setup['forward_roll_deg']} "
                  f"[{','.join(f['code'] for f in setup['findings'])}]\n   found {found}\n   truth {want}")
    for view, scores in per_view.items():
        codes = {c: Counts() for c in SCORED_CODES}
        for s in scores:
            for c, k in s.codes.items():
                codes[c].add(k)
        print(f"{view:9s} exact {sum(s.exact_count for s in scores)}/{len(scores)} "
              f"timing {mean([e for s in scores for e in s.timing_errors]):.2f}s "
              f"opening {mean([e for s in scores for e in s.opening_errors]):.1f} "
              f"roll {mean([e for s in scores for e in s.roll_back_errors]):.1f} "
              f"hip {mean([e for s in scores for e in s.hip_errors]):.1f} "
              f"knee {mean([e for s in scores for e in s.knee_errors]):.1f} "
              + " ".join(f"{c}:{k.f1:.2f}(tp{k.tp} fp{k.fp} fn{k.fn})" for c, k in codes.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
