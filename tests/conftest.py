"""Shared fixtures: a fake Slack, a sandbox carrier and the real bot, all on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bot.devslack.server import FakeSlack
    from bot.sandbox.server import RunningSandbox
    from tests.harness import Harness


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    from bot.devslack.server import FakeSlack

    fake = FakeSlack().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    from bot.sandbox.server import SandboxConfig, start_sandbox

    running = start_sandbox(SandboxConfig(seed=7))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def harness(fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path) -> Iterator[Harness]:
    from tests.harness import running_bot

    with running_bot(fake_slack, sandbox, tmp_path / "shipbot.db") as h:
        yield h
