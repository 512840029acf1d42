"""A patient's whole record out (JSON and CSV), erasing it, the audit log, the lesson video."""

from __future__ import annotations

import json

from starlette.responses import FileResponse, Response

from clamcoach.accounts.users import patients_of
from clamcoach.report.export import history_csv
from clamcoach.storage import audit, pain
from clamcoach.storage.audit import AuditAction
from clamcoach.storage.erase import erase_patient
from clamcoach.web.i18n import N_
from clamcoach.web.workspace.guard import Call
from clamcoach.web.workspace.render import HEADERS, page, problem, redirect


def whole_record(call: Call) -> dict:
    name = call.store.patient_name(call.patient_id)
    data = call.store.export(name)
    data["pain_ratings"] = [{"recorded_at": r.recorded_at.isoformat(), "rating": r.rating,
                             "note": r.note, "session_id": r.session_id}
                            for r in pain.ratings(call.store, call.patient_id)]
    data["audit_log"] = [{"at": e.at.isoformat(), "actor": e.actor, "role": e.actor_role,
                          "action": e.action.value, "detail": e.detail}
                         for e in audit.entries(call.store, patient_ids=[call.patient_id], limit=100_000)]
    return data


def _download(body: str, media_type: str, name: str) -> Response:
    return Response(body, media_type=media_type, headers={
        **HEADERS, "content-disposition": f'attachment; filename="{name}"'})


def export_json(call: Call) -> Response:
    data = whole_record(call)
    audit.record(call.store, call.who.username, call.who.role.value, AuditAction.EXPORT,
                 call.patient_id, "json")
    return _download(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                     "application/json", f"patient-{call.patient_id}.json")


def export_csv(call: Call) -> Response:
    data = call.store.export(call.store.patient_name(call.patient_id))
    audit.record(call.store, call.who.username, call.who.role.value, AuditAction.EXPORT,
                 call.patient_id, "csv")
    return _download(history_csv(data), "text/csv; charset=utf-8",
                     f"patient-{call.patient_id}.csv")


def erase(call: Call) -> Response:
    name = call.store.patient_name(call.patient_id)
    if call.field("confirm") != name:
        return problem(400, f"Nothing was erased: type the patient's name ({name}) to confirm.")
    erase_patient(call.store, call.patient_id, actor=call.who.username,
                  actor_role=call.who.role.value)
    return redirect("/patients")


def show_audit(call: Call) -> Response:
    ids = [pid for pid, _ in patients_of(call.store, call.who.user_id)]
    entries = audit.entries(call.store, patient_ids=ids, actor=call.who.username)
    audit.record(call.store, call.who.username, call.who.role.value, AuditAction.VIEW_AUDIT, None)
    names = dict(patients_of(call.store, call.who.user_id))
    return page("audit.html", who=call.who, csrf=call.csrf, entries=entries, names=names)


def lesson_video(call: Call) -> Response:
    lesson = call.ws.lesson
    if lesson is None:
        return problem(404, N_("No lesson video is installed."))
    return FileResponse(lesson, media_type="video/mp4", headers={"cache-control": "private, max-age=3600"})
