"""``clamcoach user add|list|assign|remove``: the workspace's sign-ins, from the command line.

The password is read from the terminal (twice, not echoed) or, with ``--password-stdin``,
as the first line of standard input (for scripts); never from an argument, where other users
of the machine could see it in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TextIO

from clamcoach.errors import UsageError
from clamcoach.history_cli import add_store_parser, store_command, table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="add, list or remove workspace sign-ins",
                       description="Manage who can sign in to the workspace (clamcoach serve).")
    users = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    a = add_store_parser(users, "add", run_add, help="add a therapist or a patient")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=("therapist", "patient"))
    a.add_argument("--therapist", metavar="NAME", help="a patient's therapist (required for patients)")
    a.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input")
    ls = add_store_parser(users, "list", run_list, help="list the users")
    ls.add_argument("--json", action="store_true")
    asg = add_store_parser(users, "assign", run_assign, help="put a patient in a therapist's care")
    asg.add_argument("patient")
    asg.add_argument("--therapist", metavar="NAME", required=True)
    rm = add_store_parser(users, "remove", run_remove,
                          help="remove a sign-in (a patient's history stays)")
    rm.add_argument("name")

def read_password(from_stdin: bool, stdin: TextIO | None = None) -> str:
    stdin = stdin or sys.stdin
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    if not stdin.isatty():
        raise UsageError("no terminal to read the password from: use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ; nothing was changed")
    return first


@store_command
def run_add(args, store, out) -> None:
    from clamcoach.accounts.users import add_user

    if (args.role == "patient") != bool(args.therapist):
        raise UsageError("a patient needs --therapist NAME; a therapist takes none")
    password = read_password(args.password_stdin)
    add_user(store, args.name, args.role, password, therapist=args.therapist)
    carer = f", looked after by {args.therapist}" if args.therapist else ""
    out.write(f"added {args.role} {args.name.strip()}{carer}\n")


@store_command
def run_list(args, store, out) -> None:
    from clamcoach.accounts.users import list_users

    users = list_users(store)
    if args.json:
        json.dump([{"name": u.username, "role": u.role.value, "therapist": u.therapist,
                    "created_at": u.created_at.isoformat(),
                    "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None}
                   for u in users], out, indent=2)
        out.write("\n")
        return
    out.write(table(["user", "role", "therapist", "last sign-in"],
                    [[u.username, u.role.value, u.therapist or "-",
                      u.last_login_at.astimezone().strftime("%Y-%m-%d %H:%M") if u.last_login_at
                      else "never"] for u in users]))


@store_command
def run_assign(args, store, out) -> None:
    from clamcoach.accounts.users import assign_patient

    assign_patient(store, args.patient, args.therapist)
    out.write(f"{args.patient.strip()} is now looked after by {args.therapist}\n")


@store_command
def run_remove(args, store, out) -> None:
    from clamcoach.accounts.users import remove_user

    remove_user(store, args.name)
    out.write(f"removed {args.name.strip()}\n")
