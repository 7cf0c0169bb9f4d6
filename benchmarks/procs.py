"""The apps under test run as subprocesses: their own GIL, and an RSS we can read.

The load generator, the fake Slack and the sandbox carrier share the benchmark process;
the bot (or the bare Bolt baseline) gets a process of its own, as in production.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bot.closing import Closes

START_TIMEOUT = 30.0
_PROBLEM = re.compile(r" (WARNING|ERROR|CRITICAL) |^Traceback|^\w+(Error|Exception)\b")
# Variables that would point a child at something other than the loopback fakes.
_SCRUBBED_PREFIXES = ("SLACK_", "ELECTIO_", "SHIPBOT_")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class AppProcess(Closes):
    """A served app in a child process; `url` is its /slack/events endpoint."""

    def __init__(
        self, argv: list[str], env: dict[str, str], cwd: Path, ready: str, port: int
    ) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/slack/events"
        self.log_path = cwd / f"app-{port}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self.lines: list[str] = []
        self._http = httpx.Client(timeout=5.0, trust_env=False)
        self._ready = threading.Event()
        self._reader = threading.Thread(
            target=self._read, args=(ready,), name=f"stdout-{port}", daemon=True
        )
        self._reader.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _read(self, ready: str) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            if line.startswith(ready):
                self._ready.set()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"app did not start: {self.describe_failure()}")
        # "ready" is printed just before serve_forever; the socket is already bound.
        while time.monotonic() < deadline:
            try:
                if self._http.get(f"{self.base}/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"app never answered /healthz: {self.describe_failure()}")

    def describe_failure(self) -> str:
        self._log.flush()
        tail = self.log_path.read_text(errors="replace")[-3000:]
        return f"exit={self.proc.poll()} stdout={self.lines[-5:]} stderr tail:\n{tail}"

    def problems(self, limit: int = 20) -> list[str]:
        """The app's WARNING and ERROR log lines (and tracebacks' last lines), for reports."""
        self._log.flush()
        lines = self.log_path.read_text(errors="replace").splitlines()
        found = [line for line in lines if _PROBLEM.search(line)]
        return found[-limit:]

    def health(self) -> dict[str, object]:
        data = self._http.get(f"{self.base}/healthz").json()
        return data if isinstance(data, dict) else {}

    def rss_kib(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) in KiB of the app and its children together (serve's worker
        process): resident now, and the sum of each process's peak."""
        rss = peak = 0
        for pid in _family(self.proc.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # gone meanwhile (a child restarting)
            for line in status.splitlines():
                name, _, value = line.partition(":")
                if name == "VmRSS":
                    rss += int(value.split()[0])
                elif name == "VmHWM":
                    peak += int(value.split()[0])
        return rss, peak

    def processes(self) -> int:
        """The app's process and its live children (2 for serve: web and worker)."""
        return len(_family(self.proc.pid))

    def cpu_seconds(self) -> float:
        """User + system CPU time the app has used so far (all its threads), its live
        children's (serve's worker) included."""
        ticks = 0
        for pid in _family(self.proc.pid):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        self._http.close()

    def close(self) -> None:
        """`with`'s end: stop with the usual grace."""
        self.stop()


def start_shipbot(
    *,
    slack_url: str,
    carrier_url: str,
    secret: str,
    workdir: Path,
    workers: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> AppProcess:
    """`python -m bot.cli serve --http` exactly as an operator starts it."""
    port = free_port()
    env = {
        "SLACK_BOT_TOKEN": "xoxb-bench-shipbot",
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": slack_url,
        "ELECTIO_API_URL": carrier_url,
        "SHIPBOT_DB": str(workdir / "shipbot.db"),
        # The stand-in Slack enforces no limits unless a benchmark turns them on (and then
        # sets the scale it runs them at): pacing at real Slack's rates would measure nothing.
        "SHIPBOT_SLACK_RATE_SCALE": "1000",
    }
    if workers is not None:
        env["SHIPBOT_WORKERS"] = str(workers)
    env.update(extra_env or {})
    argv = [sys.executable, "-m", "bot.cli", "serve", "--http"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    return AppProcess(argv, clean_env(env), workdir, "shipbot: ready", port)


def start_bare_bolt(*, slack_url: str, secret: str, workdir: Path) -> AppProcess:
    from benchmarks.bare_bolt import READY

    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.bare_bolt", "--port", str(port)]
    argv += ["--slack-url", slack_url, "--secret", secret]
    return AppProcess(argv, clean_env({}), workdir, READY, port)


def wait_jobs_done(app: AppProcess, timeout: float = 120.0) -> dict[str, int]:
    """Until the bot's job queue (GET /healthz) has nothing pending or running."""
    deadline = time.monotonic() + timeout
    while True:
        raw = app.health().get("jobs")
        jobs = {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        if not jobs.get("pending") and not jobs.get("running"):
            return jobs
        if time.monotonic() > deadline:
            raise RuntimeError(f"the bot's jobs did not finish within {timeout:g} s: {jobs}")
        time.sleep(0.05)


def _family(pid: int) -> list[int]:
    """`pid` and its descendants (Linux /proc/<pid>/task/<tid>/children)."""
    found = [pid]
    for parent in found:
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                found += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return found
