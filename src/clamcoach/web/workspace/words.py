"""The workspace's words that come from Python rather than a template (audit actions, upload
states, roles, the side picker's choices), marked for the catalogue with ``N_``: the
templates translate them with ``_()``, in the reader's language (``render.py``)."""

from __future__ import annotations

from clamcoach.storage.audit import AuditAction
from clamcoach.web.i18n import N_

ACTION_TEXT: dict[AuditAction, str] = {
    AuditAction.SIGN_IN: N_("signed in"),
    AuditAction.SIGN_OUT: N_("signed out"),
    AuditAction.LIST_PATIENTS: N_("listed the patients"),
    AuditAction.ADD_PATIENT: N_("added a patient"),
    AuditAction.VIEW_PATIENT: N_("viewed the patient"),
    AuditAction.VIEW_SESSION: N_("viewed a session"),
    AuditAction.PRESCRIBE: N_("prescribed"),
    AuditAction.UPLOAD: N_("uploaded a set"),
    AuditAction.LIVE_SET: N_("saved a live set"),
    AuditAction.RATE_PAIN: N_("rated pain"),
    AuditAction.VIEW_SHEET: N_("viewed the exercise sheet"),
    AuditAction.EXPORT: N_("exported the record"),
    AuditAction.VIEW_AUDIT: N_("viewed the audit log"),
    AuditAction.ERASE: N_("erased the record"),
}

#: An upload job's state, as its page first shows it (workspace.js then follows it).
STATE_TEXT = {"queued": N_("Waiting for the analyser…"), "running": N_("Analysing"),
              "done": N_("Done."), "failed": N_("The analysis failed")}

#: The side picker of the prescription form ('' keeps the current side).
SIDE_TEXT = {"": N_("(keep)"), "left": N_("left"), "right": N_("right"), "both": N_("both")}

#: Which leg a prescription has lift (the live page's line naming the prescription).
LIFT_TEXT = {"left": N_("the left leg lifts"), "right": N_("the right leg lifts"),
             "both": N_("either leg")}

#: Roles, as the audit log names them.
ROLES = (N_("therapist"), N_("patient"))
