"""`clamcoach batch`: analyse a folder or manifest of videos as Ray tasks (see docs/BATCH.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clamcoach.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> None:
    from clamcoach.cli import add_analysis_options  # the main CLI imports this module lazily

    p = sub.add_parser(
        "batch", help="analyse many videos on all cores or a Ray cluster",
        description="Analyse every video of a folder or manifest (CSV or JSON lines: path, optional "
                    "patient and id) as Ray tasks. Resumable: a second run skips what is done.")
    p.add_argument("input", help="a folder (searched for videos) or a manifest (.csv, .jsonl)")
    p.add_argument("--out", required=True, metavar="DIR", help="where <id>.json, <id>.html and batch.json go")
    p.add_argument("--workers", type=int, metavar="N", help="CPUs of the local Ray (default: all cores)")
    p.add_argument("--address", metavar="ADDR", help="join this Ray cluster (e.g. 10.0.0.5:6379) instead of starting one")
    p.add_argument("--patient-map", metavar="FILE", help="CSV of id or path -> patient: save results to their history")
    p.add_argument("--report", action="store_true", help="also write <id>.html, the HTML report")
    p.add_argument("--force", action="store_true", help="analyse again videos whose result exists")
    add_analysis_options(p)
    p.add_argument("--quiet", action="store_true", help="print nothing but errors and the last line")
    p.add_argument("--no-progress", action="store_true", help="plain lines, no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clamcoach.batch.run import BatchOptions, run_batch

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    if args.workers is not None and args.address:
        raise UsageError("--workers sets the local Ray's size; a cluster (--address) has its own")
    opts = BatchOptions(
        source=Path(args.input), out_dir=Path(args.out), workers=args.workers, address=args.address,
        patient_map=Path(args.patient_map) if args.patient_map else None, report=args.report,
        force=args.force, protocol_file=Path(args.protocol) if args.protocol else None,
        overrides=tuple(args.set), backend=args.backend, max_side=args.max_side, quiet=args.quiet,
        progress_bar=False if args.no_progress else None)
    outcome = run_batch(opts)
    print(f"batch: {outcome.ok} ok, {outcome.failed} failed, {outcome.skipped} already done; "
          f"summary in {outcome.summary_path}", file=sys.stdout)
    return outcome.exit_code
