"""The real-interface harness: the real app over HTTP, the fake Slack, the sandbox carrier.

Requests reach the app signed like Slack's; its Web API calls go to the fake Slack on
loopback; the carrier is the sandbox over HTTP, counted in its own request log.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from bot.app import RunningBot, build
from bot.carrier.factory import carrier_client
from bot.devslack.driver import SlackDriver
from bot.devslack.server import FakeSlack, Message
from bot.health import Ops
from bot.models import ConsignmentRecord, Step
from bot.sandbox.server import RunningSandbox
from bot.settings import Settings
from bot.slack.http import serve_in_thread
from bot.store.writes import Store
from tests.form_states import example_customs_state, example_state

SECRET = "s3cret-signing"
T = TypeVar("T")
CHANNEL = "C0SHIP01"
AGENT = "U0AGENT1"
AGENT2 = "U0AGENT2"


@dataclass
class Harness:
    bot: RunningBot
    fake: FakeSlack
    sandbox: RunningSandbox
    driver: SlackDriver
    store: Store
    settings: Settings

    # -- driving ------------------------------------------------------------------
    def open_form(self, *, channel: str = CHANNEL, user: str = AGENT) -> dict[str, Any]:
        opened = len(self.fake.opened_views())
        response = self.driver.command("", channel=channel, user=user)
        assert response.status_code == 200, response.text
        view = wait_for_modal(self.fake, opened)
        assert view["callback_id"] == "ship_form"
        return view

    def ship(
        self,
        *,
        channel: str = CHANNEL,
        user: str = AGENT,
        international: bool = False,
        **overrides: Any,
    ) -> ConsignmentRecord:
        """Open the form, fill it, submit it; returns the stored consignment."""
        view = self.open_form(channel=channel, user=user)
        reference = view_shipper_reference(view)
        if international:
            overrides = {
                "address_country": "FR",
                "address_postcode": "75001",
                "address_town": "Paris",
                **overrides,
            }
        response = self.driver.submit_view(
            view, example_state(shipper_reference=reference, **overrides), user=user
        )
        assert response.status_code == 200, response.text
        if international:
            ack = response.json()
            assert ack["response_action"] == "update", ack
            response = self.driver.submit_view(view["id"], example_customs_state(), user=user)
            assert response.status_code == 200, response.text
        record = self.store.find_by_reference(reference)
        assert record is not None
        return record

    def wait_step(self, cid: int, *steps: Step, timeout: float = 10.0) -> ConsignmentRecord:
        deadline = time.monotonic() + timeout
        record = self.store.get(cid)
        while time.monotonic() < deadline:
            record = self.store.get(cid)
            if record is not None and record.step in steps and self.bot.runner.idle():
                return record
            time.sleep(0.01)
        raise AssertionError(
            f"consignment {cid} is at {record.step if record else None}, not {steps}; "
            f"problem={record.problem if record else None}\n{self.fake.dump()}"
        )

    def quoted(self, **kwargs: Any) -> ConsignmentRecord:
        record = self.ship(**kwargs)
        return self.wait_step(record.id, Step.QUOTED)

    def quotes_message(self, record: ConsignmentRecord) -> Message:
        assert record.quotes_ts
        return self.fake.message(record.channel_id, record.quotes_ts)

    def click_quote(
        self, record: ConsignmentRecord, quote_reference: str | None = None, *, user: str = AGENT
    ) -> Any:
        return self.post(self.quote_click(record, quote_reference, user=user))

    def quote_click(
        self, record: ConsignmentRecord, quote_reference: str | None = None, *, user: str = AGENT
    ) -> str:
        """A quote click as Slack posts it, built now from the message as it stands: to post
        later, again, or from many threads at once (`post`)."""
        quote_reference = quote_reference or record.quotes[0].reference
        assert record.quotes_ts
        payload = self.driver.click_payload(
            record.channel_id,
            record.quotes_ts,
            "choose_quote",
            f"{record.id}:{quote_reference}",
            block_id=f"quote-{quote_reference}",
            user=user,
        )
        return interaction(payload)

    def post(self, body: str) -> httpx.Response:
        """An interaction body from `interaction`, signed afresh as each delivery is."""
        return self.driver.post_raw(body, content_type=FORM)

    def allocations_at_carrier(self) -> int:
        return self.sandbox.count("PUT", r"^/allocation/")

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        self.fake.wait_for(predicate, timeout)


FORM = "application/x-www-form-urlencoded"


def interaction(payload: dict[str, Any]) -> str:
    """An interaction payload as Slack posts it: form-encoded under `payload`."""
    return urlencode({"payload": json.dumps(payload)})


def at_once(*calls: Callable[[], T]) -> list[T]:
    """Every call on a thread of its own, all let go together; their results in call order
    (a call that raised raises here)."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
    return [future.result() for future in futures]


def wait_for_modal(fake: FakeSlack, opened_before: int) -> dict[str, Any]:
    """`/ship` acks first and opens the modal a moment later, as Slack users see it."""
    fake.wait_for(lambda: len(fake.opened_views()) > opened_before)
    return fake.opened_views()[-1]


def view_shipper_reference(view: dict[str, Any]) -> str:
    for block in view["blocks"]:
        if block.get("block_id") == "shipper_reference":
            return str(block["element"]["initial_value"])
    raise AssertionError("the form has no shipper reference")


def make_settings(fake: FakeSlack, sandbox: RunningSandbox, db: Path, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=fake.url,
        electio_api_url=sandbox.url,
        electio_read_timeout=extra.pop("electio_read_timeout", 2.0),
        electio_connect_timeout=1.0,
        shipbot_db=str(db),
        shipbot_workers=4,
        # The shared fake Slack enforces no limits; tests that turn them on set this too.
        shipbot_slack_rate_scale=extra.pop("shipbot_slack_rate_scale", 1000.0),
        **extra,
    )


@contextmanager
def running_bot(
    fake: FakeSlack, sandbox: RunningSandbox, db: Path, **settings_extra: Any
) -> Iterator[Harness]:
    settings = make_settings(fake, sandbox, db, **settings_extra)
    store = Store(settings.shipbot_db, busy_timeout=settings.shipbot_db_busy_timeout)
    carrier = carrier_client(settings, max_retry_after=2.0, backoff=0.01)
    shipbot = build(settings, store, carrier, job_backoff=0.05)
    shipbot.start()
    # A probe write waits 0.2 s for a writer (1 s in serve): the lock test stays short.
    server, url = serve_in_thread(shipbot.app, ops=Ops(shipbot, db_timeout=0.2))
    driver = SlackDriver(url, SECRET, fake)
    try:
        yield Harness(shipbot, fake, sandbox, driver, store, settings)
    finally:
        driver.close()
        server.shutdown()
        server.server_close()
        shipbot.stop()
        carrier.close()
        store.close()


BotWith = Callable[..., Harness]  # conftest's `bot_with`: running_bot with settings over these
Runs = Callable[..., AbstractContextManager[Harness]]  # conftest's `runs`: one database, restarted
