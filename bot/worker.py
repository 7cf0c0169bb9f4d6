"""The worker process: the flows (jobs, the Slack outbox, carrier calls) apart from the acks.

Why: in one process every ack waited behind flow work for the GIL (a click's ack 3-5× a bare
Bolt app's while flows ran). `shipbot serve` answers Slack (verify, parse, write the job row,
ack; views.open on the trigger) and supervises `shipbot worker`, which holds the database's
single-runner lease and runs everything else. One command still starts both.

- Hand-over: the jobs table is the truth. Each job written is followed by a byte on the
  worker's stdin (`poke`), so it reads the table's new rows at once instead of at its next
  poll; a lost poke is caught by the lease heartbeat's look at the table (3 s).
- Supervision: a worker that dies is started again (it takes the lease over at once: its
  predecessor's pid is gone) and resumes what was in flight, as a restart always did; the
  server's SIGTERM stops the web side first, then SIGTERMs the worker, which drains (its
  stop grace) before the server exits. On Linux the worker dies with the server even if the
  server is killed (-9), exactly as the single process did.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from bot.slack.outbox import Outbox
from bot.store.jobs import JobRunner

log = logging.getLogger("shipbot.worker")

READY = "shipbot worker: ready"
# The worker found the lease held by another live shipbot: starting it again cannot help.
RUNNER_BUSY_EXIT = 3
RESTART_AFTER = 0.5
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the server goes (Linux), as one process did."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Supervisor:
    """`shipbot worker` as a child of the server: started, restarted if it dies, stopped."""

    def __init__(self, env: dict[str, str]) -> None:
        self._argv = [sys.executable, "-m", "bot.cli", "worker"]
        self._env = env
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._gave_up: str | None = None
        self._watch: threading.Thread | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        with self._lock:
            self._spawn()
        self._watch = threading.Thread(target=self._watching, name="shipbot-supervisor")
        self._watch.daemon = True
        self._watch.start()

    def _spawn(self) -> None:
        proc = subprocess.Popen(  # stdout and stderr: the server's own
            self._argv, stdin=subprocess.PIPE, env=self._env, preexec_fn=_die_with_parent
        )
        assert proc.stdin is not None
        os.set_blocking(proc.stdin.fileno(), False)  # a poke never holds up an ack
        self._proc = proc

    def _watching(self) -> None:
        while True:
            with self._lock:
                proc = self._proc
            assert proc is not None
            code = proc.wait()
            with self._lock:
                if self._stopping:
                    return
                if code == RUNNER_BUSY_EXIT:
                    self._gave_up = "another shipbot runs this database's jobs"
                    log.error("the worker stopped: %s", self._gave_up)
                    return
            log.warning("the worker process exited (%s): starting it again", code)
            time.sleep(RESTART_AFTER)
            with self._lock:
                if self._stopping:
                    return
                self.restarts += 1
                self._spawn()

    def poke(self) -> None:
        """A job row was written: the worker reads the table now."""
        with self._lock:
            proc = self._proc
        if proc is None or proc.stdin is None:
            return
        with contextlib.suppress(OSError, ValueError):  # full (it has pokes to read), or gone
            os.write(proc.stdin.fileno(), b"\n")

    def problem(self) -> str | None:
        with self._lock:
            if self._gave_up is not None:
                return self._gave_up
            if self._proc is None or self._proc.poll() is not None:
                return "the worker process is not running (being started again)"
        return None

    def stop(self, timeout: float) -> int | None:
        """SIGTERM the worker and wait while it drains; killed past `timeout`. Its exit code."""
        with self._lock:
            self._stopping = True
            proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the worker did not stop within %.0f s: killed", timeout)
            proc.kill()
            code = proc.wait()
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        if self._watch is not None:
            self._watch.join(2.0)
        return code


def listen(runner: JobRunner, outbox: Outbox, gone: Callable[[], None]) -> threading.Thread:
    """In the worker: every poke on stdin reads the table's new jobs (and wakes the outbox);
    stdin's end means the server is gone, so `gone` (stop, draining)."""

    def reading() -> None:
        fd = sys.stdin.fileno()
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                gone()
                return
            try:
                runner.pull()
            except Exception:
                log.exception("could not read the new jobs: the heartbeat looks again")
            outbox.wake()

    thread = threading.Thread(target=reading, name="shipbot-pokes", daemon=True)
    thread.start()
    return thread
