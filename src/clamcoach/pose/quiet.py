"""Silence the pose library's native (C++) log lines on stderr while it starts up.

mediapipe's C++ code writes INFO/WARNING lines (GPU probes, delegate notes) straight to file
descriptor 2, where no Python logging setting reaches; a patient should see none of them.
``CLAMCOACH_NATIVE_LOGS=1`` (set by ``clamcoach --debug``) keeps them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def native_stderr_quiet() -> Iterator[None]:
    if os.environ.get("CLAMCOACH_NATIVE_LOGS") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (embedded use): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
