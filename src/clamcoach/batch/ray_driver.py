"""Run :func:`clamcoach.batch.task.analyze_one` as Ray tasks, on this machine or a cluster.

Local (no ``address``): ``ray.init`` starts a one-machine Ray with ``workers`` CPUs that
stays on this machine, which takes three settings, made (in this process's environment,
for Ray's processes to inherit, and put back once Ray has started) before Ray is imported:

- ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: Ray's single-machine mode, whose node address is
  the loopback one. Otherwise Ray finds "its" address by a UDP connect to 8.8.8.8 (measured
  with strace), and passing ``127.0.0.1`` as the node address does not help: Ray turns a
  loopback address back into that probed one.
- ``RAY_USAGE_STATS_ENABLED=0`` and no dashboard (``include_dashboard=False``).
- Ray's remaining helper (the usage-stats module of its API server, which runs even with
  both off) asks cloud metadata addresses (169.254.169.254, metadata.google.internal)
  which cloud it is on. Ray's processes get an HTTP proxy on a closed loopback port, with
  loopback exempt, so that question fails at once on this machine and nothing leaves it.

With ``address`` it joins that cluster as it is (its operator decides its settings).
A task whose worker process dies (killed, out of memory, a crash in native code) is run
once more (``max_retries=1``); a second death marks the video failed. Application errors
are results, not retries: a bad video fails alone and at once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clamcoach.batch.task import AnalysisOptions, TaskResult, TaskStatus, analyze_one
from clamcoach.errors import ClamcoachError, OptionalDependencyMissing

log = logging.getLogger(__name__)

INSTALL_HINT = "clamcoach batch needs Ray: pip install 'clamcoach[batch]'"
#: Nothing listens on the discard port; a request sent to this proxy fails at once.
_DEAD_END_PROXY = "http://127.0.0.1:9"
LOCAL_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "token",  # Ray's own default for a local Ray since 2.59; said, not assumed
    # Ray lowers its workers' priority (nice 15) by default; a batch runs at the priority of
    # the command that started it, as `analyze` does (`nice clamcoach batch` to lower it).
    "RAY_worker_niceness": "0",
    # Each video's fresh tracker starts new native threads, and glibc gives threads arenas
    # of their own: a worker's peak memory then grew 360 -> 568 MB over 12 videos. Two
    # arenas keep it flat (measured in one process: 271 -> 330 MB over 8 videos, else 303 -> 455).
    "MALLOC_ARENA_MAX": "2",
    "RAY_USAGE_STATS_ENABLED": "0",
    "http_proxy": _DEAD_END_PROXY, "https_proxy": _DEAD_END_PROXY,
    "HTTP_PROXY": _DEAD_END_PROXY, "HTTPS_PROXY": _DEAD_END_PROXY,
    "no_proxy": "127.0.0.1,localhost,::1", "NO_PROXY": "127.0.0.1,localhost,::1",
}
#: Tasks waiting in Ray per worker: enough to keep every worker busy, few enough that
#: results do not pile up in memory.
IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True, slots=True)
class Submitted:
    """One video handed to Ray: ``token`` is the caller's (its job)."""

    token: Any
    video: Path
    options: AnalysisOptions


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise OptionalDependencyMissing(INSTALL_HINT) from None
    return ray


class RayCluster:
    """A started (or joined) Ray, for the length of a ``with`` block."""

    def __init__(self, *, workers: int | None = None, address: str | None = None) -> None:
        self.address = address
        with _environment(LOCAL_ENV if address is None else {}):
            self.ray = _import_ray()  # after the settings: Ray reads some of them on import
            if address is None and self.ray._private.ray_constants.ENABLE_RAY_CLUSTER:
                raise ClamcoachError("Ray was imported before clamcoach could keep it on this machine; "
                                     "run `clamcoach batch` in a fresh process")
            kwargs: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
            if address is None:
                kwargs.update(num_cpus=workers, include_dashboard=False)
            try:
                self.ray.init(address=address or "local", **kwargs)  # Ray's processes inherit them
            except (ConnectionError, RuntimeError, ValueError) as err:
                where = address or "this machine"
                raise ClamcoachError(f"cannot start Ray on {where}: {err}") from err
        self.workers = int(self.ray.cluster_resources().get("CPU", 1))
        self._remote = self.ray.remote(max_retries=1, retry_exceptions=False, num_cpus=1)(analyze_one)

    def close(self) -> None:
        self.ray.shutdown()

    def __enter__(self) -> RayCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, items: Iterable[Submitted]) -> Iterator[tuple[Submitted, TaskResult]]:
        """Each item's result as soon as it is ready (not in order); at most
        ``IN_FLIGHT_PER_WORKER * workers`` tasks are in Ray at once. Closing the iterator
        early (an interrupt) cancels what is still in flight."""
        todo = iter(items)
        in_flight: dict[Any, Submitted] = {}
        limit = max(1, IN_FLIGHT_PER_WORKER * self.workers)
        try:
            while True:
                while len(in_flight) < limit and (item := next(todo, None)) is not None:
                    in_flight[self._remote.remote(str(item.video), item.options)] = item
                if not in_flight:
                    return
                ready, _ = self.ray.wait(list(in_flight), num_returns=1, timeout=1.0)
                for ref in ready:
                    item = in_flight.pop(ref)
                    yield item, self._result(ref)
        finally:
            for ref in in_flight:
                self.ray.cancel(ref, force=True)

    def _result(self, ref: Any) -> TaskResult:
        exceptions = self.ray.exceptions
        try:
            return self.ray.get(ref)
        except (exceptions.WorkerCrashedError, exceptions.OutOfMemoryError, exceptions.NodeDiedError) as err:
            return TaskResult(TaskStatus.FAILED, 1, f"its worker died twice ({_first_line(err)})", 0.0)
        except exceptions.RayTaskError as err:  # a bug, not a bad video: say so, go on
            return TaskResult(TaskStatus.FAILED, 1, f"internal error: {_first_line(err.cause or err)}", 0.0)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set ``values`` in this process's environment for the block, then put back what was."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return (lines[0] if lines else type(err).__name__)[:300]
