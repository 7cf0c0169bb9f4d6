"""Issue 22: the places where the bot could disagree with the carrier or lose the next step.

Each test drives the real app through signed requests, with the stand-in Slack and the
sandbox carrier on loopback, and provokes the one fault it is about.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.devslack.server import FakeSlack
from bot.models import Step
from bot.sandbox.server import RunningSandbox
from tests.form_states import example_state
from tests.harness import AGENT2, CHANNEL, Harness, running_bot, view_shipper_reference

SANDBOX_SEED = 22


@pytest.fixture
def bot(fake_slack: FakeSlack, fresh_sandbox: RunningSandbox, tmp_path: Path) -> Iterator[Harness]:
    fake_slack.add_channel(CHANNEL, name="shipping")
    with running_bot(fake_slack, fresh_sandbox, tmp_path / "shipbot.db") as h:
        yield h


# -- 1. a shipper reference already in use ---------------------------------------------------
def test_a_reused_shipper_reference_is_a_field_error_naming_its_consignment(bot: Harness) -> None:
    first = bot.quoted()
    view = bot.open_form(user=AGENT2)
    assert view_shipper_reference(view) != first.request.shipper_reference
    state = example_state(shipper_reference=first.request.shipper_reference)
    response = bot.driver.submit_view(view, state, user=AGENT2)
    assert response.status_code == 200
    ack = response.json()
    assert ack["response_action"] == "errors", ack
    assert ack["errors"] == {
        "shipper_reference": f"Already used by {first.carrier_reference} in #shipping. "
        "Shipper references are unique: enter another one."
    }
    assert bot.fake.is_open(view["id"]), "the form stays open with what was typed"
    assert bot.store.holder_of_reference(first.request.shipper_reference) == first.id
    assert len(bot.fake.messages(CHANNEL)) == 1
    # The agent changes the reference and the same form goes through.
    again = bot.driver.submit_view(view, example_state(shipper_reference="MINE-2"), user=AGENT2)
    assert again.status_code == 200 and not again.content.strip()
    second = bot.store.find_by_reference("MINE-2")
    assert second is not None
    bot.wait_step(second.id, Step.QUOTED)


def test_a_reused_reference_abroad_is_refused_on_page_one(bot: Harness) -> None:
    first = bot.quoted()
    view = bot.open_form()
    state = example_state(
        shipper_reference=first.request.shipper_reference,
        address_country="FR",
        address_postcode="75001",
        address_town="Paris",
    )
    ack = bot.driver.submit_view(view, state).json()
    assert ack["response_action"] == "errors", ack
    assert "Already used by" in ack["errors"]["shipper_reference"]


def test_a_reference_used_in_a_channel_the_agent_cannot_see_is_not_named(
    bot: Harness,
) -> None:
    bot.fake.add_channel("C0PRIVATE", private=True, name="vip")
    first = bot.quoted(channel="C0PRIVATE")
    view = bot.open_form(user=AGENT2)
    state = example_state(shipper_reference=first.request.shipper_reference)
    ack = bot.driver.submit_view(view, state, user=AGENT2).json()
    text = ack["errors"]["shipper_reference"]
    assert text.startswith("Already used by another consignment.")
    assert "vip" not in text and str(first.carrier_reference) not in text
