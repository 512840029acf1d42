"""Functions run in child processes by the concurrency tests (importable, small imports)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def save_many(url: str, who: int, n: int, barrier, done) -> None:
    from clamcoach.storage import open_store
    from tests.report.samples import make_report

    barrier.wait(timeout=60)  # both open (and migrate) a fresh database at the same moment
    t0 = datetime(2026, 10, 5, 8, tzinfo=timezone.utc)
    with open_store(url) as store:
        for i in range(n):
            store.save_analysis("shared", make_report(f"/v/w{who}-{i}.mp4"),
                                recorded_at=t0 + timedelta(hours=i, minutes=who))
    done.put((who, n))
