"""Progress of a batch: a bar on a terminal (tqdm), one plain line per video otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from clamcoach.batch.index import VideoRecord
from clamcoach.errors import OptionalDependencyMissing


class Progress:
    """Counts done / failed / left; shows rate and time left."""

    def __init__(self, total: int, *, skipped: int = 0, stream: TextIO | None = None,
                 bar: bool | None = None, quiet: bool = False) -> None:
        self.total = total
        self.ok = 0
        self.failed = 0
        self.skipped = skipped
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self._start = time.monotonic()
        use_bar = self.stream.isatty() if bar is None else bar
        self._bar = None
        if use_bar and not quiet:
            try:
                from tqdm import tqdm
            except ImportError:
                raise OptionalDependencyMissing("the progress bar needs tqdm: pip install 'clamcoach[batch]'") from None

            self._bar = tqdm(total=total, unit="video", file=self.stream, dynamic_ncols=True,
                             desc="analysing", smoothing=0.1)
            self._bar.set_postfix_str(self._counts(), refresh=False)

    @property
    def left(self) -> int:
        return self.total - self.ok - self.failed

    def _counts(self) -> str:
        return f"done {self.ok}, failed {self.failed}, left {self.left}"

    def start_line(self, workers: int, where: str, start_s: float) -> None:
        if not self.quiet:
            self._write(f"batch: {self.total} to analyse, {self.skipped} already done; "
                        f"{workers} workers on {where} (Ray started in {start_s:.1f} s)")

    def update(self, record: VideoRecord) -> None:
        if record.status == "ok":
            self.ok += 1
        else:
            self.failed += 1
        if self._bar is not None:
            self._bar.set_postfix_str(self._counts(), refresh=False)
            self._bar.update(1)
            if record.status != "ok":
                self._bar.write(f"failed {record.id}: {record.message}", file=self.stream)
            return
        if self.quiet:
            return
        done = self.ok + self.failed
        elapsed = time.monotonic() - self._start
        rate = done / elapsed * 60 if elapsed > 0 else 0.0
        eta = self.left / (done / elapsed) if done and elapsed > 0 else float("nan")
        what = (f"ok ({record.reps} reps, {record.seconds:.1f} s)" if record.status == "ok"
                else f"failed (exit {record.exit_code}): {record.message}")
        self._write(f"[{done}/{self.total}] {record.id}: {what}; {self._counts()}, "
                    f"{rate:.1f}/min, about {_clock(eta)} left")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    if seconds != seconds:  # NaN: not known yet
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
