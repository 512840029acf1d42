"""`clamcoach serve`: live coaching in the browser, on this computer only; with ``--phone``
also over HTTPS on the local network, for a paired phone as the camera.

Registered by ``clamcoach.cli`` through ``add_parser(subparsers)``; ``run(args)`` returns the
exit code.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import threading
import time
import webbrowser
from typing import TYPE_CHECKING, Callable

from clamcoach.errors import UsageError

if TYPE_CHECKING:
    import uvicorn

    from clamcoach.analysis import Analysis
    from clamcoach.protocol import Protocol
    from clamcoach.web.phone import PhoneAccess
    from clamcoach.web.workspace import WorkspaceConfig

#: Called with each finished set (the web app's ``on_set_done``).
SetSaver = Callable[["Analysis"], None]

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parser(sub: argparse._SubParsersAction) -> None:
    from clamcoach.cli import add_knee_pillow_option

    p = sub.add_parser("serve", help="live coaching in the browser (camera or a video file)",
                       description="Serve the live coaching page on this computer. Frames stay in "
                                   "memory; nothing leaves the machine.")
    p.add_argument("--host", default=None,
                   help="address to listen on (default 127.0.0.1: this computer only; with --phone, "
                        "this computer's address on the local network)")
    p.add_argument("--phone", action="store_true",
                   help="use a phone as the camera: HTTPS on the local network, paired by a QR code "
                        "shown on this computer")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--protocol", metavar="FILE", help="a TOML file with protocol keys to change")
    p.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                   help="change one protocol value, e.g. prescription.reps=12 (repeatable)")
    add_knee_pillow_option(p)
    p.add_argument("--patient", metavar="NAME",
                   help="use this patient's prescription and save each set to their history")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    p.add_argument("--db", metavar="URL",
                   help="the workspace's history database: a SQLAlchemy URL or a file path "
                        "(default: $CLAMCOACH_DATABASE_URL, else history.sqlite in the user's data folder)")
    p.add_argument("--no-workspace", action="store_true",
                   help="serve live coaching only, without the therapist's workspace (/login)")
    p.set_defaults(func=run)


def _protocol(args: argparse.Namespace) -> Protocol:
    if args.patient:
        from clamcoach.storage import prescribed_protocol

        return prescribed_protocol(args.protocol, args.set, args.patient)
    from clamcoach.protocol import load_protocol

    return load_protocol(args.protocol, args.set)


def _history_saver(patient: str, db: str | None = None) -> SetSaver:
    """Saves each finished set as a "live" session of ``patient`` (numbers only, no images)."""
    from clamcoach.errors import ClamcoachError
    from clamcoach.storage import open_store
    from clamcoach.web.session import live_source

    def save(analysis: Analysis) -> None:
        report = analysis.to_dict(live_source(analysis))
        try:
            with open_store(db) as store:
                store.save_analysis(patient, report, analysis.frames, kind="live")
        except ClamcoachError as exc:  # the session goes on; the set is only not saved
            log.error("could not save the set to %s's history: %s", patient, exc)

    return save


def _workspace(args: argparse.Namespace) -> WorkspaceConfig:
    try:
        from clamcoach.web.workspace import WorkspaceConfig
    except ImportError as exc:
        from clamcoach.errors import OptionalDependencyMissing

        raise OptionalDependencyMissing(
            f"the workspace needs its extra: pip install 'clamcoach[workspace]' ({exc.name}); "
            "or serve with --no-workspace") from exc
    return WorkspaceConfig(database_url=args.db)


def run(args: argparse.Namespace) -> int:
    from clamcoach.web.app import WebConfig, create_app
    from clamcoach.web.server import make_server

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0-65535, got {args.port}")
    proto = _protocol(args)
    on_set_done = _history_saver(args.patient, args.db) if args.patient else None
    if args.phone:
        return _run_phone(args, proto, on_set_done)
    args.host = args.host or "127.0.0.1"
    if args.host not in LOOPBACK:
        print(f"clamcoach: warning: listening on {args.host}: other computers on the network can "
              "open the page. The camera only works on http://127.0.0.1 or https (see --phone).",
              file=sys.stderr)
    config = WebConfig(protocol=proto, host=args.host, on_set_done=on_set_done,
                       workspace=None if args.no_workspace else _workspace(args))
    sock = _listen(args.host, args.port)
    server = make_server(create_app(config), args.host, args.port)
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    threading.Thread(target=_announce, args=(server, host, not args.no_browser, config.workspace is not None),
                     daemon=True).start()
    server.run(sockets=[sock])
    return 0 if server.started else 1


def _phone_host(requested: str | None) -> tuple[str, list[str]]:
    """The address the phone opens, and every address the certificate covers."""
    from clamcoach.web.lan import lan_addresses

    found = [a.address for a in lan_addresses()]
    if requested is not None:
        if requested in LOOPBACK or requested in ("0.0.0.0", "::"):
            raise UsageError(f"--phone needs an address the phone can reach, not {requested}: "
                             "leave --host out, or give this computer's address on the network")
        return requested, [requested, *found]
    if not found:
        raise UsageError("--phone: this computer has no address on a local network; connect it to "
                         "the Wi-Fi the phone uses, or give one with --host ADDR")
    return found[0], found


def _run_phone(args: argparse.Namespace, proto: Protocol, on_set_done: SetSaver | None) -> int:
    import asyncio

    from clamcoach.web.app import WebConfig, create_app
    from clamcoach.web.phone import PhoneAccess
    from clamcoach.web.server import make_server, serve_together
    from clamcoach.web.tls import default_folder, ensure_certificates, local_names

    host, addresses = _phone_host(args.host)
    identity = ensure_certificates(default_folder(), ["127.0.0.1", *addresses], local_names())
    phone_sock = _listen(host, args.port)
    port = phone_sock.getsockname()[1]
    local_sock = _listen("127.0.0.1", port)  # the computer's own page: plain HTTP, loopback only
    access = PhoneAccess(identity, base_url=f"https://{_url_host(host)}:{port}")
    app = create_app(WebConfig(protocol=proto, host=host, phone=access, on_set_done=on_set_done,
                               workspace=None if args.no_workspace else _workspace(args)))
    network = make_server(app, host, port, tls=identity)
    local = make_server(app, "127.0.0.1", port, lifespan="off")
    threading.Thread(target=_announce_phone, args=(network, local, access, not args.no_browser),
                     daemon=True).start()
    asyncio.run(serve_together([(network, phone_sock), (local, local_sock)]))
    return 0 if network.started else 1


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _announce_phone(network: uvicorn.Server, local: uvicorn.Server, access: PhoneAccess,
                    open_browser: bool) -> None:
    import segno

    if not _wait_started(network) or not _wait_started(local):
        return
    pair_url = access.pairing_url()
    computer = f"http://127.0.0.1:{access.base_url.rsplit(':', 1)[1]}/"
    print(f"Phone: {pair_url}", flush=True)
    segno.make(pair_url, error="m").terminal(compact=True)
    print(f"clamcoach: open the address above on the phone (or scan the code): it works once, for "
          f"10 minutes. This computer's page, {computer}, always shows a fresh code and the coaching. "
          f"The phone will warn about the certificate the first time; its fingerprint is "
          f"{access.identity.ca_fingerprint}  (Ctrl+C to stop)", file=sys.stderr, flush=True)
    if open_browser:
        webbrowser.open(computer)


def _wait_started(server: uvicorn.Server, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(server.started)


def _listen(host: str, port: int) -> socket.socket:
    """Bind here rather than in uvicorn, so a busy port is one clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                         "(is clamcoach serve already running? try another --port)") from None
    return sock


def _announce(server: uvicorn.Server, host: str, open_browser: bool, workspace: bool = False) -> None:
    from clamcoach.web.server import bound_port

    if not _wait_started(server):
        return
    url = f"http://{host}:{bound_port(server)}/"
    where = f"; the workspace at {url}login" if workspace else ""
    print(f"clamcoach: coaching page at {url}{where}  (Ctrl+C to stop)", file=sys.stderr, flush=True)
    if open_browser:
        webbrowser.open(url)
