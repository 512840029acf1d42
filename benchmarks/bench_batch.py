"""Batch speed on this machine (``make bench-batch``), in one run:

1. ``clamcoach batch`` over 12 clips of data/eval with 1 and with 2 workers (each a fresh
   local Ray): videos per minute, the speed-up (target >= 1.7 on 2 cores), each worker's
   peak memory after its first and its last video (flat: the model is loaded once per
   worker), and the fixed cost of starting Ray;
2. one long video on all cores (pose/segments.py): a 5-minute clip (the demo looped) on one
   core and on two, from bench_speed.segments_speedup.

    python benchmarks/bench_batch.py [--clips 12] [--no-segments]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_speed import print_rows, segments_speedup  # noqa: E402  (a sibling script)

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "data" / "eval"
DEMO = ROOT / "data" / "demo" / "demo.mp4"


def run_batch(clips: list[Path], out: Path, workers: int) -> tuple[dict, float]:
    manifest = out.parent / f"manifest-{workers}.csv"
    manifest.write_text("path\n" + "".join(f"{c}\n" for c in clips))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "clamcoach.cli", "batch", str(manifest), "--out", str(out),
                           "--workers", str(workers), "--no-progress", "--quiet"],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"batch with {workers} workers failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads((out / "batch.json").read_text()), wall


def memory_by_worker(summary: dict) -> list[str]:
    """Per worker process: peak memory after its first and its last video, in finishing order."""
    peaks: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for video in sorted(summary["videos"], key=lambda v: v["finished_at"]):
        peaks[video["worker_pid"]].append((video["id"], video["worker_peak_mb"]))
    return [f"pid {pid}: {len(p)} videos, {p[0][1]:.0f} -> {p[-1][1]:.0f} MB" for pid, p in peaks.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=12, help="how many clips of data/eval")
    parser.add_argument("--no-segments", action="store_true", help="skip the 5-minute clip on 1 and 2 cores")
    args = parser.parse_args()
    clips = sorted(EVAL.glob("*.mp4"))[: args.clips]
    frames = 0
    from clamcoach.io import open_video

    for clip in clips:
        frames += open_video(clip).info.frames
    print(f"{len(clips)} clips of data/eval, {frames} frames; cpus {os.cpu_count()}; load {os.getloadavg()[0]:.2f}")
    rows: list[tuple[str, str, str]] = []
    rates = {}
    with tempfile.TemporaryDirectory(prefix="clamcoach-bench-batch-") as tmp:
        for workers in (1, 2):
            summary, wall = run_batch(clips, Path(tmp) / f"out-{workers}", workers)
            ray = summary["ray"]
            assert summary["counts"]["ok"] == len(clips), summary["counts"]
            rates[workers] = len(clips) / ray["analysis_s"] * 60
            rows.append((f"{workers} worker(s): videos per minute", f"{rates[workers]:7.2f}",
                         f"{ray['analysis_s']:.1f} s for {len(clips)} videos ({frames / ray['analysis_s']:.1f} fps)"))
            rows.append((f"{workers} worker(s): Ray start", f"{ray['start_s']:7.2f} s",
                         f"whole command {wall:.1f} s (process start, Ray start and stop included)"))
            for line in memory_by_worker(summary):
                rows.append((f"{workers} worker(s): peak memory", "", line))
        speedup = rates[2] / rates[1]
        rows.append(("speed-up, 2 workers / 1", f"{speedup:7.2f}", "target >= 1.70 " + ("(ok)" if speedup >= 1.7 else "(MISSED)")))
        per_thousand_h = 1000 / rates[2] / 60
        rows.append(("1,000 videos on this machine", f"{per_thousand_h:7.2f} h", "at the 2-worker rate"))
        if not args.no_segments:
            print("5-minute clip on 1 and 2 cores ...", flush=True)
            rows += segments_speedup(DEMO, Path(tmp))
    print_rows(rows)
    print(f"\nload after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
