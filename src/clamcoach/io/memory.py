"""Frames out of the heap: a long video's memory stays what a short one's is.

glibc serves a large block (a decoded frame, ~1 MB at 640x480) by mmap at first, but each such
block freed raises its mmap threshold, and from then on frames come from the heap arenas of the
threads that allocate them (decoding, the pose model, the engine run on three). Blocks freed
between small ones that stay cannot be given back, so the process grows with the video: a 10x
longer clip peaked at 1.5-2.4x the memory (``make bench``). A fixed threshold keeps every
frame-sized block in its own mapping, returned to the system when it is freed: 1.1x, at the
same speed. Other C libraries are left as they are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

#: glibc's mallopt parameter and the size from which a block gets its own mapping: above the
#: small arrays the engine makes by the thousand, below a frame or a model's tensors.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 256 * 1024

_done = False


def keep_frames_out_of_the_heap() -> bool:
    """Fix glibc's mmap threshold (once per process). True when the setting is in effect."""
    global _done
    if _done:
        return True
    if platform.libc_ver()[0] != "glibc":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return False
    _done = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    return _done
