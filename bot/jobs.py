"""A small job runner: jobs are rows in the store, run by our own worker threads.

Slow work (carrier calls, uploads) never runs on Bolt's listener threads, so a burst of
slow clicks cannot starve the acks. Because jobs are rows, a restart picks up whatever a
dead process left unfinished.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.store import Store

log = logging.getLogger("shipbot.jobs")

JobHandler = Callable[[dict[str, Any]], None]
GiveUpHandler = Callable[[dict[str, Any], str], None]


class RetryLater(Exception):
    """Raised by a handler whose work failed for a passing reason (e.g. Slack was down)."""

    def __init__(self, reason: str, *, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class JobRunner:
    def __init__(
        self,
        store: Store,
        *,
        workers: int = 8,
        max_attempts: int = 5,
        backoff: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._handlers: dict[str, JobHandler] = {}
        self._give_up: dict[str, GiveUpHandler] = {}
        self._workers = workers
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._clock = clock
        self._heap: list[tuple[float, int]] = []
        self._cv = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._busy = 0

    def register(
        self, kind: str, handler: JobHandler, *, on_give_up: GiveUpHandler | None = None
    ) -> None:
        """`on_give_up` runs after the last attempt, so no failure is ever silently dropped."""
        self._handlers[kind] = handler
        if on_give_up is not None:
            self._give_up[kind] = on_give_up

    def submit(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        delay: float = 0.0,
        dedupe_key: str | None = None,
    ) -> int | None:
        """Persist the job, then wake a worker; None if an identical job is already queued."""
        if kind not in self._handlers:
            raise KeyError(f"no handler for job kind {kind!r}")
        run_after = self._clock() + delay
        job_id = self._store.add_job(kind, payload, run_after=run_after, dedupe_key=dedupe_key)
        if job_id is not None:
            self._push(run_after, job_id)
        return job_id

    def _push(self, run_after: float, job_id: int) -> None:
        with self._cv:
            heapq.heappush(self._heap, (run_after, job_id))
            self._cv.notify()

    def start(self) -> int:
        """Start the workers and requeue what an earlier process left; returns that count."""
        leftover = self._store.unfinished_jobs()
        for job_id, run_after in leftover:
            self._push(run_after, job_id)
        for i in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"shipbot-job-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return len(leftover)

    def stop(self, timeout: float = 5.0) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def idle(self) -> bool:
        """No job queued or running (tests and the demo wait on this)."""
        with self._cv:
            return not self._heap and self._busy == 0

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
            try:
                self._run(job_id)
            finally:
                with self._cv:
                    self._busy -= 1

    def _run(self, job_id: int) -> None:
        job = self._store.take_job(job_id)
        if job is None:
            return
        handler = self._handlers.get(job.kind)
        if handler is None:
            self._store.finish_job(job.id, error=f"no handler for {job.kind}")
            return
        try:
            handler(job.payload)
        except RetryLater as exc:
            if job.attempts >= self._max_attempts:
                log.error(
                    "job %s %s gave up after %s attempts: %s", job.id, job.kind, job.attempts, exc
                )
                self._store.finish_job(job.id, error=str(exc))
                give_up = self._give_up.get(job.kind)
                if give_up is not None:
                    try:
                        give_up(job.payload, str(exc))
                    except Exception:
                        log.exception("give-up handler of job %s failed", job.id)
                return
            delay = exc.delay if exc.delay is not None else self._backoff * 2 ** (job.attempts - 1)
            run_after = self._clock() + delay
            self._store.retry_job(job.id, run_after=run_after, error=str(exc))
            self._push(run_after, job.id)
        except Exception as exc:  # a bug: record it, keep the worker alive
            log.exception("job %s %s failed", job.id, job.kind)
            self._store.finish_job(job.id, error=f"{type(exc).__name__}: {exc}")
        else:
            self._store.finish_job(job.id)
