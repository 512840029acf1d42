"""Tables for other tools: the per-frame measures of one analysis (CSV), and a patient's
history (CSV, one row per rep; or JSON, everything). Every file is written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any, Iterable, Mapping

from clamcoach.io.atomic import write_text_atomic
from clamcoach.jsonio import rounded
from clamcoach.series import FrameSeries, MEASURE_COLUMNS
from clamcoach.types import LANDMARKS

FRAME_COLUMNS = ("t", "phase", "rep", *MEASURE_COLUMNS, "hand_on_hip")
HISTORY_COLUMNS = (
    "patient", "session_id", "recorded_at", "kind", "source_name", "camera_view", "top_side",
    "prescription_version", "session_reps", "session_clean_reps", "rep", "start_s", "end_s",
    "opening_deg", "knee_lift_cm", "roll_back_deg", "trunk_roll_back_deg", "ankle_gap_cm",
    "up_s", "hold_s", "down_s", "clean", "findings",
)


def _cell(value: Any) -> Any:
    """Empty for missing/NaN; floats trimmed; everything else as is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        cell = rounded(value, 4)
        return "" if cell is None else cell
    return value


def _csv_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue()


def write_frames_csv(path: str | os.PathLike[str], frames: FrameSeries, *, landmarks: bool = False) -> None:
    """One row per frame: t, phase, rep and every measure (NaN as an empty cell; hand on hip
    as 1, 0 or empty). With ``landmarks``, also x, y, visibility of the 33 image landmarks (px)."""
    header = list(FRAME_COLUMNS)
    if landmarks:
        header += [f"{n}_{c}" for n in LANDMARKS for c in ("x", "y", "vis")]
    columns = [frames.column(c).tolist() for c in FRAME_COLUMNS[3:]]
    lms = frames.landmarks if landmarks else None
    if landmarks and lms is None:
        raise ValueError("this frame series kept no landmarks")

    def rows():
        for i, t in enumerate(frames.t.tolist()):
            row = [t, frames.phase_at(i).value, frames.rep_at(i), *(col[i] for col in columns)]
            if lms is not None:
                row += lms[i].reshape(-1).tolist()
            yield row

    write_text_atomic(path, _csv_text(header, rows()))


def history_rows(export: Mapping[str, Any]) -> list[list[Any]]:
    """Rows of HISTORY_COLUMNS from ``Store.export(patient)``; a session without reps is
    one row with empty rep cells, so it still shows."""
    out = []
    for s in export.get("sessions") or []:
        head = [export.get("patient"), s["id"], s["recorded_at"], s["kind"], s.get("source_name"),
                s.get("camera_view"), s.get("top_side"), s.get("prescription_version"),
                s.get("reps"), s.get("clean_reps")]
        reps = s.get("rep_detail") or []
        if not reps:
            out.append(head + [None] * (len(HISTORY_COLUMNS) - len(head)))
        for r in reps:
            codes = ";".join(f"{f['code']}:{f['severity']}" for f in r.get("findings") or [])
            out.append(head + [r.get(c) for c in (
                "index", "start_s", "end_s", "opening_deg", "knee_lift_cm", "roll_back_deg",
                "trunk_roll_back_deg", "ankle_gap_cm", "up_s", "hold_s", "down_s", "clean")]
                + [codes])
    return out


def history_csv(export: Mapping[str, Any]) -> str:
    return _csv_text(HISTORY_COLUMNS, history_rows(export))


def write_history_csv(path: str | os.PathLike[str], export: Mapping[str, Any]) -> None:
    write_text_atomic(path, history_csv(export))


def write_history_json(path: str | os.PathLike[str], export: Mapping[str, Any]) -> None:
    # allow_nan=False: NaN is not JSON; the store never holds one, so this only guards.
    write_text_atomic(path, json.dumps(export, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
