"""Every button checks the role of the person pressing it, before any carrier call or modal,
and a look-up answers only about its own channel. Each intruder's click is refused privately,
audited, and leaves the carrier's request log and the open modals as they were."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from blocks.payloads import FixAddressMetadata, FormMetadata, slack_length
from bot.devslack.server import FakeSlack
from bot.models import ConsignmentRecord, Step
from bot.sandbox.server import RunningSandbox
from tests.form_states import example_customs_state, example_state
from tests.harness import AGENT, AGENT2, CHANNEL, Harness, running_bot

LEAD = "U0LEAD001"  # = tests.conftest.LEAD, who holds every role in `strict`
INTRUDER = AGENT
ELSEWHERE = "C0GENERAL"


def _refused_privately(h: Harness, who: str) -> None:
    h.wait(lambda: any(who in (a.get("text") or "") for a in _answers(h)))


def _answers(h: Harness) -> list[dict[str, Any]]:
    return [a for answers in h.fake.responses.values() for a in answers]


def _untouched(h: Harness, record: ConsignmentRecord, step: Step, carrier_calls: int) -> None:
    h.bot.runner.wait_idle()
    assert h.store.require(record.id).step is step
    assert len(h.sandbox.requests()) == carrier_calls  # no carrier call at all
    refusals = [
        e
        for e in h.store.audit_log(record.id)
        if e.actor == INTRUDER and e.outcome == "refused (not allowed)"
    ]
    assert refusals, "the refusal is audited"


def _thread_button(h: Harness, record: ConsignmentRecord, action_id: str) -> str:
    assert record.message_ts
    for message in reversed(h.fake.thread(record.channel_id, record.message_ts)):
        if action_id in json.dumps(message.blocks):
            return message.ts
    raise AssertionError(f"no {action_id} button in the thread")


def test_try_again_by_an_intruder_runs_nothing(strict: Harness) -> None:
    h = strict
    h.sandbox.arm_fault(r"^/consignments$", method="POST", status=503, count=3)
    record = h.ship(user=AGENT2)
    failed = h.wait_step(record.id, Step.FAILED)
    calls = len(h.sandbox.requests())
    ts = _thread_button(h, failed, "try_again")
    h.driver.click(CHANNEL, ts, "try_again", str(record.id), user=INTRUDER)
    _refused_privately(h, "can ship parcels")
    _untouched(h, failed, Step.FAILED, calls)


def test_edit_the_form_by_an_intruder_opens_no_modal(strict: Harness) -> None:
    h = strict
    record = h.ship(user=AGENT2, address_postcode="ZY1 1AA")  # refused by the carrier
    failed = h.wait_step(record.id, Step.FAILED)
    calls, opened = len(h.sandbox.requests()), len(h.fake.opened_views())
    ts = _thread_button(h, failed, "edit_form")
    h.driver.click(CHANNEL, ts, "edit_form", str(record.id), user=INTRUDER)
    _refused_privately(h, "can ship parcels")
    _untouched(h, failed, Step.FAILED, calls)
    assert len(h.fake.opened_views()) == opened  # the recipient's details stay unseen


def test_a_resubmission_by_an_intruder_changes_nothing(strict: Harness) -> None:
    """A forged corrected form (the intruder's own modal, pointed at a refused consignment)."""
    h = strict
    record = h.ship(user=AGENT2, address_postcode="ZY1 1AA")
    failed = h.wait_step(record.id, Step.FAILED)
    calls = len(h.sandbox.requests())
    view = h.open_form(user=AGENT2)
    payload = h.driver.view_submission_payload(
        view["id"], example_state(address_postcode="E1 6AN"), user=INTRUDER
    )
    payload["view"]["private_metadata"] = FormMetadata(CHANNEL, None, record.id).encode()
    response = h.driver.post_payload(payload)
    ack = response.json()
    assert ack["response_action"] == "errors" and "can ship parcels" in json.dumps(ack)
    page_blocks = {b.get("block_id") for b in payload["view"]["blocks"]}
    assert set(ack["errors"]) <= page_blocks  # keyed to a block of the submitted page
    _untouched(h, failed, Step.FAILED, calls)
    assert h.store.require(record.id).request.recipient.postcode == "ZY1 1AA"


def test_reprint_manifest_and_cancel_by_an_intruder(strict: Harness) -> None:
    h = strict
    record = h.quoted(user=AGENT2)
    h.click_quote(record, user=AGENT2)
    done = h.wait_step(record.id, Step.UPLOADED)
    calls = len(h.sandbox.requests())
    assert done.quotes_ts
    h.driver.click(CHANNEL, done.quotes_ts, "op_reprint", str(record.id), user=INTRUDER)
    _refused_privately(h, "can ship parcels")
    response = h.driver.command("manifest", user=INTRUDER)
    assert "can manifest" in response.json()["text"]
    h.driver.click(CHANNEL, done.quotes_ts, "op_cancel", str(record.id), user=INTRUDER)
    _refused_privately(h, "can cancel consignments")
    _untouched(h, done, Step.UPLOADED, calls)
    assert len([f for f in h.fake.files if f.filename.endswith(".pdf")]) == 1  # no reprint


def test_look_ups_answer_only_about_their_own_channel(harness: Harness) -> None:
    h = harness
    record = h.quoted(user=AGENT2)  # in the shipping channel
    h.fake.add_channel(ELSEWHERE)
    for text in (
        f"status {record.reference}",
        f"audit {record.reference}",
        f"label {record.reference}",
        f"cancel {record.reference}",
        f"find {record.request.recipient.postcode}",
        f"find {record.request.shipper_reference}",
    ):
        response = h.driver.command(text, channel=ELSEWHERE, user=INTRUDER)
        said = json.dumps(response.json(), ensure_ascii=False)
        assert record.request.recipient.name not in said, text
        assert record.request.recipient.postcode not in said or "find" in text, text
        assert "I can't find" in said or "Nothing" in said or "No consignment" in said, said
    # In its own channel, anyone there may look it up.
    response = h.driver.command(f"status {record.reference}", channel=CHANNEL, user=INTRUDER)
    assert "Looking up" in response.json()["text"]


def test_an_emoji_form_abroad_reaches_its_customs_page_and_ships(harness: Harness) -> None:
    """Page 1's answers wait in the store, so private_metadata stays small whatever was typed."""
    emoji = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
    view = harness.open_form()
    state = example_state(
        recipient_name=f"Rosa {emoji}{emoji}{emoji}",
        recipient_company=emoji * 4,
        address_line1=f"10 Straße {emoji}{emoji}",
        address_line2=emoji * 4,
        address_town=f"Berlin {emoji}",
        address_country="DE",
        address_postcode="10115",
        contents=f"Shoes {emoji * 3}",
        order_number=emoji * 4,
        shipper_reference=next(
            b["element"]["initial_value"]
            for b in view["blocks"]
            if b.get("block_id") == "shipper_reference"
        ),
    )
    response = harness.driver.submit_view(view, state)
    ack = response.json()
    assert ack["response_action"] == "update", ack
    assert slack_length(ack["view"]["private_metadata"]) <= 3000
    response = harness.driver.submit_view(view["id"], example_customs_state())
    assert response.status_code == 200 and not response.content.strip(), response.text
    record = harness.store.find_by_reference(state["shipper_reference"]["value"]["value"])
    assert record is not None and record.request.recipient.name.startswith("Rosa 👨")
    harness.wait_step(record.id, Step.QUOTED)


def test_a_refused_resubmission_on_the_customs_page_names_a_block_of_that_page(
    harness: Harness,
) -> None:
    h = harness
    record = h.quoted()  # not refused: a corrected form for it is refused by the flow
    view = h.open_form()
    # The corrected form of a consignment, as an Edit the form modal would carry it.
    payload = h.driver.view_submission_payload(
        view["id"],
        example_state(
            shipper_reference=record.request.shipper_reference,
            address_country="FR",
            address_postcode="75001",
            address_town="Paris",
        ),
    )
    payload["view"]["private_metadata"] = FormMetadata(CHANNEL, None, record.id).encode()
    page1 = h.driver.post_payload(payload)
    h.fake.apply_view_ack(view["id"], page1.json())
    customs_view = page1.json()["view"]
    response = h.driver.submit_view(view["id"], example_customs_state())
    ack = response.json()
    assert ack["response_action"] == "errors", ack
    customs_blocks = {b.get("block_id") for b in customs_view["blocks"]}
    assert set(ack["errors"]) <= customs_blocks, (ack["errors"], customs_blocks)
    assert "already sent again" in json.dumps(ack)


def test_get_fresh_quotes_by_an_intruder_gets_none(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with running_bot(fake_slack, sandbox, tmp_path / "q.db", shipbot_ship_users=[AGENT2]) as h:
        record = h.quoted(user=AGENT2)
        sandbox.advance_clock(16 * 60)
        h.click_quote(record, user=AGENT2)  # refused by the carrier: expired
        expired = h.wait_step(record.id, Step.EXPIRED)
        calls = len(h.sandbox.requests())
        assert expired.quotes_ts
        h.driver.click(CHANNEL, expired.quotes_ts, "requote", str(record.id), user=INTRUDER)
        _refused_privately(h, "can ship parcels")
        _untouched(h, expired, Step.EXPIRED, calls)


def test_app_home_shows_only_the_users_own_consignments(harness: Harness) -> None:
    h = harness
    mine = h.quoted(user=AGENT2)
    for user, sees in ((AGENT2, True), (INTRUDER, False)):
        response = h.driver.event(
            {"type": "app_home_opened", "user": user, "channel": "D0HOME01", "tab": "home"}
        )
        assert response.status_code == 200
        h.wait(lambda user=user: user in h.fake.home_views)  # type: ignore[misc]
        shown = json.dumps(h.fake.home_views[user], ensure_ascii=False)
        assert (mine.reference in shown) is sees, (user, shown[:300])


def test_private_metadata_past_slacks_limit_drops_only_the_response_url() -> None:
    """A forged response_url could push a form's private_metadata past 3,000 characters:
    it is left out, and where the form goes and what it is about are kept."""
    url = "https://hooks.slack.com/" + "x" * 4000
    form = FormMetadata(CHANNEL, url, consignment=7, repeats=3, returns=5)
    fix = FixAddressMetadata("EC-000-123", CHANNEL, url)
    for metadata in (form, fix):
        text = metadata.encode()
        assert slack_length(text) <= 3000
        assert type(metadata).decode(text) == replace(metadata, response_url=None)
