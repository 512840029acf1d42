"""`clamcoach analyze`: run the engine over a file and write what was asked for.

Outputs are written atomically (a temporary file in the same folder, then renamed), so an
error or interrupt never leaves a half-written JSON, CSV or report.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from clamcoach.errors import OutputError, UsageError
from clamcoach.io.atomic import write_text_atomic
from clamcoach.protocol import Protocol, load_protocol


def _protocol_for(args: argparse.Namespace) -> Protocol:
    if args.patient:
        from clamcoach.storage import prescribed_protocol

        return prescribed_protocol(args.protocol, args.set, args.patient)
    return load_protocol(args.protocol, args.set)


class ProgressBar:
    """A one-line progress bar on stderr (only where a person is watching)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        pct = min(100, int(100 * done / total))
        if pct != self._last:
            self._last = pct
            bar = "#" * (pct // 4)
            sys.stderr.write(f"\ranalysing [{bar:<25}] {pct:3d}%")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self._last >= 0:
            sys.stderr.write("\n")


def run_analyze(args: argparse.Namespace) -> int:
    from clamcoach.pipeline import analyze_video
    from clamcoach.prescription_check import check_prescription, report_fields
    from clamcoach.report.text import prescription_lines, summary_text

    proto = _protocol_for(args)
    _check_outputs(args)
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    show = not args.quiet and not args.no_progress and sys.stderr.isatty()
    bar = ProgressBar(show)
    annotate = None
    if args.annotated:
        from clamcoach.report.annotate import AnnotatedVideoWriter
        from clamcoach.io.video import open_video

        with open_video(args.video, max_side=args.max_side) as probe:
            info = probe.info
        annotate = AnnotatedVideoWriter(args.annotated, info.fps, info.width, info.height)
    try:
        result = analyze_video(args.video, proto, backend=args.backend, progress=bar,
                               on_frame=annotate, max_side=args.max_side, pose_workers=args.workers)
    finally:
        bar.close()
        if annotate is not None:
            annotate.close()
    report = result.report()
    # Saved first, so every output can say where the session went.
    saved = _save(args, proto, result, report) if args.patient else None
    if saved is None:
        check = check_prescription(proto, result.analysis)
        report.update(report_fields(check, None, None))
    else:
        check = saved.check
    if args.json:
        text = report_json(report)
        if args.json == "-":
            sys.stdout.write(text)
        else:
            write_text_atomic(args.json, text)
    if args.csv:
        from clamcoach.report.export import write_frames_csv

        write_frames_csv(args.csv, result.analysis.frames)
    if args.report or args.pdf:
        from clamcoach.report.html import write_report

        html_path = Path(args.report) if args.report else Path(args.pdf).with_suffix(".html")
        write_report(html_path, report, result.analysis.frames, result.analysis.snapshot)
        if args.pdf:
            from clamcoach.report.html import write_pdf

            write_pdf(html_path, args.pdf)
    if not args.quiet and args.json != "-":
        sys.stdout.write(summary_text(result.analysis, Path(args.video).name, result.info.duration_s))
        lines = prescription_lines(check, saved.prescription if saved else None, args.patient)
        if saved:
            lines.append(saved.where())
        sys.stdout.write("\n" + "\n".join(lines) + "\n")
    return 0


def _save(args: argparse.Namespace, proto: Protocol, result, report: dict):
    from clamcoach.storage import open_store
    from clamcoach.storage.sets import save_set

    with open_store() as store:
        return save_set(store, args.patient, proto, result.analysis, report,
                        result.analysis.frames, kind="analyze",
                        video_path=str(Path(args.video).resolve()) if args.keep_video else None)


def _check_outputs(args: argparse.Namespace) -> None:
    """Fail before the (long) analysis if an output folder does not exist."""
    for name in ("json", "csv", "report", "pdf", "annotated"):
        value = getattr(args, name, None)
        if value and value != "-" and not Path(value).resolve().parent.is_dir():
            raise OutputError(f"cannot write --{name} {value}: folder does not exist")


def report_json(report: dict) -> str:
    """The analysis report as the JSON text ``--json`` writes (``batch`` writes the same)."""
    return json.dumps(_finite(report), indent=2) + "\n"


def _finite(obj):
    """JSON has no NaN: replace non-finite floats with null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
