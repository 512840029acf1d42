"""What a batch analyses: a folder searched for videos, or a manifest (CSV or JSON lines).

A manifest has a ``path`` column (relative paths are taken from the manifest's folder) and
optional ``patient`` and ``id`` columns. ``--patient-map`` (CSV: ``id`` or ``path``, and
``patient``) names the patients of a folder's videos. Every problem in the input is
reported in one message; a video file that is missing or unreadable is *not* an input
problem: it fails alone when analysed.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from clamcoach.errors import InputNotFound, UsageError

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"})
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_MAX_LISTED = 10


@dataclass(frozen=True, slots=True)
class VideoJob:
    """One video of the batch: its id names the outputs (``<id>.json``, ``<id>.html``)."""

    id: str
    path: Path
    patient: str | None = None


def read_jobs(source: str | Path, *, patient_map: str | Path | None = None) -> list[VideoJob]:
    """The batch's videos, in a stable order (a folder's sorted by path, a manifest's as listed)."""
    src = Path(source)
    if not src.exists():
        raise InputNotFound(f"no such folder or manifest: {src}")
    problems: list[str] = []
    if src.is_dir():
        jobs = _folder_jobs(src)
        if not jobs:
            raise UsageError(f"no videos ({', '.join(sorted(VIDEO_SUFFIXES))}) in {src}")
    elif src.suffix.lower() in VIDEO_SUFFIXES:  # one video: a batch of one
        jobs = [VideoJob(_id_from_path(Path(src.name)), src.resolve())]
    else:
        jobs = _manifest_jobs(src, problems)
    if patient_map is not None:
        jobs = _apply_patient_map(jobs, Path(patient_map), problems)
    _check_ids(jobs, problems)
    if problems:
        more = f" (and {len(problems) - _MAX_LISTED} more)" if len(problems) > _MAX_LISTED else ""
        raise UsageError(f"{src}: " + "; ".join(problems[:_MAX_LISTED]) + more)
    return jobs


def _folder_jobs(folder: Path) -> list[VideoJob]:
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    return [VideoJob(_id_from_path(p.relative_to(folder)), p.resolve()) for p in paths]


def _id_from_path(relative: Path) -> str:
    """``clinic a/set 1.mp4`` -> ``clinic_a--set_1``: folders joined by ``--``, other unsafe
    characters replaced by ``_``."""
    parts = [*relative.parent.parts, relative.stem]
    return "--".join(re.sub(r"[^A-Za-z0-9._-]", "_", part) for part in parts).lstrip("._-") or "video"


def _manifest_jobs(manifest: Path, problems: list[str]) -> list[VideoJob]:
    rows = _read_rows(manifest)
    base = manifest.resolve().parent
    jobs: list[VideoJob] = []
    for line, row in rows:
        where = f"line {line}"
        unknown = set(row) - {"path", "patient", "id"}
        if unknown:
            problems.append(f"{where}: unknown column(s) {', '.join(sorted(unknown))}")
        path_text = _text(row.get("path"))
        if not path_text:
            problems.append(f"{where}: no path")
            continue
        path = Path(path_text).expanduser()
        path = path if path.is_absolute() else base / path
        job_id = _text(row.get("id")) or _id_from_path(Path(Path(path_text).name))
        jobs.append(VideoJob(job_id, path.resolve(), _text(row.get("patient"))))
    if not rows:
        problems.append("the manifest lists no videos")
    return jobs


def _read_rows(manifest: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = manifest.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{manifest} is not a text manifest (CSV or JSON lines, UTF-8)") from None
    except OSError as err:
        raise UsageError(f"cannot read {manifest}: {err.strerror or err}") from None
    if manifest.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return _json_lines(manifest, text)
    return _csv_rows(manifest, text)


def _csv_rows(manifest: Path, text: str, need: str = "path") -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    if need not in header:
        raise UsageError(f"{manifest}: a CSV needs a header with a {need!r} column "
                         f"(see docs/BATCH.md); found {', '.join(header) or 'none'}")
    reader.fieldnames = header
    return [(i + 2, {k: v for k, v in row.items() if k is not None})
            for i, row in enumerate(reader) if any(_text(v) for v in row.values())]


def _json_lines(manifest: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    bad: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            bad.append(f"line {number}: not JSON ({err.msg})")
            continue
        if not isinstance(row, dict):
            bad.append(f"line {number}: not an object")
            continue
        rows.append((number, row))
    if bad:
        raise UsageError(f"{manifest}: " + "; ".join(bad[:_MAX_LISTED]))
    return rows


def _apply_patient_map(jobs: list[VideoJob], mapping_file: Path, problems: list[str]) -> list[VideoJob]:
    by_key: dict[str, str] = {}
    for line, row in _csv_map_rows(mapping_file):
        patient = _text(row.get("patient"))
        keys = [k for k in (_text(row.get("id")), _resolved(mapping_file, _text(row.get("path")))) if k]
        if not patient or not keys:
            problems.append(f"patient map line {line}: needs 'patient' and 'id' or 'path'")
            continue
        for key in keys:
            by_key[key] = patient
    mapped: list[VideoJob] = []
    for job in jobs:
        patient = by_key.get(job.id) or by_key.get(str(job.path))
        if patient and job.patient and patient != job.patient:
            problems.append(f"{job.id}: the manifest says patient {job.patient!r}, the map {patient!r}")
        mapped.append(replace(job, patient=job.patient or patient))
    return mapped


def _csv_map_rows(mapping_file: Path) -> list[tuple[int, dict[str, Any]]]:
    if not mapping_file.is_file():
        raise InputNotFound(f"no such patient map: {mapping_file}")
    rows = _csv_rows(mapping_file, mapping_file.read_text("utf-8-sig"), need="patient")
    if rows and not any(k in rows[0][1] for k in ("id", "path")):
        raise UsageError(f"{mapping_file}: a patient map is a CSV with 'patient' and 'id' or 'path' columns")
    return rows


def _resolved(mapping_file: Path, path_text: str | None) -> str | None:
    if not path_text:
        return None
    path = Path(path_text).expanduser()
    return str((path if path.is_absolute() else mapping_file.resolve().parent / path).resolve())


def _check_ids(jobs: list[VideoJob], problems: list[str]) -> None:
    seen: dict[str, Path] = {}
    for job in jobs:
        if not _SAFE_ID.match(job.id):
            problems.append(f"id {job.id!r} is not a safe file name (letters, digits, '.', '_', '-')")
        if job.id in seen:
            problems.append(f"id {job.id!r} is used twice ({seen[job.id]} and {job.path}); give an 'id' column")
        seen.setdefault(job.id, job.path)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
