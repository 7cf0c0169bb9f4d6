"""`shipbot serve` runs the flows in a supervised worker process: a job the web process
writes is picked up at once (a poke, not the poll), a killed worker is started again and
finishes the flow without buying twice, and SIGTERM drains both processes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from bot.devslack.driver import SlackDriver
from bot.devslack.server import FakeSlack
from bot.models import Step
from bot.sandbox.server import RunningSandbox
from bot.store.jobs import HEARTBEAT_EVERY
from bot.store.writes import Store
from tests.harness import SECRET
from tests.test_restart import _wait, choose_while_stalled, serve, ship_quoted


def _worker_pid(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        assert line, "serve said nothing of its worker"
        if "flows run in a worker process (pid " in line:
            return int(line.rsplit("pid ", 1)[1].rstrip(")\n"))


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def test_the_worker_killed_mid_flow_is_restarted_and_nothing_is_lost_or_bought_twice(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    db = tmp_path / "worker.db"
    with serve(fake_slack, sandbox, db) as (process, url):
        worker = _worker_pid(process)
        driver = SlackDriver(url, SECRET, fake_slack)
        store = Store(db)
        record = ship_quoted(driver, fake_slack, store)  # jobs written by the web process
        clicked = time.monotonic()
        choose_while_stalled(driver, sandbox, record, r"^/labels/", seconds=30)
        _wait(lambda: sandbox.count("PUT", r"^/allocation/") == 1)
        # Picked up on the poke, not at the heartbeat's look at the table.
        assert time.monotonic() - clicked < HEARTBEAT_EVERY
        _wait(lambda: sandbox.count("GET", r"^/labels/") == 1)  # the label call in flight
        os.kill(worker, signal.SIGKILL)
        sandbox.clear_faults()
        _wait(lambda: store.require(record.id).step is Step.UPLOADED, timeout=30)
        assert sandbox.count("PUT", r"^/allocation/") == 1  # never bought twice
        files = [f for f in fake_slack.files if f.thread_ts == record.message_ts]
        assert len(files) == 1
        assert process.poll() is None  # the server kept serving throughout

        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
        driver.close()
        store.close()
    assert process.returncode == 0, output
    assert "starting it again" in output or "resumed 1 consignment" in output
    assert "worker stopped (0 job(s) left for the next start)" in output
    assert "shipbot: stopped (the worker exited 0)" in output
    assert "Traceback" not in output
