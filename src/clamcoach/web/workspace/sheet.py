"""The printable exercise sheet: the method's steps, the patient's own numbers, and key frames
of the lesson video. HTML for the browser, PDF printed by headless Chromium (the one
already used for the analysis report's PDF: no new library and no system GUI packages).
"""

from __future__ import annotations

import base64
import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
from starlette.responses import Response

from clamcoach.errors import ClamcoachError
from clamcoach.io.video import open_video
from clamcoach.report.browser import write_pdf
from clamcoach.report.progress import describe
from clamcoach.storage.audit import AuditAction, record
from clamcoach.web.i18n import N_
from clamcoach.web.workspace.guard import Call
from clamcoach.web.workspace.overview import patient_record
from clamcoach.web.workspace.render import page, problem, render_html

#: (second of the lesson, caption): one still per section of data/demo/lesson.mp4
#: (docs/LESSON.md), taken where the section shows its point.
KEY_FRAMES = (
    (5.0, N_("1. Lie on your side, hips and knees bent about 45°.")),
    (10.5, N_("2. Roll slightly forward, belly button toward the table.")),
    (13.5, N_("3. Top hand on the hip, to feel the muscles work.")),
    (16.0, N_("4. Feet together: they are the hinge.")),
    (20.5, N_("5. Squeeze and lift the knee a little; hold; lower slowly.")),
    (27.0, N_("Mistake 1: rolling back (left). Stay forward (right).")),
    (33.5, N_("Mistake 2: lifting too high (left). A little is enough (right).")),
    (40.0, N_("Mistake 3: feet apart (left). Feet together (right).")),
)


@dataclass(frozen=True)
class Still:
    caption: str
    uri: str


@functools.lru_cache(maxsize=2)
def lesson_stills(path: Path, width: int = 480) -> tuple[Still, ...]:
    """JPEG data URIs of the lesson's key frames (decoded once per server)."""
    wanted = list(KEY_FRAMES)
    out = []
    with open_video(path, max_side=960) as video:
        for frame in video:
            if not wanted:
                break
            if frame.t + 1e-6 >= wanted[0][0]:
                _, caption = wanted.pop(0)
                h, w = frame.rgb.shape[:2]
                small = cv2.resize(frame.rgb, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
                ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                                       [cv2.IMWRITE_JPEG_QUALITY, 82])
                out.append(Still(caption, "data:image/jpeg;base64," + base64.b64encode(jpg.tobytes()).decode()))
    return tuple(out)


def _context(call: Call) -> dict:
    rec = patient_record(call.store, call.patient_id)
    lesson = call.ws.lesson
    stills = lesson_stills(lesson) if lesson is not None else ()
    rx = rec.protocol.prescription
    latest = rec.sessions[-1] if rec.sessions else None
    return {"p": rec, "stills": stills, "dose": describe(rec.prescription) if rec.prescription else None,
            "rx": rx, "latest": latest, "opening": rec.protocol.opening, "roll": rec.protocol.roll_back}


def sheet_html(call: Call) -> Response:
    context = _context(call)
    record(call.store, call.who.username, call.who.role.value, AuditAction.VIEW_SHEET,
           call.patient_id, "html")
    return page("sheet.html", who=call.who, csrf=call.csrf, **context)


def sheet_pdf(call: Call) -> Response:
    html = render_html("sheet.html", who=None, csrf="", print_only=True, **_context(call))
    with tempfile.TemporaryDirectory(prefix="clamcoach-sheet-") as folder:
        src = Path(folder) / "sheet.html"
        src.write_text(html.replace('href="/workspace-static/workspace.css"',
                                    f'href="{(Path(__file__).with_name("static") / "workspace.css").as_uri()}"'),
                       "utf-8")
        try:
            pdf = write_pdf(src, Path(folder) / "sheet.pdf").read_bytes()
        except ClamcoachError as exc:
            return problem(503, f"The PDF could not be made: {exc}")
    record(call.store, call.who.username, call.who.role.value, AuditAction.VIEW_SHEET,
           call.patient_id, "pdf")
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": 'inline; filename="clamshell-exercise-sheet.pdf"',
        "cache-control": "no-store"})
