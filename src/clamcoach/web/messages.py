"""What goes over the WebSocket as JSON: engine steps out, control messages in.

Page -> server (text): ``hello``, ``control``, ``ping``. Frames are binary (see frames.py).
Server -> page: ``welcome``, ``busy``, ``taken_over``, ``ready``, ``result``, ``dropped``,
``session`` (state after a control), ``error``, ``pong``. JSON has no NaN: a measure the
view cannot give is ``null``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from clamcoach.errors import ClamcoachError
from clamcoach.jsonio import rounded
from clamcoach.session_flow import Control
from clamcoach.types import Phase, Severity

if TYPE_CHECKING:
    from clamcoach.engine import Step
    from clamcoach.types import Finding, Rep

#: The page's "new session" button: the hub's business (a fresh session), not the flow's.
NEW_SESSION: Final = "new_session"
CONTROLS = (*(c.value for c in Control), NEW_SESSION)
ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class MessageError(ClamcoachError, ValueError):
    """A message from the page that is not understood; answered with an ``error`` reply."""


@dataclass(frozen=True)
class Hello:
    session: str | None
    tab: str
    takeover: bool
    #: a viewer shows the coaching of the page that coaches (e.g. the computer's screen while
    #: the phone is the camera); it sends no frames
    role: Literal["coach", "viewer"]


@dataclass(frozen=True)
class ControlMessage:
    action: Control | Literal["new_session"]


@dataclass(frozen=True)
class Ping:
    t: float | None


PageMessage = Hello | ControlMessage | Ping

# Decimals the page is sent (``jsonio.rounded``, NaN as null): angles to 0.1 deg, durations
# to 10 ms, times to 1 ms, pixels whole.
DEG: Final = 1
DURATION: Final = 2
TIME: Final = 3
PIXEL: Final = 0


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def _token(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 8 <= len(value) <= 64 or not set(value) <= ID_CHARS:
        raise MessageError(f"{what} must be 8-64 letters, digits, '-' or '_'")
    return value


def parse_text(text: str) -> PageMessage:
    """A control message from the page, checked; MessageError if it is not one."""
    try:
        msg = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MessageError(f"not JSON: {exc.msg}") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise MessageError("a message must be a JSON object with a 'type'")
    kind = msg["type"]
    if kind == "hello":
        return Hello(session=_token(msg.get("session"), "session"),
                     tab=_token(msg.get("tab"), "tab") or "anonymous-tab",
                     takeover=bool(msg.get("takeover", False)),
                     role="viewer" if msg.get("role") == "viewer" else "coach")
    if kind == "control":
        action = msg.get("action")
        if action not in CONTROLS:
            raise MessageError(f"unknown control action {action!r}; one of {', '.join(CONTROLS)}")
        return ControlMessage(NEW_SESSION if action == NEW_SESSION else Control(action))
    if kind == "ping":
        t = msg.get("t")
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))):
            raise MessageError("ping 't' must be a number")
        try:
            return Ping(rounded(t, TIME))
        except OverflowError:  # a JSON integer too large for a float
            raise MessageError("ping 't' is out of range") from None
    raise MessageError(f"unknown message type {kind!r}")


def error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}


def finding_dict(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "severity": f.severity.value,
            "message": f.message, "cue": f.cue, "value": rounded(f.value, DEG)}


def rep_dict(rep: Rep, set_index: int) -> dict[str, Any]:
    return {
        "set": set_index, "index": rep.index,
        "opening_deg": rounded(rep.opening_deg, DEG),
        "opening_sd_deg": rounded(rep.opening_sd_deg, DEG),
        "roll_back_deg": rounded(rep.roll_back_deg, DEG),
        "roll_back_sd_deg": rounded(rep.roll_back_sd_deg, DEG),
        "roll_judged": bool(rep.roll_judged),
        "hold_s": rounded(rep.hold_s, DURATION), "up_s": rounded(rep.up_s, DURATION),
        "down_s": rounded(rep.down_s, DURATION),
        "findings": [finding_dict(f) for f in rep.findings],
        "clean": not any(f.severity is not Severity.INFO for f in rep.findings),
    }


def step_dict(step: Step, set_index: int) -> dict[str, Any]:
    """The fields of an engine ``Step`` the page shows (see docs/ENGINE_API.md)."""
    cue = None
    if step.cue is not None:
        # Which rep a cue is about: the one just completed, else the one in progress.
        if step.new_reps:
            rep = step.new_reps[-1].index
        elif step.phase in (Phase.UP, Phase.HOLD, Phase.DOWN):
            rep = step.rep_count + 1
        else:
            rep = None
        cue = {"code": step.cue.code, "text": step.cue.text, "kind": step.cue.kind.value,
               "priority": step.cue.priority, "rep": rep, "set": set_index}
    pose = None
    if step.body is not None:
        pose = [[rounded(x, PIXEL), rounded(y, PIXEL)] for x, y in step.body.image[:, :2]]
    return {
        "t": rounded(step.t, TIME),
        "phase": step.phase.value,
        "rep_count": step.rep_count,
        "opening_deg": rounded(step.opening_deg, DEG),
        "opening_sd_deg": rounded(step.opening_sd_deg, DEG),
        "roll_change_deg": rounded(step.roll_change_deg, DEG),
        "roll_sd_deg": rounded(step.roll_sd_deg, DEG) if step.view_can_see_roll else None,
        "hold_s": rounded(step.hold_s, DURATION),
        "setup_checks": {k: (None if v is None else bool(v)) for k, v in step.setup_checks.items()},
        "setup_ok": bool(step.setup_ok),
        "cue": cue,
        "view": step.view,
        "view_can_see_roll": bool(step.view_can_see_roll),
        "view_can_size_opening": step.view_can_size_opening,
        "in_frame": bool(step.in_frame),
        "new_reps": [rep_dict(r, set_index) for r in step.new_reps],
        # The set's reps from this index on were measured again: ``new_reps`` replaces them.
        "reps_replaced_from": step.reps_replaced_from,
        "new_findings": [finding_dict(f) for f in step.new_findings],
        "pose": pose,
    }
