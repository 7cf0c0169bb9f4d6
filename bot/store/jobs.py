"""A small job runner: jobs are rows in the store, run by our own worker threads.

Slow work (carrier calls, uploads) never runs on Bolt's listener threads, so a burst of
slow clicks cannot starve the acks. Because jobs are rows, a restart picks up whatever a
dead process left unfinished.

`shipbot serve` runs the jobs in a worker process of their own (bot/worker.py): the process
that answers Slack only writes the row and pokes the worker (`WorkerLink`), which reads the
table's new rows (`pull`): the table is the truth, the poke only saves the polling delay.
"""

from __future__ import annotations

import heapq
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from pydantic import ValidationError

from bot import logfmt
from bot.store.db import Database, now_iso
from bot.store.job_payloads import JobPayload

log = logging.getLogger("shipbot.jobs")

P = TypeVar("P", bound=JobPayload)
JobHandler = Callable[[P], None]
# Called with the payload and what made the last attempt fail (a RetryLater, or anything else).
GiveUpHandler = Callable[[P, Exception], None]


class WorkerLink(Protocol):
    """The process that runs the jobs, seen from the one that only queues them."""

    def poke(self) -> None:
        """New rows: read the table now."""

    def problem(self) -> str | None:
        """None while the worker runs; else what is wrong (for the readiness check)."""


class RetryLater(Exception):
    """Raised by a handler whose work failed for a passing reason (e.g. Slack was down)."""

    def __init__(self, reason: str, *, delay: float | None = None, counts: bool = True) -> None:
        super().__init__(reason)
        self.delay = delay
        # False for "wait your turn" (Slack's Retry-After): no attempt is used up by it.
        self.counts = counts


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: JobPayload
    attempts: int


@dataclass(frozen=True)
class RunnerHolder:
    """Who runs this database's jobs now (for the one-line refusal of a second runner)."""

    pid: int
    host: str
    started_at: str


# A runner that has not beaten its heart for this long is taken to be dead.
LEASE_STALE_AFTER = 15.0
HEARTBEAT_EVERY = 3.0


class JobQueue:
    """The jobs table: the queue's SQL, beside the runner that uses it."""

    def __init__(self, db: Database, owner: str) -> None:
        self._db = db
        self.owner = owner

    def add(self, payload: JobPayload, *, run_after: float, dedupe_key: str | None) -> int | None:
        """Queue a job of the payload's kind; None when a pending job with the same key exists."""
        kind = payload.kind
        now = now_iso()
        with self._db.tx() as conn:
            if dedupe_key:
                row = conn.execute(
                    "SELECT id, state FROM jobs WHERE dedupe_key = ?", (dedupe_key,)
                ).fetchone()
                if row and row["state"] == "pending":
                    return None
                if row:
                    conn.execute("UPDATE jobs SET dedupe_key = NULL WHERE id = ?", (row["id"],))
            cur = conn.execute(
                "INSERT INTO jobs (kind, dedupe_key, payload_json, state, run_after, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?)",
                (kind, dedupe_key, payload.model_dump_json(), "pending", run_after, now, now),
            )
            return int(cur.lastrowid or 0)

    def take(self, job_id: int) -> Job | None:
        """Mark a pending job running (as ours); None if another worker got it first.

        A row whose payload no model reads (an unknown kind, a field gone) is failed here
        with the reason, once, rather than taken again and again."""
        with self._db.tx() as conn:
            row = conn.execute(
                "SELECT * FROM jobs WHERE id = ? AND state = 'pending'", (job_id,)
            ).fetchone()
            if row is None:
                return None
            try:
                payload = JobPayload.of_kind(row["kind"], row["payload_json"])
            except (KeyError, ValidationError) as exc:
                error = f"unreadable payload of {row['kind']}: {type(exc).__name__}"
                log.error("job %s: %s", job_id, error)
                conn.execute(
                    "UPDATE jobs SET state = 'failed', last_error = ?, updated_at = ?, "
                    "dedupe_key = NULL WHERE id = ?",
                    (error, now_iso(), job_id),
                )
                return None
            conn.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?, "
                "dedupe_key = NULL, owner = ? WHERE id = ?",
                (now_iso(), self.owner, job_id),
            )
            return Job(
                id=job_id,
                kind=row["kind"],
                payload=payload,
                attempts=int(row["attempts"]) + 1,
            )

    def finish(self, job_id: int, *, error: str | None = None) -> None:
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE jobs SET state = ?, last_error = ?, updated_at = ? WHERE id = ?",
                ("failed" if error else "done", error, now_iso(), job_id),
            )

    def retry(self, job_id: int, *, run_after: float, error: str, refund: bool = False) -> None:
        """Back to pending; `refund`: the attempt just made does not count (it waited its turn)."""
        with self._db.tx() as conn:
            if refund:
                conn.execute("UPDATE jobs SET attempts = attempts - 1 WHERE id = ?", (job_id,))
            conn.execute(
                "UPDATE jobs SET state = 'pending', run_after = ?, last_error = ?, updated_at = ? "
                "WHERE id = ?",
                (run_after, error, now_iso(), job_id),
            )

    def unfinished(self) -> list[tuple[int, float]]:
        """Jobs a dead runner left pending or running. Only the lease holder calls this, so
        a job marked running by anyone else belongs to a process that is gone."""
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE jobs SET state = 'pending' WHERE state = 'running' "
                "AND (owner IS NULL OR owner != ?)",
                (self.owner,),
            )
            rows = conn.execute(
                "SELECT id, run_after FROM jobs WHERE state = 'pending' ORDER BY id"
            ).fetchall()
        return [(int(r["id"]), float(r["run_after"])) for r in rows]

    def pending(self) -> list[tuple[int, float]]:
        """Every pending job (the runner keeps those it does not hold yet)."""
        rows = (
            self._db.conn()
            .execute("SELECT id, run_after FROM jobs WHERE state = 'pending' ORDER BY id")
            .fetchall()
        )
        return [(int(r["id"]), float(r["run_after"])) for r in rows]

    def open_count(self, kind: str) -> int:
        row = (
            self._db.conn()
            .execute(
                "SELECT COUNT(*) AS n FROM jobs WHERE kind = ? AND state IN ('pending', 'running')",
                (kind,),
            )
            .fetchone()
        )
        return int(row["n"])

    def states(self) -> dict[str, int]:
        rows = self._db.conn().execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}

    # -- the lease: one runner per database ---------------------------------------------
    def acquire_lease(self, *, stale_after: float = LEASE_STALE_AFTER) -> RunnerHolder | None:
        """Become this database's runner; the live holder if another process is it."""
        now = time.time()
        with self._db.tx() as conn:
            row = conn.execute("SELECT * FROM runners WHERE id = 1").fetchone()
            if row and row["owner"] != self.owner and _alive(row, now, stale_after):
                return RunnerHolder(int(row["pid"]), row["host"], row["started_at"])
            conn.execute(
                "INSERT OR REPLACE INTO runners (id, owner, pid, host, started_at, heartbeat) "
                "VALUES (1, ?, ?, ?, ?, ?)",
                (self.owner, os.getpid(), socket.gethostname(), now_iso(), now),
            )
        return None

    def beat(self) -> bool:
        """Renew the lease; False if another runner took it (we must stop running jobs)."""
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE runners SET heartbeat = ? WHERE id = 1 AND owner = ?",
                (time.time(), self.owner),
            )
            return cur.rowcount == 1

    def release_lease(self) -> None:
        with self._db.tx() as conn:
            conn.execute("DELETE FROM runners WHERE id = 1 AND owner = ?", (self.owner,))


class RunnerBusy(Exception):
    """Another live process runs this database's jobs."""

    def __init__(self, holder: RunnerHolder) -> None:
        super().__init__(f"pid {holder.pid} on {holder.host} since {holder.started_at}")
        self.holder = holder


class JobRunner:
    def __init__(
        self,
        db: Database,
        *,
        workers: int = 8,
        max_attempts: int = 5,
        backoff: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # `serve` takes the lease and hands it to its worker under the same owner.
        self.queue = JobQueue(db, owner=os.environ.get("SHIPBOT_RUNNER_OWNER") or uuid.uuid4().hex)
        self._handlers: dict[str, JobHandler[JobPayload]] = {}
        self._give_up: dict[str, GiveUpHandler[JobPayload]] = {}
        self._workers = workers
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._clock = clock
        self._heap: list[tuple[float, int]] = []
        self._cv = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._busy = 0
        self._running: dict[int, str] = {}
        # Outcomes the database refused to record (locked): written on the job's next turn.
        self._unrecorded: dict[int, Callable[[], None]] = {}
        # Other work that must be done before the runner counts as idle (the Slack outbox).
        self.idle_checks: list[Callable[[], bool]] = []
        # Set where another process runs the jobs: submit only writes the row and pokes it.
        self.worker: WorkerLink | None = None

    def register(
        self,
        model: type[P],
        handler: JobHandler[P],
        *,
        on_give_up: GiveUpHandler[P] | None = None,
    ) -> None:
        """Run `handler` for jobs of `model`'s kind, with the payload read back as `model`.

        `on_give_up` runs after the last attempt, so no failure is ever silently dropped."""
        # The row's kind picks its model (JobPayload.of_kind), so a handler only ever gets
        # its own model: the casts forget nothing.
        self._handlers[model.kind] = cast(JobHandler[JobPayload], handler)
        if on_give_up is not None:
            self._give_up[model.kind] = cast(GiveUpHandler[JobPayload], on_give_up)

    def submit(
        self, payload: JobPayload, *, delay: float = 0.0, dedupe_key: str | None = None
    ) -> int | None:
        """Persist the job, then wake a worker; None if an identical job is already queued."""
        if payload.kind not in self._handlers:
            raise KeyError(f"no handler for job kind {payload.kind!r}")
        run_after = self._clock() + delay
        job_id = self.queue.add(payload, run_after=run_after, dedupe_key=dedupe_key)
        if job_id is not None and self.worker is not None:
            self.worker.poke()
        elif job_id is not None:
            self._push(run_after, job_id)
        return job_id

    def _push(self, run_after: float, job_id: int) -> None:
        with self._cv:
            heapq.heappush(self._heap, (run_after, job_id))
            self._cv.notify()

    def pull(self) -> int:
        """Queue the pending rows another process wrote and we do not hold yet; how many.

        Every pending row is read, not those past the newest id we hold: our own follow-on
        jobs get ids after a row the web process wrote before them that we had not read yet
        (its poke still on the way), and a watermark would skip that row forever. Nothing
        here depends on the order ids commit in. A row taken and finished between the read
        and the push is pushed once more and found not pending (`take`): harmless."""
        pending = self.queue.pending()
        with self._cv:
            held = {job_id for _, job_id in self._heap}
            held.update(self._running)
            fresh = [(run_after, job_id) for job_id, run_after in pending if job_id not in held]
            for item in fresh:
                heapq.heappush(self._heap, item)
            if fresh:
                self._cv.notify_all()
        return len(fresh)

    def start(self) -> int:
        """Take the database's lease, requeue what a dead runner left, start the workers.

        Raises RunnerBusy when another live process holds the lease: two runners would take
        each other's jobs and tell agents things that did not happen.
        """
        holder = self.queue.acquire_lease()
        if holder is not None:
            raise RunnerBusy(holder)
        leftover = self.queue.unfinished()
        for job_id, run_after in leftover:
            self._push(run_after, job_id)
        for i in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"shipbot-job-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        beat = threading.Thread(target=self._heartbeat, name="shipbot-lease", daemon=True)
        beat.start()
        self._threads.append(beat)
        return len(leftover)

    def _heartbeat(self) -> None:
        with self._cv:
            while not self._stopping:
                self._cv.wait(HEARTBEAT_EVERY)
                if self._stopping:
                    return
                try:
                    ours = self.queue.beat()
                    self._cv.release()
                    try:
                        self.pull()  # a poke lost (the worker restarting): the table is the truth
                    finally:
                        self._cv.acquire()
                except Exception:
                    log.exception("job runner heartbeat failed")
                    continue
                if not ours:
                    log.error("another process took this database's job runner lease: stopping")
                    self._stopping = True
                    self._cv.notify_all()

    def stop(self, timeout: float = 5.0) -> list[str]:
        """Take no new job; let running ones finish within `timeout`; give up the lease.

        Returns the jobs still running at the deadline (logged: their rows stay "running"
        and the next runner resumes them).
        """
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        with self._cv:
            left = [f"{job_id} {kind}" for job_id, kind in self._running.items()]
        for job in left:
            log.warning("job %s still running at stop: the next start resumes it", job)
        if not left:
            try:
                self.queue.release_lease()
            except Exception:
                log.exception("could not release the job runner lease")
        return left

    def alive(self) -> str | None:
        """None while the workers and the lease's heartbeat run; else what is wrong."""
        if self.worker is not None:
            return self.worker.problem()
        if self._stopping:
            return "stopped"
        if not self._threads:
            return "not started"
        dead = [t.name for t in self._threads if not t.is_alive()]
        return f"{', '.join(dead)} died" if dead else None

    def idle(self) -> bool:
        """No job queued or running (tests and the demo wait on this)."""
        with self._cv:
            if self._heap or self._busy:
                return False
        return all(check() for check in self.idle_checks)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.01)
        return self.idle()

    def _next(self) -> int | None:
        with self._cv:
            while not self._stopping:
                if self._heap:
                    run_after, job_id = self._heap[0]
                    wait = run_after - self._clock()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        self._busy += 1
                        return job_id
                    self._cv.wait(min(wait, 1.0))
                else:
                    self._cv.wait(1.0)
            return None

    def _work(self) -> None:
        while True:
            job_id = self._next()
            if job_id is None:
                return
            with self._cv:
                mine = job_id not in self._running  # the same id queued twice runs once
                if mine:
                    self._running[job_id] = "?"
            try:
                if mine:
                    self._run(job_id)
            except Exception:
                # The queue's own bookkeeping failed (the database locked past its busy
                # timeout, say): what is left to record is kept and tried again shortly.
                log.exception("job %s: could not be taken or recorded; again shortly", job_id)
                if not self._stopping:
                    self._push(self._clock() + self._backoff, job_id)
            finally:
                with self._cv:
                    self._busy -= 1
                    if mine:
                        self._running.pop(job_id, None)

    def _run(self, job_id: int) -> None:
        unrecorded = self._unrecorded.pop(job_id, None)
        if unrecorded is not None:
            self._record(job_id, unrecorded)
            return
        job = self.queue.take(job_id)  # if this raises, nothing changed: taken again later
        if job is None:
            return
        with self._cv:
            self._running[job.id] = job.kind
        handler = self._handlers.get(job.kind)
        if handler is None:
            error = f"no handler for {job.kind}"
            self._record(job.id, lambda: self.queue.finish(job.id, error=error))
            return
        try:
            with logfmt.job_context(f"{job.id} {job.kind}", getattr(job.payload, "cid", None)):
                handler(job.payload)
        except RetryLater as exc:
            outcome = self._after_failure(job, exc, counts=exc.counts, delay=exc.delay)
        except Exception as exc:
            # Anything else (a database error, a bug) is tried again with backoff, and the
            # give-up handler runs after the last attempt: nothing is dropped in silence.
            log.warning(
                "job %s %s attempt %s failed: %s",
                job.id,
                job.kind,
                job.attempts,
                type(exc).__name__,
                exc_info=True,
            )
            outcome = self._after_failure(job, exc, counts=True, delay=None)
        else:

            def outcome() -> None:
                self.queue.finish(job.id)

        self._record(job.id, outcome)

    def _record(self, job_id: int, outcome: Callable[[], None]) -> None:
        """Write a job's outcome; kept for the next try if the database refuses it now."""
        try:
            outcome()
        except Exception:
            self._unrecorded[job_id] = outcome
            raise

    def _after_failure(
        self, job: Job, exc: Exception, *, counts: bool, delay: float | None
    ) -> Callable[[], None]:
        """What to record after a failed attempt: a retry, or the give-up."""
        error = str(exc) if isinstance(exc, RetryLater) else f"{type(exc).__name__}: {exc}"
        if counts and job.attempts >= self._max_attempts:
            log.error(
                "job %s %s gave up after %s attempts: %s", job.id, job.kind, job.attempts, error
            )

            def give_up() -> None:
                self.queue.finish(job.id, error=error)
                handler = self._give_up.get(job.kind)
                if handler is None:
                    return
                try:
                    handler(job.payload, exc)
                except Exception:
                    # Still recorded as given up: the consignment sweep finds what it left.
                    log.exception("give-up handler of job %s failed", job.id)

            return give_up
        if delay is None:
            delay = self._backoff * 2 ** (job.attempts - 1)
        run_after = self._clock() + delay

        def retry() -> None:
            self.queue.retry(job.id, run_after=run_after, error=error, refund=not counts)
            if not self._stopping:
                self._push(run_after, job.id)

        return retry

    def pending_for(self, kind: str) -> bool:
        """A job of this kind is queued or running (the sweep asks before resuming)."""
        return self.queue.open_count(kind) > 0


def _alive(row: Any, now: float, stale_after: float) -> bool:
    """The holder beat recently and, when it is on this machine, its process still exists
    (a runner killed with -9 and restarted at once takes over without waiting)."""
    if now - float(row["heartbeat"]) >= stale_after:
        return False
    if row["host"] != socket.gethostname():
        return True
    pid = int(row["pid"])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Dead but not reaped (a killed server's worker, under an init that does not reap)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
