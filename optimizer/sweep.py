"""Run a sweep on Dask: a local cluster by default, an existing cluster by address.

Workers only compute: each task applies one scenario's overrides to the base spec and runs
the job, catching its errors, and returns an `Outcome`. The client stores each outcome as
it arrives, so whatever finished before an interruption is kept and a re-run submits only
the scenarios the store does not have. Submission is windowed (a few tasks per worker
thread in flight), so stopping early leaves little work to cancel.
"""

from __future__ import annotations

import logging
import signal
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from optimizer.jobs import Job, get_job
from optimizer.scenarios import Scenario, Sweep
from optimizer.store import Outcome, RunRecord, Store, run_meta, sweep_row
from twin.errors import SpecError
from twin.overrides import apply_overrides
from twin.spec import Spec

CONNECT_TIMEOUT_S = 10
MAX_GREETING_FRAMES = 1024  # a Dask message has a handful of frames
GREETING_TIMEOUT_S = 5.0  # a Dask scheduler greets at once; a silent port is not one
TASKS_PER_THREAD = 4


class SchedulerUnreachable(Exception):
    """The scheduler address given could not be reached."""


@dataclass(frozen=True)
class Summary:
    """How a sweep went: `skipped` were stored before it started; `remaining` need a re-run."""

    sweep_id: str
    scenarios: int
    skipped: int
    ok: int
    failed: int
    elapsed_s: float
    workers: int

    @property
    def remaining(self) -> int:
        """Scenarios neither stored before nor during this run."""
        return self.scenarios - self.skipped - self.ok - self.failed


def run_scenario(base: Spec, job: Job, overrides: dict[str, Any], seed: int, meta: dict[str, Any] | None = None) -> Outcome:
    """Apply the overrides and run the job; an error becomes part of the outcome, not a crash.

    `meta` (the run's and its sweep's rows) is kept in the series file for `aift runs repair`.
    """
    t0 = time.perf_counter()
    spec_hash = None
    try:
        spec = apply_overrides(base, overrides)
        spec_hash = spec.spec_hash()
        return Outcome.of(job(spec, seed), spec_hash, time.perf_counter() - t0, meta)
    except SpecError as exc:
        error = f"invalid overrides:\n{exc}"
    except Exception:  # noqa: BLE001 - any failure of one scenario is recorded, and the sweep goes on
        error = traceback.format_exc()
    return Outcome.failure(error, spec_hash, time.perf_counter() - t0)


def pending(sweep: Sweep, store: Store, retry_failed: bool = False) -> list[Scenario]:
    """The scenarios of `sweep` that the store has no result for (or only a failure, if retrying)."""
    done = store.finished((s.id for s in sweep.scenarios), include_failed=not retry_failed)
    return [s for s in sweep.scenarios if s.id not in done]


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Client of the cluster at `scheduler`, or of a new local cluster of `workers` processes."""
    from dask.system import CPU_COUNT
    from distributed import Client, LocalCluster

    if scheduler:
        probe_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers or CPU_COUNT,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
            preload=[__name__],  # runs dask_setup below in each worker
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def probe_scheduler(address: str, timeout_s: float | None = None) -> None:
    """Check that a TCP address speaks Dask before Dask itself connects; SchedulerUnreachable otherwise.

    A Dask listener greets each connection with a framed handshake whose first 8 bytes are a
    small little-endian frame count. Dask's own client trusts whatever comes back: an HTTP
    server's "HTTP/1.1" read as a frame length asks for exabytes, and a silent port can hold
    it well past its timeout. This probe reads the greeting itself, within `timeout_s`.
    Other transports (tls://, ucx://) are left to Dask.
    """
    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "tcp"):
        return
    timeout_s = GREETING_TIMEOUT_S if timeout_s is None else timeout_s
    host, _, port = rest.rpartition(":")
    try:
        port_number = int(port)
    except ValueError:
        raise SchedulerUnreachable(f"{address} is not a scheduler address; write tcp://HOST:PORT") from None
    deadline = time.monotonic() + timeout_s
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", port_number), timeout=timeout_s) as sock:
            greeting = b""
            while len(greeting) < 8:
                sock.settimeout(max(deadline - time.monotonic(), 0.01))
                chunk = sock.recv(8 - len(greeting))
                if not chunk:
                    raise SchedulerUnreachable(f"{address} closed the connection without a Dask greeting; is it a Dask scheduler?")
                greeting += chunk
    except TimeoutError:
        raise SchedulerUnreachable(f"{address} did not greet as a Dask scheduler within {timeout_s:g} s "
                                   "(a silent port, or another kind of server); check the address and that the scheduler runs") from None
    except OSError as exc:
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}") from None
    if int.from_bytes(greeting, "little") > MAX_GREETING_FRAMES:
        raise SchedulerUnreachable(f"{address} answered, but not as a Dask scheduler (its first bytes are no Dask frame count); "
                                   "check the address and port")


def dask_setup(worker: Any) -> None:
    """Leave Ctrl-C to the client of a local cluster: it stops the sweep, then closes the workers.

    A terminal sends Ctrl-C to every process of the sweep; workers that died of it would
    print tracebacks and lose their running scenario before the client could cancel it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def execute(
    sweep: Sweep,
    todo: list[Scenario],
    store: Store,
    client: Any,
    on_stored: Callable[[RunRecord], None] | None = None,
) -> Summary:
    """Run `todo` on the cluster, storing each run as it arrives; Ctrl-C stops early and cleanly."""
    from distributed import as_completed

    t0 = time.perf_counter()
    job = get_job(sweep.job)
    nthreads = client.nthreads()
    spec = client.scatter(sweep.spec, broadcast=True, hash=False)
    sweep_meta = sweep_row(sweep)
    queue = iter(todo)
    in_flight: dict[str, tuple[Any, Scenario]] = {}
    arrivals = as_completed(with_results=True, raise_errors=False)

    def submit_next() -> None:
        scenario = next(queue, None)
        if scenario is not None:
            meta = {"run": run_meta(scenario.id, sweep.id, scenario.name, scenario.overrides, sweep.job, scenario.seed), "sweep": sweep_meta}
            future = client.submit(run_scenario, spec, job, scenario.overrides, scenario.seed, meta, key=f"aift-scenario-{scenario.id}")
            in_flight[future.key] = (future, scenario)
            arrivals.add(future)

    counts = {"ok": 0, "failed": 0}
    try:
        for _ in range(TASKS_PER_THREAD * max(1, sum(nthreads.values()))):
            submit_next()
        for future, value in arrivals:
            _, scenario = in_flight.pop(future.key)
            submit_next()  # keep the workers busy while this result is written
            if future.status == "finished":
                outcome = value
            elif future.status == "error":
                _, exc, _ = value  # failed outside run_scenario: a worker killed too often, say
                outcome = Outcome.failure(f"{type(exc).__name__}: {exc}")
            else:
                continue  # cancelled or lost with the cluster, not a result: the next run submits it again
            run = _record(sweep, scenario, outcome)
            store.record(run)
            counts[outcome.status] += 1
            if on_stored:
                on_stored(run)
    except KeyboardInterrupt:
        client.cancel([f for f, _ in in_flight.values()])
    return Summary(
        sweep.id, len(sweep.scenarios), len(sweep.scenarios) - len(todo), counts["ok"], counts["failed"],
        time.perf_counter() - t0, len(nthreads),
    )


def _record(sweep: Sweep, scenario: Scenario, outcome: Outcome) -> RunRecord:
    return RunRecord(scenario.id, sweep.id, scenario.name, scenario.overrides, sweep.job, scenario.seed, outcome)
