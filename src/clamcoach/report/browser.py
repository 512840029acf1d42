"""Headless Chromium for the report: print to PDF, take a screenshot.

The flags keep Chromium off the network (the machine may have none) and away from the
user's profile; as root it needs --no-sandbox.
"""

from __future__ import annotations

import os
import shutil
import contextlib
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from clamcoach.errors import OptionalDependencyMissing, OutputError

ENV_BROWSER = "CLAMCOACH_CHROMIUM"
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
    "--disable-extensions", "--hide-scrollbars", "--mute-audio", "--no-pings",
    "--disable-domain-reliability", "--disable-client-side-phishing-detection",
    "--disable-default-apps", "--disable-breakpad",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter",
    # Resolve no host name at all: a report is one self-contained file, and Chromium's own
    # background calls (update checks, clock) must not leave the machine either.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def find_chromium() -> str:
    """$CLAMCOACH_CHROMIUM, else the first Chromium on PATH."""
    given = os.environ.get(ENV_BROWSER)
    if given:
        return given
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise OptionalDependencyMissing(
        "headless Chromium is needed for PDF output: apt-get install chromium "
        f"(or set {ENV_BROWSER})"
    )


def run(args: Sequence[str], timeout_s: float = 120.0) -> subprocess.CompletedProcess:
    """Run Chromium headless with a throwaway profile; OutputError when it fails."""
    exe = find_chromium()
    with tempfile.TemporaryDirectory(prefix="clamcoach-chromium-") as profile:
        cmd = [exe, *FLAGS, f"--user-data-dir={profile}", *args]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise OutputError(f"Chromium took longer than {timeout_s:.0f} s") from exc
        except OSError as exc:
            raise OutputError(f"cannot run Chromium ({exe}): {exc}") from exc
    if done.returncode != 0:
        raise OutputError(f"Chromium failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done


@contextlib.contextmanager
def _atomic_output(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path with the destination's extension (Chromium picks the format from
    it), in the destination's folder; moved into place only on success."""
    final = Path(dest)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{final.name}.", dir=final.parent) as tmpdir:
            tmp = Path(tmpdir) / f"out{final.suffix}"
            yield tmp
            if not tmp.is_file() or tmp.stat().st_size == 0:
                raise OutputError(f"Chromium wrote nothing for {final}")
            os.replace(tmp, final)
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {exc}") from exc


def write_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str],
              timeout_s: float = 120.0) -> Path:
    """Print an HTML file to PDF (A4-ish, no header/footer), atomically."""
    src = Path(html_path).resolve()
    if not src.is_file():
        raise OutputError(f"no HTML file at {src}")
    with _atomic_output(pdf_path) as tmp:
        run([f"--print-to-pdf={tmp}", "--no-pdf-header-footer", src.as_uri()], timeout_s)
        with open(tmp, "rb") as f:
            if f.read(5) != b"%PDF-":
                raise OutputError("Chromium did not write a PDF")
    return Path(pdf_path)


def screenshot(html_path: str | os.PathLike[str], png_path: str | os.PathLike[str],
               width: int = 1100, height: int = 3000, timeout_s: float = 120.0,
               extra_args: Sequence[str] = ()) -> Path:
    """A PNG of the page as Chromium renders it (``width`` x ``height`` window)."""
    src = Path(html_path).resolve()
    with _atomic_output(png_path) as tmp:
        run([*extra_args, f"--screenshot={tmp}", f"--window-size={width},{height}",
             src.as_uri()], timeout_s)
    return Path(png_path)


def dump_dom(html_path: str | os.PathLike[str], timeout_s: float = 120.0,
             extra_args: Sequence[str] = ()) -> str:
    """The DOM after Chromium loaded the page, serialised."""
    return run([*extra_args, "--dump-dom", Path(html_path).resolve().as_uri()], timeout_s).stdout
