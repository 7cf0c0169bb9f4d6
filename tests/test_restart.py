"""Crash and restart: kill -9 between allocate and upload; the label still reaches the thread."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bot.devslack.driver import SlackDriver
from bot.devslack.server import FakeSlack
from bot.models import ConsignmentRecord, Step
from bot.sandbox.server import RunningSandbox
from bot.store.writes import Store
from tests.form_states import example_state
from tests.harness import CHANNEL, SECRET, view_shipper_reference, wait_for_modal


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(
    fake: FakeSlack, sandbox: RunningSandbox, db: Path, **extra_env: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`shipbot serve --http` as a real process, started by the contract's variables."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ELECTIO_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.url,
        ELECTIO_API_URL=sandbox.url,
        SHIPBOT_DB=str(db),
        **extra_env,
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            "--http",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=0.5).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {process.stdout.read() if process.stdout else ''}")
    try:
        yield process, base + "/slack/events"
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(10)


def _wait(predicate: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def ship_quoted(driver: SlackDriver, fake: FakeSlack, store: Store) -> ConsignmentRecord:
    """/ship, the form submitted, and the consignment waiting for a click (its quotes shown)."""
    opened = len(fake.opened_views())
    driver.command("", channel=CHANNEL)
    view = wait_for_modal(fake, opened)
    reference = view_shipper_reference(view)
    driver.submit_view(view, example_state(shipper_reference=reference))
    _wait(lambda: (r := store.find_by_reference(reference)) is not None and r.step is Step.QUOTED)
    record = store.find_by_reference(reference)
    assert record is not None and record.quotes_ts
    return record


def choose_while_stalled(
    driver: SlackDriver,
    sandbox: RunningSandbox,
    record: ConsignmentRecord,
    path: str,
    seconds: float,
) -> None:
    """Click the consignment's first quote with the carrier's `path` held `seconds`: the flow
    is caught mid-way, for a kill or a stop to land on."""
    assert record.quotes_ts
    sandbox.arm_fault(path, kind="latency", seconds=seconds)
    value = f"{record.id}:{record.quotes[0].reference}"
    driver.click(CHANNEL, record.quotes_ts, "choose_quote", value)


def test_kill_9_between_allocate_and_upload(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    db = tmp_path / "crash.db"
    with serve(fake_slack, sandbox, db) as (process, url):
        driver = SlackDriver(url, SECRET, fake_slack)
        store = Store(db)
        record = ship_quoted(driver, fake_slack, store)
        choose_while_stalled(driver, sandbox, record, r"^/labels/", seconds=30)
        _wait(lambda: sandbox.count("GET", r"^/labels/") == 1)  # the label call is in flight
        assert store.get(record.id).step is Step.ALLOCATED  # type: ignore[union-attr]
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        driver.close()
    sandbox.clear_faults()

    with serve(fake_slack, sandbox, db) as (process, url):
        _wait(lambda: store.get(record.id).step is Step.UPLOADED)  # type: ignore[union-attr]
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert "resumed 1 consignment" in output
    assert "WARNING: SANDBOX carrier: nothing is shipped" in output  # no key: a sandbox
    assert "SANDBOX" in json.dumps(fake_slack.message(CHANNEL, record.message_ts or "").blocks)
    files = [f for f in fake_slack.files if f.thread_ts == record.message_ts]
    assert [f.filename for f in files] == [f"{store.get(record.id).carrier_reference}.pdf"]  # type: ignore[union-attr]
    assert sandbox.count("PUT", r"^/allocation/") == 1  # the carrier saw one allocate
    store.close()
