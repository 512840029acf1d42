"""Write outputs atomically: a reader sees the old file or the complete new one, never half.

The temporary file lives in the destination's folder so ``os.replace`` is a rename on one
file system. Every ``OSError`` becomes :class:`clamcoach.errors.OutputError`. A missing folder
is an error, never created: a typo in a path must not make folders. :func:`check_writable`
tells before a long job whether its output could be written at all.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from clamcoach.errors import OutputError


def _describe(err: OSError, path: Path) -> str:
    reason = err.strerror or str(err) or type(err).__name__
    return f"cannot write {path}: {reason}"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it into place, else remove it.

    The caller writes the temporary path however it likes (a library that wants a file
    name, such as a video writer). The destination's folder must exist.
    """
    dest = Path(path)
    _check_folder(dest)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        os.close(fd)
    except OSError as err:
        raise OutputError(_describe(err, dest)) from err
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600; give the result the permissions a normal write would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, dest)
    except OSError as err:
        _remove_quietly(tmp)
        raise OutputError(_describe(err, dest)) from err
    except BaseException:
        _remove_quietly(tmp)
        raise


def _check_folder(dest: Path) -> None:
    folder = dest.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"cannot write {dest}: folder {folder} {what}")


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Raise :class:`OutputError` unless ``path`` could be written atomically now: its folder
    exists and takes a new file, and it is not a folder or a read-only file itself."""
    dest = Path(path)
    _check_folder(dest)
    if dest.is_dir():
        raise OutputError(f"cannot write {dest}: it is a folder")
    if dest.exists() and not os.access(dest, os.W_OK):
        raise OutputError(f"cannot write {dest}: the file is read-only")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".probe", dir=dest.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OutputError(_describe(err, dest)) from err
    return dest


def _remove_quietly(tmp: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (flushed to disk before the rename)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_bytes_atomic(path, text.encode(encoding))
