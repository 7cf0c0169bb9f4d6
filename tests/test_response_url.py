"""The click's edit of the message it came from goes through the click's response_url
(replace_original): outside the Web API's tiers, so the Choose buttons go at once and
chat.update is left for the channel message's final state. A refused or expired
response_url falls back to the paced chat.update; a URL is used at most 5 times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from blocks import Message, section
from bot.devslack.server import RESPONSE_URL_USES, FakeSlack
from bot.models import Step
from bot.sandbox.server import RunningSandbox
from bot.slack.outbox import URL_USES, Outbox
from bot.slack.slackio import RESPONSE_URL, SlackOut, make_client
from bot.store.db import Database
from tests.harness import CHANNEL, Harness, running_bot

CHOOSE = "choose_quote"


def _updates_of(h: Harness, ts: str) -> int:
    return sum(1 for c in h.fake.calls_to("chat.update") if c.ok and c.args.get("ts") == ts)


def _clicked_and_labelled(h: Harness) -> tuple[str, str]:
    """Ship one, click its first quote, wait for the label: (quotes ts, click's response_url)."""
    record = h.quoted()
    h.click_quote(record)
    url = h.driver.last_response_url
    assert record.quotes_ts and url
    h.wait_step(record.id, Step.UPLOADED)
    h.wait(lambda: CHOOSE not in json.dumps(h.quotes_message(record).blocks))
    h.bot.runner.wait_idle()
    return record.quotes_ts, url


def test_the_clicks_edit_goes_through_its_response_url(harness: Harness) -> None:
    h = harness
    quotes_ts, url = _clicked_and_labelled(h)
    (edit,) = h.fake.responses_to(url)
    assert edit["replace_original"] is True
    assert CHOOSE not in json.dumps(edit["blocks"])
    assert _updates_of(h, quotes_ts) == 0
    # One chat.update a consignment: the channel message's final state.
    assert len([c for c in h.fake.calls_to("chat.update") if c.ok]) == 1
    assert h.bot.core.slack.calls()[RESPONSE_URL] == 1


def test_a_refused_response_url_falls_back_to_the_paced_chat_update(harness: Harness) -> None:
    h = harness
    h.fake.fail_next("response", "500")  # the click's response_url answers a server error
    quotes_ts, url = _clicked_and_labelled(h)
    assert h.fake.responses_to(url) == []
    assert [c.error for c in h.fake.calls_to("response")] == ["500"]
    assert _updates_of(h, quotes_ts) == 1
    assert h.bot.outbox.states().get("failed", 0) == 0


@pytest.fixture
def expiring(sandbox: RunningSandbox, tmp_path: Path) -> Iterator[Harness]:
    """A stand-in Slack whose response_urls have expired by the time anyone posts to them."""
    with FakeSlack() as fake, running_bot(fake, sandbox, tmp_path / "expiring.db") as h:
        fake.add_channel(CHANNEL)
        fake.response_url_ttl = 0.0
        yield h


def test_an_expired_response_url_falls_back_to_the_paced_chat_update(expiring: Harness) -> None:
    h = expiring
    quotes_ts, url = _clicked_and_labelled(h)
    assert [c.error for c in h.fake.calls_to("response")] == ["expired_url"]
    assert h.fake.responses_to(url) == []
    assert _updates_of(h, quotes_ts) == 1


@pytest.fixture
def clicked(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[tuple[SlackOut, str, str]]:
    """The sender and its outbox on a message someone clicked: (sender, ts, response_url)."""
    fake_slack.add_channel("C0FIVE01")
    slack = SlackOut(make_client("xoxb-test-token", fake_slack.url))
    slack.outbox = Outbox(Database(tmp_path / "five.db"), slack)
    ts = slack.post("C0FIVE01", Message(text="v0", blocks=[section("v0")]))
    url = fake_slack.new_response_url(channel="C0FIVE01", message_ts=ts, user="U0FIVE01")
    slack.offer("C0FIVE01", ts, url)
    slack.outbox.start()
    try:
        yield slack, ts, url
    finally:
        slack.outbox.stop()


def _edits(fake: FakeSlack, slack: SlackOut, ts: str, count: int) -> None:
    assert slack.outbox is not None
    for n in range(1, count + 1):
        slack.update("C0FIVE01", ts, Message(text=f"v{n}", blocks=[section(f"v{n}")]))
        fake.wait_for(slack.outbox.idle)
        assert fake.message("C0FIVE01", ts).text == f"v{n}"


def test_a_response_url_is_used_five_times_then_chat_update(
    fake_slack: FakeSlack, clicked: tuple[SlackOut, str, str]
) -> None:
    """Slack takes 5 uses of a response_url; the outbox spends no more, then edits by
    chat.update."""
    slack, ts, url = clicked
    assert URL_USES == RESPONSE_URL_USES
    _edits(fake_slack, slack, ts, URL_USES + 2)
    assert len(fake_slack.responses_to(url)) == URL_USES
    assert len(fake_slack.calls_to("chat.update")) == 2
    assert slack.calls()[RESPONSE_URL] == URL_USES


def test_a_url_slack_refused_is_not_tried_again(
    fake_slack: FakeSlack, clicked: tuple[SlackOut, str, str]
) -> None:
    slack, ts, url = clicked
    fake_slack.refuse_response_url(url)
    _edits(fake_slack, slack, ts, 3)
    assert [c.error for c in fake_slack.calls_to("response")] == ["expired_url"]
    assert len(fake_slack.calls_to("chat.update")) == 3
