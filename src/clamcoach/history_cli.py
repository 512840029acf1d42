"""The history commands: ``history``, ``prescribe``, ``export``, ``erase`` and ``patients``.

``add_parsers(subparsers)`` registers them on the main CLI; each sets ``func`` to a handler
that takes the parsed arguments and returns an exit code (errors are printed, one line, to
stderr, with the exit code of ``clamcoach.errors``). The database is ``--db URL`` (or a file
path), else $CLAMCOACH_DATABASE_URL, else history.sqlite in the user's data folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any, Callable, Sequence, TextIO

from clamcoach.errors import ClamcoachError, OptionalDependencyMissing, StorageError, UsageError
from clamcoach.protocol import label
from clamcoach.report.page import local_time

DB_HELP = ("history database: a SQLAlchemy URL or a file path (default: "
            "$CLAMCOACH_DATABASE_URL, else history.sqlite in the user's data folder)")


def add_store_parser(subparsers: argparse._SubParsersAction, name: str,
                     handler: Callable[..., int], **parser_options: Any) -> argparse.ArgumentParser:
    """A subcommand that works on the history: its parser, with ``--db URL`` and ``func`` set;
    the caller adds the command's own arguments (``--db`` is listed after them, in a group)."""
    parser = subparsers.add_parser(name, **parser_options)
    parser.add_argument_group("history database").add_argument("--db", metavar="URL", help=DB_HELP)
    parser.set_defaults(func=handler)
    return parser


def add_patient_parser(subparsers: argparse._SubParsersAction, name: str,
                       handler: Callable[..., int], **parser_options: Any) -> argparse.ArgumentParser:
    """A history subcommand about one patient, who is named first on its command line."""
    parser = add_store_parser(subparsers, name, handler, **parser_options)
    parser.add_argument("patient")
    return parser


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    from clamcoach.cli import add_knee_pillow_option

    p = add_store_parser(
        subparsers, "history", run_history_or_sync,
        help="show a patient's sessions and weekly trends",
        description="Show a patient's stored sessions and per-week trends (reps, clean-rep "
                    "rate, mean opening, mean roll-back).")
    p.add_argument("patient", nargs="?")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--sync", action="store_true",
                   help="first save the sessions waiting in the local outbox (kept when the "
                        "database could not be reached)")

    p = add_patient_parser(
        subparsers, "prescribe", run_prescribe,
        help="set or show a patient's prescription",
        description="Add a new prescription version for a patient. Options not given keep "
                    "the previous version's values. With no options, show the active one.")
    p.add_argument("--sets", type=int)
    p.add_argument("--reps", type=int, help="reps per set")
    p.add_argument("--hold", type=float, dest="hold_s", metavar="SECONDS",
                   help="hold at the top, seconds")
    p.add_argument("--tempo", metavar="UP-HOLD-DOWN", help="seconds, e.g. 2-2-2")
    p.add_argument("--side", choices=("left", "right", "both"))
    p.add_argument("--band", help="resistance band level, e.g. none, light, medium")
    p.add_argument("--per-week", type=int, dest="sessions_per_week", metavar="N",
                   help="sessions a week (each of SETS sets)")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="SECTION.KEY=VALUE",
                   help="override a protocol threshold, e.g. roll_back.error_deg=12 (repeatable)")
    add_knee_pillow_option(p, dest="overrides")
    p.add_argument("--reset-overrides", action="store_true",
                   help="drop the previous version's threshold overrides")
    p.add_argument("--note", help="a note for this version")
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = add_patient_parser(
        subparsers, "export", run_export,
        help="export a patient's history to CSV or JSON",
        description="Write a patient's history: CSV has one row per rep; JSON has everything "
                    "(prescriptions, sessions with reps and findings, weekly trends).")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--csv", metavar="FILE")
    out.add_argument("--json", metavar="FILE")

    p = add_patient_parser(
        subparsers, "erase", run_erase,
        help="erase a patient's whole record",
        description="Erase everything stored about a patient (sessions, prescriptions, pain "
                    "ratings, sign-in, audit entries about their data); a tombstone entry "
                    "remains in the audit log. Export first if the record must be kept.")
    p.add_argument("--yes", action="store_true", help="really erase (required)")

    p = add_store_parser(subparsers, "patients", run_patients, help="list the patients in the history")
    p.add_argument("--json", action="store_true")


# ---- handlers ---------------------------------------------------------------------------


def store_command(fn: Callable[[argparse.Namespace, Any, TextIO], None]) -> Callable[..., int]:
    """Open the store, run, close; turn clamcoach errors into a message and an exit code."""

    def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
        out = out or sys.stdout
        try:
            try:
                from clamcoach.storage import open_store
            except ImportError as exc:
                raise OptionalDependencyMissing(
                    f"the history needs the storage extra: pip install 'clamcoach[storage]' ({exc})"
                ) from exc
            with open_store(getattr(args, "db", None)) as store:
                fn(args, store, out)
            return 0
        except ClamcoachError as exc:
            print(f"clamcoach: error: {exc}", file=sys.stderr)
            return exc.exit_code

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def run_history_or_sync(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``history [PATIENT] [--sync]``: the outbox first when asked, then the patient's history."""
    if args.sync:
        from clamcoach.storage.outbox import sync

        result = sync(args.db)
        print(f"outbox: {len(result.saved)} saved, {result.already_saved} already saved, "
              f"{result.waiting} waiting", file=out or sys.stdout)
        if result.error:
            print(f"clamcoach: error: {result.error}", file=sys.stderr)
            return StorageError.exit_code
    if args.patient is None:
        if args.sync:
            return 0
        print("clamcoach: error: name a patient (or use --sync)", file=sys.stderr)
        return UsageError.exit_code
    return run_history(args, out)


@store_command
def run_history(args, store, out) -> None:
    """Sessions, oldest first, then weekly trends."""
    sessions = store.history(args.patient)
    trends = store.trends(args.patient)
    if args.json:
        json.dump({"patient": args.patient, "sessions": sessions, "trends": trends}, out, indent=2)
        out.write("\n")
        return
    rows = [
        [s["id"], local_time(s["recorded_at"]), s["kind"], s.get("camera_view") or "-",
         s["reps"], s["clean_reps"], _deg(s.get("mean_opening_deg")),
         _deg(s.get("max_roll_back_deg")),
         ", ".join(f"{label(c)} x{n}" for c, n in sorted(s["findings"].items())) or "-"]
        for s in sessions
    ]
    out.write(f"Sessions of {args.patient} ({len(sessions)}):\n")
    out.write(table(["id", f"when ({_zone()})", "kind", "view", "reps", "clean", "opening",
                     "worst roll-back", "findings"], rows, right={0, 4, 5, 6, 7}))
    out.write("\nWeekly trends:\n")
    out.write(table(
        ["week", "from", "sessions", "reps", "clean", "opening", "mean roll-back",
         "worst roll-back"],
        [[w["week"], w["week_start"], w["sessions"], w["reps"], _pct(w["clean_rate"]),
          _deg(w["mean_opening_deg"]), _deg(w["mean_roll_back_deg"]),
          _deg(w.get("max_roll_back_deg"))] for w in trends],
        right={2, 3, 4, 5, 6, 7}))


@store_command
def run_prescribe(args, store, out) -> None:
    """Add a version from the given options, or show the active one when none is given."""
    from clamcoach.storage.prescription import parse_overrides

    fields = {k: getattr(args, k) for k in ("sets", "reps", "hold_s", "tempo", "side", "band",
                                            "sessions_per_week")}
    fields = {k: v for k, v in fields.items() if v is not None}
    changing = fields or args.overrides or args.reset_overrides or args.note
    if changing:
        store.prescribe(args.patient, overrides=parse_overrides(args.overrides),
                        replace_overrides=args.reset_overrides, note=args.note, **fields)
    active = store.active_prescription(args.patient)
    if args.json:
        json.dump(active, out, indent=2)
        out.write("\n")
    elif active is None:
        out.write(f"{args.patient} has no prescription: the protocol's defaults apply.\n")
    else:
        verb = "is now" if changing else "is"
        out.write(f"Prescription of {args.patient} {verb} version {active['version']}: "
                  f"{describe_prescription(active)}\n")


@store_command
def run_export(args, store, out) -> None:
    from clamcoach.report.export import write_history_csv, write_history_json

    data = store.export(args.patient)
    if args.csv:
        write_history_csv(args.csv, data)
        out.write(f"wrote {args.csv}\n")
    else:
        write_history_json(args.json, data)
        out.write(f"wrote {args.json}\n")


@store_command
def run_patients(args, store, out) -> None:
    patients = store.patients()
    if args.json:
        json.dump(patients, out, indent=2)
        out.write("\n")
        return
    out.write(table(["patient", "sessions", f"last session ({_zone()})"],
                    [[p["name"], p["sessions"], local_time(p["last_session"]) if p["last_session"]
                      else "-"] for p in patients], right={1}))


@store_command
def run_erase(args, store, out) -> None:
    from clamcoach.storage.erase import erase_patient

    if not args.yes:
        raise UsageError(f"erasing {args.patient} cannot be undone: add --yes "
                         f"(export first with: clamcoach export {args.patient} --json FILE)")
    tombstone = erase_patient(store, store.patient_id(args.patient), actor=_cli_actor(),
                              actor_role="cli")
    out.write(f"erased {args.patient}: {tombstone}\n")


def _cli_actor() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"[:80]


# ---- formatting -------------------------------------------------------------------------


def describe_prescription(p: dict) -> str:
    parts = [f"{p.get('sets') or '-'} x {p.get('reps') or '-'} reps"]
    if p.get("hold_s") is not None:
        parts.append(f"hold {p['hold_s']:g} s")
    for key in ("tempo", "side", "band"):
        if p.get(key):
            parts.append(f"{key} {p[key]}")
    if p.get("sessions_per_week"):
        parts.append(f"{p['sessions_per_week']} sessions a week")
    flat = [f"{s}.{k}={v}" for s, vals in (p.get("overrides") or {}).items()
            if isinstance(vals, dict) for k, v in vals.items()]
    if flat:
        parts.append("thresholds " + ", ".join(flat))
    return ", ".join(parts)


def _zone() -> str:
    return datetime.now().astimezone().tzname() or "local"


def _deg(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} deg"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.0f}%"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: set[int] = frozenset()) -> str:
    """A plain-text table; columns in ``right`` are right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if i in right else c.ljust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    if not rows:
        lines.append("(none)")
    return "\n".join(lines) + "\n"
