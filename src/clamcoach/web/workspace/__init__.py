"""The therapist's workspace, served by ``clamcoach serve`` beside live coaching.

``workspace_routes(config)`` returns the Starlette routes to add to the app; ``ROUTES`` is
the table of every path, method and who may call it (the authorization test walks it).
Needs the ``workspace``, ``web`` and ``storage`` extras.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from clamcoach.storage.repository import Store, open_store
from clamcoach.web.workspace import live, login, patients, records, sheet, uploads
from clamcoach.web.workspace.config import WorkspaceConfig
from clamcoach.web.workspace.guard import Call, Policy, guarded

__all__ = ["ROUTES", "Workspace", "WorkspaceConfig", "workspace_routes"]

STATIC = Path(__file__).with_name("static")
STATIC_PREFIX = "/workspace-static"


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    policy: Policy
    handler: Callable[[Call], object]
    form: bool = False
    upload: bool = False


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("/login", "GET", Policy.PUBLIC, login.show_login),
    RouteSpec("/login", "POST", Policy.PUBLIC, login.sign_in, form=True),
    RouteSpec("/logout", "POST", Policy.SIGNED_IN, login.sign_out, form=True),
    RouteSpec("/patients", "GET", Policy.SIGNED_IN, patients.list_patients),
    RouteSpec("/patients", "POST", Policy.THERAPIST, patients.add_patient, form=True),
    RouteSpec("/patients/{pid:int}", "GET", Policy.CARE, patients.show_patient),
    RouteSpec("/patients/{pid:int}/prescription", "POST", Policy.CARER, patients.prescribe, form=True),
    RouteSpec("/patients/{pid:int}/sessions/{sid:int}", "GET", Policy.CARE, patients.show_session),
    RouteSpec("/patients/{pid:int}/pain", "POST", Policy.SELF, patients.rate_pain, form=True),
    RouteSpec("/patients/{pid:int}/sessions/{sid:int}/pain", "POST", Policy.CARE, patients.rate_session,
              form=True),
    RouteSpec("/patients/{pid:int}/live", "GET", Policy.CARE, live.show_live),
    RouteSpec("/patients/{pid:int}/live/sets", "GET", Policy.CARE, live.live_sets),
    RouteSpec("/patients/{pid:int}/uploads", "POST", Policy.CARE, uploads.start_upload, upload=True),
    RouteSpec("/patients/{pid:int}/uploads/{job}", "GET", Policy.CARE, uploads.show_upload),
    RouteSpec("/patients/{pid:int}/uploads/{job}/status", "GET", Policy.CARE, uploads.upload_status),
    RouteSpec("/patients/{pid:int}/sheet", "GET", Policy.CARE, sheet.sheet_html),
    RouteSpec("/patients/{pid:int}/sheet.pdf", "GET", Policy.CARE, sheet.sheet_pdf),
    RouteSpec("/patients/{pid:int}/export.json", "GET", Policy.CARER, records.export_json),
    RouteSpec("/patients/{pid:int}/export.csv", "GET", Policy.CARER, records.export_csv),
    RouteSpec("/patients/{pid:int}/erase", "POST", Policy.CARER, records.erase, form=True),
    RouteSpec("/audit", "GET", Policy.THERAPIST, records.show_audit),
    RouteSpec("/lesson.mp4", "GET", Policy.SIGNED_IN, records.lesson_video),
)


class Workspace:
    """One server's workspace: its config, the open history store and the upload jobs."""

    def __init__(self, config: WorkspaceConfig, store: Store | None = None) -> None:
        self.config = config
        self.store = store or open_store(config.database_url)
        self.lesson = config.lesson_path if config.lesson_path and config.lesson_path.is_file() else None
        self.uploads = uploads.Uploads(self.store)
        self.live_sets = live.SavedSets()

    def close(self) -> None:
        self.uploads.close()
        self.store.close()


def workspace_routes(config: WorkspaceConfig | Workspace) -> list[BaseRoute]:
    """The workspace's routes (and its static files), to add to the app's route list; a
    WorkspaceConfig opens its store here."""
    ws = config if isinstance(config, Workspace) else Workspace(config)
    out: list[BaseRoute] = []
    for spec in ROUTES:
        limit = ws.config.max_upload_bytes if spec.upload else 1024 * 1024
        endpoint = guarded(ws, spec.policy, spec.handler, form=spec.form or spec.upload,
                           max_body=limit)
        out.append(Route(spec.path, endpoint, methods=[spec.method],
                         name=f"{spec.method} {spec.path}"))
    # The bound live page's socket: checked in the endpoint (a socket has no form or CSRF token).
    out.append(WebSocketRoute(live.socket_path("{pid:int}"), live.live_socket(ws)))
    out.append(Mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="workspace-static"))
    return out
