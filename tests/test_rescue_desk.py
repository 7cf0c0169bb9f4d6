"""The delivery desk through the real interfaces: signed Slack requests into the app, the
fake Slack, the sandbox seeded with consignments "made by the webshop" (bot/sandbox/seed.py:
100234 Allocated, 100235 Ready To Ship, 100236 Allocation Failed, 100237 Unallocated,
100238 Manifested, 100239 with the carrier, 100240 cancelled + live, 100241 two live)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.demo import fill_form
from bot.devslack.records import Ephemeral
from bot.devslack.server import FakeSlack
from bot.models import ConsignmentRecord, Step
from bot.sandbox.seed import FAILED_MESSAGE
from bot.sandbox.server import RunningSandbox
from tests.harness import AGENT, AGENT2, CHANNEL, Harness, running_bot

SANDBOX_SEED = 5  # for conftest's module-wide `shared_sandbox`
SANDBOX_SEED_ORDERS = 8


@pytest.fixture
def sandbox(fresh_sandbox: RunningSandbox) -> RunningSandbox:
    """conftest's `harness` runs on this: the seeded sandbox, fresh for each test."""
    return fresh_sandbox


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def card(h: Harness, text: str, user: str = AGENT, *, command: str = "status") -> Ephemeral:
    """`/ship status <text>` and the card the job sends back (an ephemeral)."""
    before = len(h.fake.ephemerals)
    response = h.driver.command(f"{command} {text}", channel=CHANNEL, user=user)
    assert response.status_code == 200, response.text

    def answers() -> list[Ephemeral]:
        new = h.fake.ephemerals[before:]
        return [e for e in new if e.user == user and not e.text.startswith("⏳")]

    h.wait(lambda: bool(answers()))
    return answers()[-1]


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    ids = []
    for block in blocks:
        if (block.get("accessory") or {}).get("type") == "button":
            ids.append(block["accessory"]["action_id"])
        ids += [e["action_id"] for e in block.get("elements", []) if e.get("type") == "button"]
    return ids


def adopted(h: Harness, reference: str, *steps: Step) -> ConsignmentRecord:
    h.wait(lambda: h.store.find_by_reference(reference) is not None)
    record = h.store.find_by_reference(reference)
    assert record is not None
    return h.wait_step(record.id, *steps)


def test_found_at_sorted_pro_by_order_tracking_and_reference_with_each_states_actions(
    harness: Harness,
) -> None:
    allocated = card(harness, "100234")
    text = _dump(allocated.blocks)
    assert "Order 100234" in text and "from the webshop" in text and "Allocated" in text
    booked = ["found_reship", "found_address", "found_return"]
    assert buttons(allocated.blocks) == booked
    reference = allocated.blocks[-2]["block_id"].removeprefix("found-")
    # The same consignment by its EC- reference and by its tracking number.
    assert buttons(card(harness, reference).blocks) == booked
    detail = harness.bot.core.carrier.get_consignment_detail(reference)
    by_tracking = card(harness, detail.tracking_numbers[0])
    assert reference in _dump(by_tracking.blocks)

    ready = card(harness, "100235")
    assert "Ready To Ship" in _dump(ready.blocks) and buttons(ready.blocks) == booked
    failed = card(harness, "100236")
    assert FAILED_MESSAGE in _dump(failed.blocks) and buttons(failed.blocks) == [
        "found_quotes",
        "found_address",
    ]
    assert buttons(card(harness, "100237").blocks) == ["found_quotes", "found_address"]
    manifested = card(harness, "100238")
    reship, _ = [
        e for b in manifested.blocks for e in b.get("elements", []) if e.get("type") == "button"
    ]
    assert buttons(manifested.blocks) == ["found_reship", "found_return"]
    assert "carrier already has its data" in _dump(reship["confirm"])
    moving = card(harness, "100239")
    assert "carrier has it already" in _dump(moving.blocks)
    assert buttons(moving.blocks) == ["found_replace", "found_return"]
    # Cancelled and live share the order number: the live one only.
    remade = card(harness, "100240")
    assert "Allocated" in _dump(remade.blocks) and "Cancelled" not in _dump(remade.blocks)
    # Two live: a list to pick from.
    twice = card(harness, "100241")
    assert "2 consignments at Sorted PRO" in twice.text
    assert buttons(twice.blocks) == ["found_refresh", "found_refresh"]
    nothing = card(harness, "999999")
    assert "Neither shipbot nor Sorted PRO" in nothing.text
    assert harness.store.list_in(list(Step)) == []  # looking takes nothing over


def test_ship_with_another_service_exactly_once_under_two_agents(harness: Harness) -> None:
    first, second = card(harness, "100234"), card(harness, "100234", user=AGENT2)
    reference = first.blocks[-2]["block_id"].removeprefix("found-")
    old = harness.bot.core.carrier.get_consignment_detail(reference)
    # Two agents take it over at once: one thread; the second is pointed at it.
    clicks = [
        threading.Thread(target=harness.driver.click_ephemeral, args=(e, "found_reship"))
        for e in (first, second)
    ]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    record = adopted(harness, reference, Step.REQUOTED)
    assert record.found_source == "Api" and record.request.order_number == "100234"
    channel = [m for m in harness.fake.messages(CHANNEL) if m.thread_ts is None]
    assert len(channel) == 1 and "📥 Order 100234 · from the webshop" in _dump(channel[0].blocks)
    assert any("has taken" in e.text for e in harness.fake.ephemerals)
    assert [a.action for a in harness.store.audit_log(record.id)].count("take over") == 1
    quotes = harness.quotes_message(record)
    assert "Ship with another service" in _dump(quotes.blocks) and old.service_name
    assert old.service_name in _dump(quotes.blocks)  # the current one, beside the others
    other = next(q for q in record.quotes if q.service_name != old.service_name)
    # Double click and a second agent: one deallocate, one allocate.
    choose = [
        threading.Thread(
            target=harness.click_quote, args=(record, other.reference), kwargs={"user": u}
        )
        for u in (AGENT, AGENT2, AGENT)
    ]
    for t in choose:
        t.start()
    for t in choose:
        t.join()
    done = harness.wait_step(record.id, Step.UPLOADED)
    assert harness.sandbox.count("PUT", r"/deallocate$") == 1
    assert harness.allocations_at_carrier() == 1
    assert done.allocation and done.allocation.service_name == other.service_name
    assert set(done.allocation.tracking_numbers).isdisjoint(old.tracking_numbers)
    thread = _dump([m.blocks for m in harness.fake.thread(CHANNEL, record.message_ts or "")])
    assert "booking is released" in thread and "its label is void" in thread
    assert any(f.filename == f"{reference}.pdf" for f in harness.fake.files)
    # It is one of ours now: /ship list shows it.
    listed = harness.driver.command("list", channel=CHANNEL).json()
    assert reference in _dump(listed["blocks"])


def test_ready_to_ship_is_set_back_first_and_a_lost_deallocate_reply_is_read(
    harness: Harness,
) -> None:
    found = card(harness, "100235")
    reference = found.blocks[-2]["block_id"].removeprefix("found-")
    harness.driver.click_ephemeral(found, "found_reship")
    record = adopted(harness, reference, Step.REQUOTED)
    harness.sandbox.arm_fault(r"/deallocate$", "timeout", seconds=3)  # the reply is lost
    harness.click_quote(record, record.quotes[-1].reference)
    harness.wait_step(record.id, Step.UPLOADED, timeout=15)
    calls = [
        (r["method"], r["path"].rsplit("/", 1)[-1])
        for r in harness.sandbox.requests()
        if r["method"] == "PUT"
    ]
    assert [c for c in calls if c[1] in ("setnotreadytoship", "deallocate")] == [
        ("PUT", "setnotreadytoship"),
        ("PUT", "deallocate"),
    ]
    assert calls[-1][0] == "PUT" and "allocation" in _dump(harness.sandbox.requests()[-5:])
    outcomes = [a.outcome for a in harness.store.audit_log(record.id) if a.action == "deallocate"]
    assert outcomes and "reply lost" in outcomes[0]


def test_the_allocate_refused_after_the_deallocate_says_the_booking_was_released(
    harness: Harness,
) -> None:
    found = card(harness, "100234")
    reference = found.blocks[-2]["block_id"].removeprefix("found-")
    old = harness.bot.core.carrier.get_consignment_detail(reference).service_name
    harness.driver.click_ephemeral(found, "found_reship")
    record = adopted(harness, reference, Step.REQUOTED)
    harness.sandbox.arm_fault(r"/allocatewithquote/", status=400)
    harness.click_quote(record, record.quotes[-1].reference)
    failed = harness.wait_step(record.id, Step.FAILED)
    assert failed.problem and "booking was released; the new one failed" in failed.problem.message
    thread = harness.fake.thread(CHANNEL, record.message_ts or "")
    problem = thread[-1]
    assert f"The {old}" in problem.text or "booking was released" in problem.text
    assert "Nothing was bought" not in _dump(problem.blocks)
    assert buttons(problem.blocks) == ["requote", "retry_quote"]
    harness.driver.click(CHANNEL, problem.ts, "retry_quote", user=AGENT)
    done = harness.wait_step(record.id, Step.UPLOADED)
    assert done.released_service is None and harness.allocations_at_carrier() == 2


def test_get_quotes_on_a_failed_allocation_takes_it_over_and_ships_it(harness: Harness) -> None:
    found = card(harness, "100236")
    reference = found.blocks[-2]["block_id"].removeprefix("found-")
    harness.driver.click_ephemeral(found, "found_quotes")
    record = adopted(harness, reference, Step.QUOTED)
    harness.click_quote(record)
    done = harness.wait_step(record.id, Step.UPLOADED)
    assert done.allocation and done.carrier_reference == reference
    assert harness.sandbox.count("POST", r"^/consignments$") == 0  # nothing made anew


def test_a_replacement_form_is_filled_from_the_carriers_record(harness: Harness) -> None:
    found = card(harness, "100239")
    reference = found.blocks[-2]["block_id"].removeprefix("found-")
    opened = len(harness.fake.opened_views())
    harness.driver.click_ephemeral(found, "found_replace")
    harness.wait(lambda: len(harness.fake.opened_views()) > opened)
    view = _dump(harness.fake.opened_views()[-1])
    assert "Sam" in view and "Reid" in view and "PL1 2AA" in view and "100239" in view
    assert "A replacement for" in view
    record = harness.store.find_by_reference(reference)
    assert record is not None and record.step is Step.MANIFESTED  # taken over, not changed


def test_taking_over_needs_the_ship_role(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with running_bot(fake_slack, sandbox, tmp_path / "roles.db", shipbot_ship_users=[AGENT2]) as h:
        found = card(h, "100234")
        h.driver.click_ephemeral(found, "found_reship")
        h.wait(lambda: any("Only <@" in e.text for e in h.fake.ephemerals))
        h.bot.runner.wait_idle()
        assert h.store.list_in(list(Step)) == []
        assert h.sandbox.count("PUT", r"/deallocate$") == 0


def test_fix_the_address_of_a_booked_one_releases_updates_whole_and_requotes(
    harness: Harness,
) -> None:
    found = card(harness, "100234")
    reference = found.blocks[-2]["block_id"].removeprefix("found-")
    assert "found_address" in buttons(found.blocks)
    before = harness.bot.core.carrier.get_consignment_detail(reference)
    opened = len(harness.fake.opened_views())
    harness.driver.click_ephemeral(found, "found_address")
    harness.wait(lambda: len(harness.fake.opened_views()) > opened)
    view = harness.fake.opened_views()[-1]
    assert view["callback_id"] == "fix_address"
    assert "releases that booking" in _dump(view) and "1 High Street" in _dump(view)
    # Bad input: a clear answer on the field, nothing sent.
    bad = harness.driver.submit_view(view, fill_form(view, {"address_postcode": "nonsense"}))
    assert "address_postcode" in bad.json()["errors"]
    assert harness.store.find_by_reference(reference) is None
    good = fill_form(view, {"address_line1": "2 High Street", "address_postcode": "LS1 6TJ"})
    assert harness.driver.submit_view(view, good).status_code == 200
    record = adopted(harness, reference, Step.QUOTED)
    assert harness.sandbox.count("PUT", r"/deallocate$") == 1
    assert harness.sandbox.count("PUT", r"^/consignments/?$") == 1  # one full update
    after = harness.bot.core.carrier.get_consignment_detail(reference)
    assert after.postcode == "LS1 6TJ" and after.state.value == "Unallocated"
    assert after.order_number == "100234" and after.source == before.source
    assert after.recipient and after.recipient.email == before.recipient.email  # type: ignore[union-attr]
    thread = _dump([m.blocks for m in harness.fake.thread(CHANNEL, record.message_ts or "")])
    assert "booking is released" in thread and "Address fixed at Sorted PRO" in thread
    assert record.quotes and record.request.recipient.line1 == "2 High Street"
    actions = [a.action for a in harness.store.audit_log(record.id)]
    assert actions.index("deallocate") < actions.index("update") < actions.index("quotes")
