"""Frames out of the heap: frame-sized blocks freed on other threads give their memory back."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from clamcoach.io.memory import keep_frames_out_of_the_heap

# 300 frame-sized blocks, each freed between small arrays that stay (as a video's frames are
# between the engine's small arrays), then 100 held at once and freed: on a helper thread, as
# decoding runs. Prints how much the process kept (MB).
PATTERN = """
import sys, threading
import numpy as np
from clamcoach.io.memory import keep_frames_out_of_the_heap
if sys.argv[1] == "fixed":
    assert keep_frames_out_of_the_heap()
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
base = rss_mb()
kept = []
def work():
    for _ in range(300):
        frame = np.ones(1 << 17)
        kept.append(np.ones(16))
        del frame
    held = [np.ones(1 << 17) for _ in range(100)]
    kept.extend(np.ones(16) for _ in range(100))
    del held
thread = threading.Thread(target=work)
thread.start()
thread.join()
print(rss_mb() - base)
"""


def kept_mb(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", PATTERN, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_freed_frames_are_given_back_to_the_system():
    assert kept_mb("default") > 50  # glibc's moving threshold keeps them: what this prevents
    assert kept_mb("fixed") < 10


def test_the_setting_is_made_once_and_says_whether_it_holds():
    first = keep_frames_out_of_the_heap()
    assert keep_frames_out_of_the_heap() is first
    assert first is (platform.libc_ver()[0] == "glibc")
