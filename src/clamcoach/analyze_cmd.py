"""`clamcoach analyze`: run the engine over a file and write what was asked for.

Every output is checked before the analysis starts (exit 9 at once for a missing folder or an
unwritable file) and written atomically (a temporary file in the same folder, then renamed),
so an error, "nobody in view", Ctrl-C or SIGTERM never leaves a half-written JSON, CSV, report,
PDF or annotated video under its final name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from clamcoach.errors import OutputError, UsageError
from clamcoach.io.atomic import check_writable, write_text_atomic
from clamcoach.jsonio import report_json
from clamcoach.protocol import Protocol, load_protocol

if TYPE_CHECKING:
    from clamcoach.io.video import VideoInfo
    from clamcoach.pose import PoseEstimator


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
    outputs = _check_outputs(args)  # first: a bad path fails in well under a second
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    if args.pdf:
        from clamcoach.report.browser import find_chromium

        find_chromium()
    proto = _protocol_for(args)
    from clamcoach.io.video import check_long_enough, open_video, played_duration_s
    from clamcoach.pipeline import detect_quarter_turns
    from clamcoach.pose import open_estimator
    from clamcoach.pose.segments import available_cores, pose_threads

    reader = open_video(args.video, max_side=args.max_side)
    check_long_enough(played_duration_s(reader.info))
    cores = available_cores() if args.workers is None else args.workers
    # The probe for a sideways recording and the analysis share one model (opened once). The
    # annotated video's size depends on the turn, so it is probed first; else the analysis' own
    # first frames tell (pipeline.analyze_video).
    with open_estimator(args.backend, threads=pose_threads(cores)) as shared:
        try:
            quarter_turns = (detect_quarter_turns(reader, proto, args.backend, estimator=shared)
                             if args.annotated else None)
        finally:
            reader.close()
        return _analyze_and_write(args, outputs, proto, reader.info, quarter_turns, shared)


def _analyze_and_write(args: argparse.Namespace, outputs: dict[str, Path], proto: Protocol, info: "VideoInfo",
                       quarter_turns: int | None, shared: "PoseEstimator") -> int:
    """The analysis proper, with the estimator the probe used, then every output asked for."""
    from clamcoach.pipeline import analyze_video
    from clamcoach.prescription_check import check_prescription, report_fields
    from clamcoach.report.text import prescription_lines, summary_text

    show = not args.quiet and not args.no_progress and sys.stderr.isatty()
    bar = ProgressBar(show)
    annotate = None
    if args.annotated:
        from clamcoach.report.annotate import AnnotatedVideoWriter
        from clamcoach.sideways import turned_info

        info = turned_info(info, quarter_turns or 0)
        annotate = AnnotatedVideoWriter(args.annotated, info.fps, info.width, info.height)
    try:
        result = analyze_video(args.video, proto, backend=args.backend, progress=bar,
                               on_frame=annotate, max_side=args.max_side, pose_workers=args.workers,
                               quarter_turns=quarter_turns, reuse=shared)
    except BaseException:
        # An error, nobody in view, Ctrl-C or SIGTERM: the partial video is thrown away.
        if annotate is not None:
            annotate.abort()
        raise
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

        html_path = outputs.get("report") or outputs["pdf"].with_suffix(".html")
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
    """Save to the history with the prescription check; if the database cannot be reached,
    keep the session in the local outbox (saved, exactly once, by the next run or
    `clamcoach history --sync`). Returns the saved set, or None when it was kept."""
    from clamcoach.storage.outbox import save_or_keep
    from clamcoach.storage.sets import save_set

    video = str(Path(args.video).resolve()) if args.keep_video else None
    got: dict = {}

    def save(store, when) -> int:
        got["saved"] = save_set(store, args.patient, proto, result.analysis, report, result.analysis.frames,
                                kind="analyze", video_path=video, recorded_at=when)
        return got["saved"].session_id

    outcome = save_or_keep(args.patient, report, result.analysis.frames, kind="analyze", video_path=video,
                           save=save)
    for line in outcome.messages():
        print(f"clamcoach: {line}", file=sys.stderr)
    return got.get("saved")


_OUTPUT_OPTIONS = ("json", "csv", "report", "pdf", "annotated")


def _check_outputs(args: argparse.Namespace) -> dict[str, Path]:
    """Fail before the (long) analysis if an output could not be written; return the paths."""
    outputs: dict[str, Path] = {}
    for name in _OUTPUT_OPTIONS:
        value = getattr(args, name, None)
        if not value or (name == "json" and value == "-"):
            continue
        path = Path(value)
        try:
            check_writable(path)
        except OutputError as err:
            raise OutputError(f"--{name}: {err}") from None
        outputs[name] = path
    if args.pdf and not args.report:
        html = outputs["pdf"].with_suffix(".html")
        check_writable(html)
    seen: dict[Path, str] = {}
    for name, path in outputs.items():
        key = path.resolve()
        if key in seen:
            raise OutputError(f"--{seen[key]} and --{name} name the same file: {path}")
        seen[key] = name
    return outputs
