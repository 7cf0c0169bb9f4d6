"""`shipbot serve` in Socket Mode, as a real process: connects, serves, survives a refresh."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"],
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
        finally:
            process.terminate()
            output = process.communicate(timeout=15)[0]
    assert "Slack Socket Mode" in output
    assert "carrier sandbox carrier at" in output
    assert "new session has been established" in output.lower()
    assert process.returncode == 0  # SIGTERM stops it cleanly
