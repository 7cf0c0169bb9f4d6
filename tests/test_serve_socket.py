"""`shipbot serve` in Socket Mode, as a real process: connects, serves, survives a refresh."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot import __version__
from bot.devslack.server import FakeSlack
from bot.devslack.socket import FakeSocketMode, SocketDriver
from bot.sandbox.server import RunningSandbox
from tests.harness import CHANNEL, wait_for_modal


def test_serve_in_socket_mode_reconnects_and_keeps_serving(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with FakeSocketMode(fake_slack) as socket_mode:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ELECTIO_"))}
        env.update(
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_APP_TOKEN="xapp-test-token",
            SLACK_API_URL=fake_slack.url,
            ELECTIO_API_URL=sandbox.url,
            SHIPBOT_DB=str(tmp_path / "socket.db"),
            SHIPBOT_LOG_FORMAT="json",
        )
        health = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--health-port", str(health)],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            socket_mode.wait_connected(timeout=20)
            driver = SocketDriver(socket_mode)
            driver.command("", channel=CHANNEL)
            wait_for_modal(fake_slack, 0)
            socket_mode.disconnect("refresh_requested")
            driver.command("help", channel=CHANNEL)  # served on the new connection
            assert socket_mode.connections >= 2
            assert socket_mode.unacked() == []
            # The health port: ready once the new connection is up, and the acks counted.
            base = f"http://127.0.0.1:{health}"
            ready = _until_ready(base + "/readyz")
            assert "Socket Mode connected" in ready["parts"]["slack"], ready
            assert httpx.get(base + "/healthz").json()["ok"] is True
            metrics = httpx.get(base + "/metrics").text
            assert 'shipbot_acks_total{kind="command"} 2.0' in metrics
            # Socket Mode goes away (and apps.connections.open fails): /readyz names Slack.
            socket_mode.stop()
            down = _until(base + "/readyz", 503)
            assert down["failing"] == ["slack"], down
            assert "Socket Mode connection is down" in str(down["parts"])
        finally:
            process.terminate()
            output = process.communicate(timeout=15)[0]
    assert f"shipbot {__version__}: Slack Socket Mode" in output  # the version, in one place
    assert "carrier sandbox carrier at" in output
    assert "new session has been established" in output.lower()
    # The start lines are printed; every log line is one JSON object.
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any("new session has been established" in x["message"].lower() for x in logged)
    assert all(not line.startswith("20") for line in output.splitlines()), "a plain log line"
    assert process.returncode == 0  # SIGTERM stops it cleanly


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _until_ready(url: str) -> dict[str, object]:
    """The connection comes back by itself after the refresh: wait for it, not a time."""
    return _until(url, 200)


def _until(url: str, status: int, timeout: float = 10.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = httpx.get(url)
        except httpx.HTTPError:
            response = None
        if response is not None and response.status_code == status:
            body: dict[str, object] = response.json()
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"never {status}: {response.text if response else 'no answer'}")
        time.sleep(0.05)
