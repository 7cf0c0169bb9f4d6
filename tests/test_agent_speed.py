"""Agent speed, end to end: "Ship to this address" on a message, Ship again, parcel presets and
`/ship POSTCODE`, through the real app over signed HTTP, the fake Slack and the sandbox carrier.

Every prefilled form goes through the same submission as a typed one, so these tests submit
what the modal shows (plus what the agent types) and check what the store kept.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from blocks.payloads import FormMetadata
from bot.devslack.server import FakeSlack
from bot.intake.forms import parse_shipment
from bot.models import Step
from bot.store.writes import Store
from tests.form_states import example_state, initial, shown, state_from_modal_initials, typed_over
from tests.harness import AGENT, AGENT2, CHANNEL, BotWith, Harness, interaction, wait_for_modal

PRESETS = "Small box=30x20x10@1.0;Mailer=35x25x3@0.3"
OTHER_CHANNEL = "C0OTHER01"

_parsed = parse_shipment(example_state())
assert not isinstance(_parsed, dict)
EXAMPLE_REQUEST = _parsed

CUSTOMER_MESSAGE = (
    "Hi team, my order never arrived, could you send a replacement to:\n"
    "Rosa Customer\n"
    "Flat 2, 10 Downing Street\n"
    "London\n"
    "SW1A 2AA\n"
    "rosa@example.com · 07700 900123\n"
    "Thanks!"
)

# What the form shows after "Ship to this address" on CUSTOMER_MESSAGE.
FROM_THE_MESSAGE = {
    "recipient_name": "Rosa Customer",
    "address_line1": "Flat 2",
    "address_line2": "10 Downing Street",
    "address_town": "London",
    "address_postcode": "SW1A 2AA",
    "address_country": "GB",
    "recipient_email": "rosa@example.com",
    "recipient_phone": "07700 900123",
}
# What Ship again copies from the harness's quoted consignment; the order number is left
# for the agent.
COPIED = {
    "recipient_name": "Rosa Customer",
    "address_postcode": "SW1A 2AA",
    "parcel_count": "2",
    "parcel_weight_kg": "1.2",
    "parcel_length_cm": "30",
    "contents": "Running shoes",
    "order_number": None,
}


@pytest.fixture
def agent(fake_slack: FakeSlack, bot_with: BotWith) -> Harness:
    """The bot with two parcel presets set."""
    fake_slack.add_channel(OTHER_CHANNEL)
    return bot_with(shipbot_parcel_presets=PRESETS)


def first_text(view: dict[str, Any]) -> str:
    return str(view["blocks"][0].get("text", {}).get("text", ""))


# --- "Ship to this address" ---------------------------------------------------------------


def test_ship_to_this_address_opens_the_form_filled_from_the_message(agent: Harness) -> None:
    opened = len(agent.fake.opened_views())
    response = agent.driver.message_shortcut(CHANNEL, "ship_to_address", text=CUSTOMER_MESSAGE)
    assert response.status_code == 200, response.text
    view = wait_for_modal(agent.fake, opened)

    assert view["callback_id"] == "ship_form"
    assert agent.fake.calls_to("views.open")[-1].ok
    assert shown(view, *FROM_THE_MESSAGE) == FROM_THE_MESSAGE
    assert view["blocks"][0]["block_id"] == "parcel_preset"  # all found: no notice on top

    # The agent picks a box and says what's inside; the submission is validated as typed.
    agent.driver.click_in_view(view["id"], "parcel_preset", "Small box")
    agent.wait(lambda: initial(agent.fake.views[view["id"]], "parcel_weight_kg") == "1.0")
    view = agent.fake.views[view["id"]]
    state = typed_over(view, declared_value="25", contents="Running shoes")
    response = agent.driver.submit_view(view, state)
    assert response.status_code == 200 and not response.content.strip(), response.text

    record = agent.store.find_by_reference(str(initial(view, "shipper_reference")))
    assert record is not None and record.channel_id == CHANNEL
    assert record.request.recipient.name == "Rosa Customer"
    assert record.request.recipient.postcode == "SW1A 2AA"
    assert record.request.parcel.weight_kg == 1 and record.request.parcel.length_cm == 30
    agent.wait_step(record.id, Step.QUOTED)


def test_what_the_message_does_not_say_is_left_empty_and_said_on_top(agent: Harness) -> None:
    opened = len(agent.fake.opened_views())
    text = "Please ship to Rosa Customer, 10 Downing Street, London. Thanks"
    agent.driver.message_shortcut(CHANNEL, "ship_to_address", text=text)
    view = wait_for_modal(agent.fake, opened)
    assert "Couldn't find a postcode" in first_text(view)
    assert initial(view, "address_postcode") is None
    # Submitting it as it is gives the form's own field errors, exactly as a typed form.
    response = agent.driver.submit_view(view, state_from_modal_initials(view))
    ack = response.json()
    assert ack["response_action"] == "errors" and "parcel_weight_kg" in ack["errors"]


def test_the_shortcut_is_refused_to_someone_who_may_not_ship(bot_with: BotWith) -> None:
    h = bot_with(shipbot_ship_users=[AGENT2])
    response = h.driver.message_shortcut(CHANNEL, "ship_to_address", text=CUSTOMER_MESSAGE)
    assert response.status_code == 200
    url = h.driver.last_response_url
    assert url
    h.wait(lambda: bool(h.fake.responses_to(url)))
    assert "ship" in h.fake.responses_to(url)[-1]["text"]
    assert h.fake.opened_views() == []


# --- Ship again --------------------------------------------------------------------------


def test_ship_again_from_the_thread_button_repeats_the_consignment(agent: Harness) -> None:
    first = agent.quoted()
    agent.click_quote(first)
    first = agent.wait_step(first.id, Step.UPLOADED)
    assert first.quotes_ts

    opened = len(agent.fake.opened_views())
    response = agent.driver.click(CHANNEL, first.quotes_ts, "ship_again")
    assert response.status_code == 200, response.text
    view = wait_for_modal(agent.fake, opened)

    assert "Copied from" in first_text(view)
    assert shown(view, *COPIED) == COPIED
    new_reference = initial(view, "shipper_reference")
    assert new_reference and new_reference != first.request.shipper_reference

    # Inputs: [Ship again], the order number, [Get quotes].
    response = agent.driver.submit_view(view, typed_over(view, order_number="1183"))
    assert response.status_code == 200 and not response.content.strip(), response.text
    second = agent.store.find_by_reference(str(new_reference))
    assert second is not None and second.id != first.id
    assert second.repeats == first.id and second.repeats_reference == first.reference
    assert second.request.recipient == first.request.recipient
    assert second.request.parcel == first.request.parcel
    assert second.request.order_number == "1183"

    second = agent.wait_step(second.id, Step.QUOTED)
    assert second.message_ts
    parent = agent.fake.message(CHANNEL, second.message_ts)  # the thread's first message
    assert f"Repeats {first.reference}" in json.dumps(parent.blocks, ensure_ascii=False)
    assert agent.fake.thread(CHANNEL, second.message_ts)  # its quotes are in that thread
    assert any(
        e.action == "ship again" and e.outcome == "opened" for e in agent.store.audit_log(first.id)
    )


def test_ship_again_by_reference_abroad_prefills_the_customs_page(agent: Harness) -> None:
    first = agent.quoted(international=True)
    assert first.request.customs is not None

    opened = len(agent.fake.opened_views())
    response = agent.driver.command(f"again {first.request.shipper_reference}")
    assert response.status_code == 200 and not response.content.strip(), response.text
    view = wait_for_modal(agent.fake, opened)
    assert initial(view, "address_country") == "FR"

    response = agent.driver.submit_view(view, state_from_modal_initials(view))
    page = response.json()
    assert page["response_action"] == "update", page
    customs = page["view"]
    assert initial(customs, "customs_hs_code") == first.request.customs.hs_code
    assert initial(customs, "customs_reason") == first.request.customs.reason.value

    response = agent.driver.submit_view(view["id"], state_from_modal_initials(customs))
    assert response.status_code == 200 and not response.content.strip(), response.text
    second = agent.store.find_by_reference(str(initial(view, "shipper_reference")))
    assert second is not None and second.repeats == first.id
    assert second.request.customs == first.request.customs


def test_ship_again_answers_only_about_this_channels_consignments(agent: Harness) -> None:
    first = agent.quoted()
    opened = len(agent.fake.opened_views())
    response = agent.driver.command(f"again {first.reference}", channel=OTHER_CHANNEL, user=AGENT2)
    assert response.status_code == 200
    assert "find" in response.json()["text"].lower()
    response = agent.driver.command("again")
    assert "/ship again" in response.json()["text"]
    assert len(agent.fake.opened_views()) == opened


# --- parcel presets and /ship POSTCODE ------------------------------------------------------


def test_choosing_a_preset_updates_dimensions_and_weight_and_keeps_what_was_typed(
    agent: Harness,
) -> None:
    view = agent.open_form()
    preset = view["blocks"][0]
    assert preset["block_id"] == "parcel_preset"
    assert [o["value"] for o in preset["accessory"]["options"]] == ["Small box", "Mailer"]

    typed = {"recipient_name": {"value": {"type": "plain_text_input", "value": "Sam Typed"}}}
    response = agent.driver.click_in_view(view["id"], "parcel_preset", "Mailer", values=typed)
    assert response.status_code == 200 and not response.content.strip()
    agent.wait(lambda: bool(agent.fake.calls_to("views.update")))
    [call] = agent.fake.calls_to("views.update")
    assert call.ok and call.args["hash"] == view["hash"]

    now = agent.fake.views[view["id"]]
    assert now["hash"] != view["hash"]
    assert [initial(now, b) for b in ("parcel_length_cm", "parcel_width_cm")] == ["35", "25"]
    assert [initial(now, b) for b in ("parcel_height_cm", "parcel_weight_kg")] == ["3", "0.3"]
    assert initial(now, "recipient_name") == "Sam Typed"
    assert now["blocks"][0]["accessory"]["initial_option"]["value"] == "Mailer"


def test_a_preset_chosen_on_a_stale_view_is_ignored(agent: Harness) -> None:
    """views.update with the click's hash: a view changed since then is not overwritten."""
    view = agent.open_form()
    stale = agent.driver.click_in_view_payload(view["id"], "parcel_preset", "Small box")
    agent.driver.click_in_view(view["id"], "parcel_preset", "Mailer")
    agent.wait(lambda: len(agent.fake.calls_to("views.update")) == 1)

    response = agent.post(interaction(stale))
    assert response.status_code == 200
    agent.wait(lambda: len(agent.fake.calls_to("views.update")) == 2)
    assert agent.fake.calls_to("views.update")[-1].error == "hash_conflict"
    assert initial(agent.fake.views[view["id"]], "parcel_weight_kg") == "0.3"  # still Mailer
    assert agent.fake.ephemerals == []  # nothing to tell the agent


def test_ship_postcode_opens_the_form_with_the_postcode(agent: Harness) -> None:
    opened = len(agent.fake.opened_views())
    response = agent.driver.command("sw1a2aa")
    assert response.status_code == 200 and not response.content.strip(), response.text
    view = wait_for_modal(agent.fake, opened)
    assert initial(view, "address_postcode") == "SW1A 2AA"
    assert initial(view, "address_country") == "GB"
    assert view["blocks"][0]["block_id"] == "parcel_preset"

    response = agent.driver.command("hello")
    assert "don't know" in response.json()["text"] + json.dumps(response.json()["blocks"])


def test_ship_again_from_a_status_card(agent: Harness) -> None:
    """The status card of any consignment (here one still quoting) has Ship again too."""
    first = agent.quoted()
    agent.driver.command(f"status {first.reference}")
    url = agent.driver.last_response_url
    assert url
    agent.wait(lambda: bool(agent.fake.responses_to(url)))
    card = agent.fake.responses_to(url)[-1]
    assert "ship_again" in json.dumps(card["blocks"])


# --- what "repeats" is stored as ---------------------------------------------------------


def test_form_metadata_carries_what_it_repeats() -> None:
    metadata = FormMetadata(channel=CHANNEL, response_url="https://x", repeats=12)
    assert FormMetadata.decode(metadata.encode()) == metadata
    assert FormMetadata.decode('{"channel":"C1","repeats":true}') == FormMetadata("C1")
    assert FormMetadata.decode('{"channel":"C1","repeats":"12"}') == FormMetadata("C1")


def test_a_database_from_before_ship_again_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE consignments DROP COLUMN repeats")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()

    store = Store(path)
    try:
        cid, _ = store.add_consignment(
            EXAMPLE_REQUEST, channel_id=CHANNEL, created_by=AGENT2, response_url=None, view_id="V1"
        )
        again = EXAMPLE_REQUEST.model_copy(update={"shipper_reference": "SHIP-AGAIN-1"})
        cid2, _ = store.add_consignment(
            again,
            channel_id=CHANNEL,
            created_by=AGENT2,
            response_url=None,
            view_id="V2",
            repeats=cid,
        )
        record = store.get(cid2)
        assert record is not None and record.repeats == cid
        assert record.repeats_reference == EXAMPLE_REQUEST.shipper_reference
        original = store.get(cid)
        assert original is not None and original.repeats is None
    finally:
        store.close()


def test_a_preset_chosen_by_someone_not_allowed_to_ship_changes_nothing(bot_with: BotWith) -> None:
    h = bot_with(shipbot_parcel_presets=PRESETS, shipbot_ship_users=[AGENT2])
    view = h.open_form(user=AGENT2)
    h.driver.click_in_view(view["id"], "parcel_preset", "Small box", user=AGENT)
    h.wait(
        lambda: any(
            e.actor == AGENT and e.outcome == "refused (not allowed)" for e in h.store.audit_log()
        )
    )
    h.bot.runner.wait_idle()
    assert h.fake.calls_to("views.update") == []
