"""The Quotes flow through Socket Mode: same handlers, same Slack and carrier calls as HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import build
from bot.carrier.factory import carrier_client
from bot.devslack.driver import SlackPayloads
from bot.devslack.server import FakeSlack
from bot.devslack.socket import FakeSocketMode, SocketDriver
from bot.models import Step
from bot.sandbox.server import RunningSandbox, SandboxConfig, start_sandbox
from bot.store.writes import Store
from tests.form_states import example_state
from tests.harness import (
    CHANNEL,
    make_settings,
    running_bot,
    view_shipper_reference,
    wait_for_modal,
)

# What the flow asks of Slack, in order (auth.test and the socket's own calls aside).
# view_ack/command_ack are the fake's notes of what an ack said, recorded when the ack
# arrives: they race with the worker's calls, and are not Web API calls.
IGNORED = {"auth.test", "apps.connections.open", "upload", "response", "view_ack", "command_ack"}


def _flow_calls(fake: FakeSlack) -> list[str]:
    return [c.method for c in fake.calls if c.method not in IGNORED and c.ok]


def _carrier_calls(sandbox: RunningSandbox) -> list[tuple[str, str]]:
    shape = []
    for r in sandbox.requests():
        path = r["path"]
        first = path.strip("/").split("/")[0]
        shape.append((r["method"], first))
    return shape


def _drive(
    driver: SlackPayloads[Any],
    fake: FakeSlack,
    store: Store,
    *,
    socket: FakeSocketMode | None,
    is_idle: Callable[[], bool],
) -> None:
    """One domestic consignment: /ship, submit, (disconnect), click; as Slack would."""
    driver.command("", channel=CHANNEL)
    view = wait_for_modal(fake, 0)
    reference = view_shipper_reference(view)
    driver.submit_view(view, example_state(shipper_reference=reference))
    record = store.find_by_reference(reference)
    assert record is not None

    def at(step: Step) -> bool:
        current = store.get(record.id)
        return current is not None and current.step is step and is_idle()

    fake.wait_for(lambda: at(Step.QUOTED))
    if socket is not None:
        socket.disconnect("refresh_requested")
    quoted = store.get(record.id)
    assert quoted is not None and quoted.quotes_ts
    quote = quoted.quotes[0].reference
    driver.click(
        CHANNEL,
        quoted.quotes_ts,
        "choose_quote",
        f"{record.id}:{quote}",
        block_id=f"quote-{quote}",
    )
    fake.wait_for(lambda: at(Step.UPLOADED))


@pytest.fixture
def sandbox_pair() -> Iterator[tuple[RunningSandbox, RunningSandbox]]:
    first = start_sandbox(SandboxConfig(seed=11))
    second = start_sandbox(SandboxConfig(seed=11))
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def test_socket_mode_serves_the_flow_like_http_and_survives_a_refresh(
    sandbox_pair: tuple[RunningSandbox, RunningSandbox], tmp_path: Path
) -> None:
    http_sandbox, socket_sandbox = sandbox_pair

    with FakeSlack() as http_fake, running_bot(http_fake, http_sandbox, tmp_path / "h.db") as h:
        _drive(h.driver, http_fake, h.store, socket=None, is_idle=h.bot.runner.idle)
        http_calls = _flow_calls(http_fake)

    with FakeSlack() as fake, FakeSocketMode(fake) as socket_mode:
        settings = make_settings(fake, socket_sandbox, tmp_path / "s.db")
        store = Store(settings.shipbot_db, busy_timeout=settings.shipbot_db_busy_timeout)
        carrier = carrier_client(settings)
        shipbot = build(settings, store, carrier, job_backoff=0.05)
        shipbot.start()
        handler = SocketModeHandler(shipbot.app, app_token="xapp-test")
        try:
            handler.connect()
            socket_mode.wait_connected()
            driver = SocketDriver(socket_mode)
            _drive(driver, fake, store, socket=socket_mode, is_idle=shipbot.runner.idle)
            # The click came on a new connection (a loaded machine may add a reconnect).
            assert socket_mode.connections >= 2
            assert socket_mode.deliveries[-1].connection >= 2
            assert socket_mode.unacked() == []
            socket_calls = _flow_calls(fake)
        finally:
            handler.close()
            shipbot.stop()
            carrier.close()
            store.close()

    assert socket_calls == http_calls
    assert _carrier_calls(socket_sandbox) == _carrier_calls(http_sandbox)
    assert socket_sandbox.count("PUT", r"^/allocation/") == 1
