"""Uploading a recorded set: the file is streamed to a private temporary folder, analysed on
one worker thread (the pose model is heavy; one upload at a time), saved to the patient, and
deleted. The page polls the job's status for its progress bar.

``run_upload`` analyses with the batch task (``clamcoach.batch.analyze_one``, what
``clamcoach batch`` runs for each video), so an upload and a batch job of the same clip give
the same report; the upload then saves it checked against the patient's prescription, as
``clamcoach analyze VIDEO --patient NAME`` does.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Callable

from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from clamcoach.errors import ClamcoachError
from clamcoach.protocol import load_protocol
from clamcoach.storage.audit import AuditAction, record
from clamcoach.storage.repository import Store
from clamcoach.storage.sets import SavedSet, save_set
from clamcoach.web.i18n import N_
from clamcoach.web.workspace.guard import Call
from clamcoach.web.workspace.render import HEADERS, page, problem, redirect

log = logging.getLogger(__name__)
CHUNK = 1 << 20
MAX_JOBS_KEPT = 200


class UploadFailed(ClamcoachError):
    """The batch task could not analyse the upload; says why in ``analyze``'s words."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def run_upload(store: Store, patient: str, video: Path, *,
               progress: Callable[[int, int], None] | None = None) -> SavedSet:
    """Analyse ``video`` with ``patient``'s prescribed protocol through the batch task and
    save it to them, checked against the prescription. Raises UploadFailed for a video the
    task could not analyse."""
    from clamcoach.batch import AnalysisOptions, TaskStatus, analyze_one

    protocol = load_protocol(patch=store.protocol_patch(patient))
    result = analyze_one(video, AnalysisOptions(protocol), progress=progress)
    if result.status is not TaskStatus.OK or result.report is None:
        raise UploadFailed(result.message, result.exit_code)
    # The task's report is what `batch` writes; the check (with today's sets) and where it
    # was saved are added by the save.
    return save_set(store, patient, protocol, result.report, result.report, result.series_frames,
                    kind="analyze")


@dataclass
class Job:
    id: str
    patient_id: int
    file_name: str
    state: str = "queued"          # queued, running, done, failed
    done: int = 0
    total: int = 0
    session_id: int | None = None
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def status(self) -> dict[str, Any]:
        with self.lock:
            percent = 100 if self.state == "done" else (
                min(99, int(100 * self.done / self.total)) if self.total else 0)
            url = (f"/patients/{self.patient_id}/sessions/{self.session_id}"
                   if self.session_id is not None else None)
            return {"state": self.state, "percent": percent, "file": self.file_name,
                    "report_url": url, "error": self.error}


class Uploads:
    """The upload jobs of one server (in memory: a job is minutes long)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.jobs: dict[str, Job] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clamcoach-upload")
        self._lock = threading.Lock()

    def submit(self, patient_id: int, patient: str, folder: Path, video: Path, actor: tuple[str, str]) -> Job:
        job = Job(secrets.token_urlsafe(12), patient_id, video.name)
        with self._lock:
            self.jobs[job.id] = job
            for old in list(self.jobs)[:-MAX_JOBS_KEPT]:
                del self.jobs[old]
        self._pool.submit(self._run, job, patient, folder, video, actor)
        return job

    def _run(self, job: Job, patient: str, folder: Path, video: Path, actor: tuple[str, str]) -> None:
        def progress(done: int, total: int) -> None:
            with job.lock:
                job.done, job.total = done, total

        with job.lock:
            job.state = "running"
        try:
            saved = run_upload(self.store, patient, video, progress=progress)
            record(self.store, *actor, AuditAction.UPLOAD, job.patient_id,
                   f"session {saved.session_id} from {video.name}")
            with job.lock:
                job.state, job.session_id = "done", saved.session_id
        except ClamcoachError as exc:
            with job.lock:
                job.state, job.error = "failed", str(exc)
        except Exception as exc:  # the worker must survive any one bad video; say it failed
            log.exception("upload %s failed", job.id)
            with job.lock:
                job.state, job.error = "failed", f"the analysis failed: {exc}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _safe_name(name: str | None) -> str:
    base = PurePath(name or "upload.mp4").name.strip().replace("\x00", "")
    keep = "".join(c for c in base if c.isalnum() or c in "._- ")[:120].strip(" .")
    return keep or "upload.mp4"


def start_upload(call: Call) -> Response:
    upload = call.form.get("video") if call.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return problem(400, N_("Choose a video file to upload."))
    uploads: Uploads = call.ws.uploads
    folder = Path(tempfile.mkdtemp(prefix="clamcoach-upload-"))
    video = folder / _safe_name(upload.filename)
    try:
        with open(video, "wb") as out:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, out, CHUNK)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return problem(507, f"The upload could not be stored: {exc.strerror or exc}")
    patient = call.store.patient_name(call.patient_id)
    job = uploads.submit(call.patient_id, patient, folder, video,
                         (call.who.username, call.who.role.value))
    return redirect(f"/patients/{call.patient_id}/uploads/{job.id}")


def _job(call: Call) -> Job | None:
    job = call.ws.uploads.jobs.get(call.request.path_params["job"])
    return job if job is not None and job.patient_id == call.patient_id else None


def show_upload(call: Call) -> Response:
    job = _job(call)
    if job is None:
        return problem(404, N_("There is no such upload."))
    return page("upload.html", who=call.who, csrf=call.csrf, job=job, job_status=job.status(),
                patient_id=call.patient_id)


def upload_status(call: Call) -> Response:
    job = _job(call)
    if job is None:
        return JSONResponse({"error": "no such upload"}, status_code=404, headers=HEADERS)
    return JSONResponse(job.status(), headers=HEADERS)
