"""The therapist's list, one patient's page, prescribing, a session's report, pain ratings."""

from __future__ import annotations

from markupsafe import escape
from starlette.responses import JSONResponse, Response

from clamcoach.accounts.roles import Role
from clamcoach.accounts.users import add_user, assign_patient, patients_of, therapist_of
from clamcoach.errors import ProtocolError, UsageError
from clamcoach.protocol import load_protocol
from clamcoach.report.html import render_report
from clamcoach.report.progress import prescription_html, trends_img, weeks_table
from clamcoach.storage import audit, pain
from clamcoach.storage.audit import AuditAction
from clamcoach.storage.prescription import FIELDS, parse_overrides
from clamcoach.storage.records import report_from_detail, series_frames
from clamcoach.web.i18n import N_
from clamcoach.web.workspace.guard import Call
from clamcoach.web.workspace.login import home_of
from clamcoach.web.workspace.overview import FLAG_TEXT, patient_record, patient_rows
from clamcoach.web.workspace.render import HEADERS, gettext, page, problem, redirect, render_html, report_page

AUDIT_ON_PAGE = 30
#: The rating form at the end of a set's report: the report is a document of its own (its
#: page allows inline styles only), so the form brings these few rules.
RATING_STYLE = """<style>
.pain fieldset { border: 1px solid #999; border-radius: 6px; display: flex; flex-wrap: wrap; gap: .3rem .9rem; }
.pain label { display: inline-flex; gap: .25rem; align-items: center; }
.pain textarea { display: block; width: 100%; max-width: 40rem; font: inherit; }
.pain button { font: inherit; margin-top: .6rem; padding: .3em 1em; }
</style>
"""


def _log(call: Call, action: AuditAction, patient_id: int | None, detail: str | None = None) -> None:
    audit.record(call.store, call.who.username, call.who.role.value, action, patient_id, detail)


def list_patients(call: Call, error: str | None = None, status: int = 200) -> Response:
    if call.who.role is Role.PATIENT:
        return redirect(home_of(call.who))
    rows = patient_rows(call.store, call.who.user_id)
    _log(call, AuditAction.LIST_PATIENTS, None, f"{len(rows)} patients")
    return page("patients.html", status=status, who=call.who, csrf=call.csrf, rows=rows,
                flag_text=FLAG_TEXT, error=error)


def add_patient(call: Call) -> Response:
    name, password = call.field("name"), call.field("password")
    try:
        if not name:
            raise UsageError("give the patient's name")
        taken = {pid for pid, _ in patients_of(call.store, call.who.user_id)}
        existing = _existing_patient(call, name)
        if existing is not None and existing not in taken and therapist_of(call.store, existing):
            raise UsageError(f"{name} is looked after by another therapist")
        if password:
            add_user(call.store, name, Role.PATIENT, password, therapist=call.who.username)
            pid = call.store.patient_id(name)
        else:
            pid = assign_patient(call.store, name, call.who.username)
    except (UsageError, ProtocolError) as exc:
        return list_patients(call, error=str(exc), status=400)
    _log(call, AuditAction.ADD_PATIENT, pid, "with a sign-in" if password else "history only")
    return redirect(f"/patients/{pid}")


def _existing_patient(call: Call, name: str) -> int | None:
    try:
        return call.store.patient_id(name)
    except UsageError:
        return None


def show_patient(call: Call, error: str | None = None, status: int = 200) -> Response:
    record = patient_record(call.store, call.patient_id)
    _log(call, AuditAction.VIEW_PATIENT, record.id)
    entries = (audit.entries(call.store, patient_ids=[record.id], limit=AUDIT_ON_PAGE)
               if call.who.is_therapist else [])
    return page(
        "patient.html", status=status, who=call.who, csrf=call.csrf, p=record, error=error,
        flag_text=FLAG_TEXT, entries=entries, prescription=prescription_html(record.prescription),
        rx={name: (record.prescription or {}).get(name) for name in FIELDS},
        knee_pillow=record.protocol.setup.knee_pillow,
        trends=trends_img(record.sessions, record.protocol, record.pain_points),
        weeks=weeks_table(record.trends), lesson=call.ws.lesson is not None)


def prescribe(call: Call) -> Response:
    fields = {name: call.field(name) or None for name in FIELDS}
    lines = [line for line in call.field("overrides").splitlines() if line.strip()]
    name = call.store.patient_name(call.patient_id)
    # The box is one protocol change (setup.knee_pillow), written only when it changes.
    pillow = bool(call.field("knee_pillow"))
    if pillow != load_protocol(patch=call.store.protocol_patch(name)).setup.knee_pillow:
        lines.append(f"setup.knee_pillow={'true' if pillow else 'false'}")
    try:
        version = call.store.prescribe(name, overrides=parse_overrides(lines),
                                       replace_overrides=bool(call.field("reset_overrides")),
                                       note=call.field("note") or None, **fields)
    except ProtocolError as exc:
        return show_patient(call, error=f"Prescription not saved: {exc}", status=400)
    _log(call, AuditAction.PRESCRIBE, call.patient_id, f"version {version}")
    return redirect(f"/patients/{call.patient_id}#prescription")


def show_session(call: Call) -> Response:
    sid = call.request.path_params["sid"]
    try:
        detail = call.store.session(sid)
    except UsageError:
        return problem(404, N_("There is no such session."))
    if detail["patient"] != call.store.patient_name(call.patient_id):
        return problem(404, N_("There is no such session."))
    _log(call, AuditAction.VIEW_SESSION, call.patient_id, f"session {sid}")
    html = render_report(report_from_detail(detail), series_frames(detail.get("series")), None)
    text = (gettext(N_("← back to your page")) if call.who.role is Role.PATIENT
            else gettext(N_("← back to {name}")).format(name=detail["patient"]))
    back = f'<p><a href="/patients/{call.patient_id}">{escape(text)}</a></p>'  # a name is not markup
    current = next((r for r in reversed(pain.ratings(call.store, call.patient_id))
                    if r.session_id == sid), None)
    rating = render_html("session_pain.html", patient_id=call.patient_id, session_id=sid,
                         csrf=call.csrf, current=current)
    html = html.replace("<main>\n", "<main>\n" + back, 1)
    return report_page(html.replace("\n</main>", "\n" + RATING_STYLE + rating + "</main>", 1))


def rate_pain(call: Call) -> Response:
    """The patient's own page: a rating about one of their sessions, or about none."""
    session = call.field("session_id")
    try:
        pain.add_rating(call.store, call.patient_id, call.field("rating"), call.field("note"),
                        session_id=int(session) if session.isdigit() else None,
                        replace=session.isdigit())
    except UsageError as exc:
        return show_patient(call, error=str(exc), status=400)
    _log(call, AuditAction.RATE_PAIN, call.patient_id, f"rating {call.field('rating')}")
    return redirect(f"/patients/{call.patient_id}#pain")


def rate_session(call: Call) -> Response:
    """The pain rating of one saved set (a live set, in the rest after it, or an upload, on
    its report); a second rating of the same set corrects the first. The live page posts
    with ``Accept: application/json`` and stays where it is; a plain form goes back to the
    set's report."""
    sid = call.request.path_params["sid"]
    if not _is_patients_session(call, sid):
        return problem(404, N_("There is no such session."))
    try:
        pain.add_rating(call.store, call.patient_id, call.field("rating"), call.field("note"),
                        session_id=sid, replace=True)
    except UsageError as exc:
        return problem(400, str(exc))
    _log(call, AuditAction.RATE_PAIN, call.patient_id, f"rating {call.field('rating')} of session {sid}")
    if "application/json" in call.request.headers.get("accept", ""):
        found = next(r for r in reversed(pain.ratings(call.store, call.patient_id)) if r.session_id == sid)
        return JSONResponse({"session_id": sid, "rating": found.rating, "note": found.note},
                            headers=HEADERS)
    return redirect(f"/patients/{call.patient_id}/sessions/{sid}#pain")


def _is_patients_session(call: Call, sid: int) -> bool:
    return any(s["id"] == sid for s in call.store.history(call.store.patient_name(call.patient_id)))
