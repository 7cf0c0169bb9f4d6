"""The Quotes flow end to end: signed requests in, fake Slack and sandbox carrier out."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bot.devslack.server import FakeSlack
from bot.models import STILL_QUOTING, Step
from bot.sandbox.server import RunningSandbox
from tests.form_states import example_state
from tests.harness import (
    AGENT,
    AGENT2,
    CHANNEL,
    Harness,
    Runs,
    at_once,
    interaction,
    running_bot,
    view_shipper_reference,
)
from tests.moves import walk_to


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _button_ids(blocks: list[dict]) -> list[str]:
    ids = []
    for block in blocks:
        accessory = block.get("accessory")
        if accessory and accessory.get("type") == "button":
            ids.append(accessory["action_id"])
        for element in block.get("elements", []):
            if element.get("type") == "button":
                ids.append(element["action_id"])
    return ids


def test_domestic_flow_label_lands_in_the_thread(harness: Harness) -> None:
    record = harness.quoted()
    fake = harness.fake
    # The channel message says what to do; the quotes sit in its thread as buttons.
    top = fake.message(CHANNEL, record.message_ts)
    assert "Choose a quote in the thread" in _dump(top.blocks)
    quotes = harness.quotes_message(record)
    assert quotes.thread_ts == record.message_ts
    assert _button_ids(quotes.blocks).count("choose_quote") == len(record.quotes) >= 2
    assert "cheapest" in _dump(quotes.blocks)
    assert "<!date^" in _dump(quotes.blocks)

    response = harness.click_quote(record)
    assert response.status_code == 200
    done = harness.wait_step(record.id, Step.UPLOADED)

    assert harness.allocations_at_carrier() == 1
    files = [f for f in fake.files if f.thread_ts == record.message_ts]
    assert [f.filename for f in files] == [f"{done.carrier_reference}.pdf"]
    assert files[0].data.startswith(b"%PDF")
    assert files[0].channel_id == CHANNEL
    # The buttons are gone, replaced by who chose what; the label's message says who
    # allocated what, with the tracking number (one edit of the quotes message: the budget).
    after = harness.quotes_message(done)
    assert "choose_quote" not in _button_ids(after.blocks)
    assert f"<@{AGENT}>" in _dump(after.blocks)
    assert done.allocation is not None
    (label_message,) = [m for m in fake.thread(CHANNEL, done.message_ts or "") if m.files]
    assert done.allocation.tracking_numbers[0] in label_message.text
    assert f"<@{AGENT}>" in label_message.text
    assert "✅" in _dump(fake.message(CHANNEL, record.message_ts).blocks)
    # The label is kept, so a reprint needs no carrier call.
    assert harness.store.documents(record.id)[0].data == files[0].data
    actions = [e.action for e in harness.store.audit_log(record.id)]
    for expected in ("submit", "create", "quotes", "claim", "allocate", "documents", "upload"):
        assert expected in actions


def test_international_flow_uploads_customs_documents(harness: Harness) -> None:
    record = harness.quoted(international=True)
    assert record.request.customs is not None
    assert record.request.recipient.country == "FR"
    harness.click_quote(record)
    done = harness.wait_step(record.id, Step.UPLOADED)
    names = sorted(f.filename for f in harness.fake.files if f.thread_ts == record.message_ts)
    assert f"{done.carrier_reference}.pdf" in names
    customs = [n for n in names if "cn2" in n.lower()]
    assert customs, names
    assert all(
        f.data.startswith(b"%PDF") for f in harness.fake.files if f.thread_ts == record.message_ts
    )
    assert harness.sandbox.count("GET", r"^/consignments/docs/") == 1


def test_bad_fields_are_answered_in_the_modal(harness: Harness) -> None:
    view = harness.open_form()
    state = example_state(
        shipper_reference=view_shipper_reference(view),
        parcel_weight_kg="31",
        address_postcode="NOT A CODE",
        recipient_name=None,
    )
    response = harness.driver.submit_view(view, state)
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) >= {"parcel_weight_kg", "address_postcode", "recipient_name"}
    assert "30 kg" in body["errors"]["parcel_weight_kg"]
    assert harness.sandbox.count("POST", r"^/consignments$") == 0
    assert harness.fake.calls_to("chat.postMessage") == []


def test_concurrent_clicks_and_a_second_agent_allocate_once(harness: Harness) -> None:
    record = harness.quoted()
    assert record.quotes_ts
    # Every click is built from the message as the agents saw it, before any lands.
    bodies = [harness.quote_click(record, user=user) for user in [AGENT, AGENT, AGENT2] * 3]
    responses = at_once(*(partial(harness.post, body) for body in bodies))
    assert [r.status_code for r in responses] == [200] * len(bodies)
    done = harness.wait_step(record.id, Step.UPLOADED)
    assert harness.allocations_at_carrier() == 1
    assert done.claimed_by in (AGENT, AGENT2)
    # The losers are told who has it, ephemerally, through their click's response_url.
    harness.wait(lambda: len(_notices(harness)) >= len(bodies) - 1)
    assert any(f"<@{done.claimed_by}>" in n for n in _notices(harness))


def _notices(harness: Harness) -> list[str]:
    return [
        _dump(r)
        for responses in harness.fake.responses.values()
        for r in responses
        if r.get("response_type") == "ephemeral"
    ]


def test_the_same_click_delivered_twice_allocates_once(harness: Harness) -> None:
    record = harness.quoted()
    assert record.quotes_ts
    body = harness.quote_click(record)
    first = harness.post(body)
    assert first.status_code == 200
    harness.wait_step(record.id, Step.UPLOADED)
    # A proxy replays the very same request, re-signed with a fresh timestamp.
    again = harness.post(body)
    assert again.status_code == 200
    harness.wait(lambda: harness.bot.runner.idle())
    assert harness.allocations_at_carrier() == 1
    assert harness.store.get(record.id).step is Step.UPLOADED  # type: ignore[union-attr]


def test_the_same_view_submission_twice_creates_one_consignment(harness: Harness) -> None:
    view = harness.open_form()
    state = example_state(shipper_reference=view_shipper_reference(view))
    payload_view = dict(harness.fake.views[view["id"]])
    first = harness.driver.submit_view(view, state)
    assert first.status_code == 200
    # The modal is closed now; replay the exact same submission as a proxy would.
    body = {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "demo"},
        "user": {"id": AGENT, "username": "agent", "name": "agent", "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "legacy",
        "trigger_id": harness.fake.issue_trigger(),
        "view": {**payload_view, "state": {"values": state}},
        "response_urls": [],
    }
    replay = harness.post(interaction(body))
    assert replay.status_code == 200
    record = harness.store.find_by_reference(view_shipper_reference(view))
    assert record is not None
    harness.wait_step(record.id, Step.QUOTED)
    assert harness.sandbox.count("POST", r"^/consignments$") == 1
    assert len(harness.fake.messages(CHANNEL)) == 1


def test_manifest_on_command(harness: Harness) -> None:
    records = [harness.quoted(), harness.quoted(international=True)]
    for record in records:
        harness.click_quote(record)
    for record in records:
        harness.wait_step(record.id, Step.UPLOADED)
    response = harness.driver.command("manifest", user=AGENT)
    assert response.status_code == 200
    assert "Manifesting" in response.text
    for record in records:
        harness.wait_step(record.id, Step.MANIFESTED)
    # The mark is each channel message's "✅ Manifested" (no per-thread line: see README).
    harness.wait(
        lambda: all(
            "✅ Manifested" in harness.fake.message(CHANNEL, r.message_ts or "").text
            for r in records
        )
    )
    assert harness.sandbox.count("POST", r"^/consignments/manifestFromQuery") == 1
    summary = [m for m in harness.fake.messages(CHANNEL) if "Queued 2 consignments" in m.text]
    assert summary, [m.text for m in harness.fake.messages(CHANNEL)]
    status = harness.bot.carrier.get_consignment(records[0].carrier_reference or "")
    assert status.state.value == "Manifested"


def test_manifest_refused_for_users_not_listed(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with running_bot(
        fake_slack, sandbox, tmp_path / "m.db", shipbot_manifest_users=["U0LEAD01"]
    ) as h:
        response = h.driver.command("manifest", user=AGENT)
        assert response.status_code == 200
        assert "<@U0LEAD01>" in response.text and "can manifest" in response.text
        h.wait(lambda: h.bot.runner.idle())
        assert h.sandbox.count("POST", r"manifestFromQuery") == 0
        assert any(e.outcome.startswith("refused") for e in h.store.audit_log())


def test_forged_and_stale_requests_get_401_and_run_nothing(harness: Harness) -> None:
    body = urlencode(
        {
            "command": "/ship",
            "text": "",
            "user_id": AGENT,
            "channel_id": CHANNEL,
            "trigger_id": harness.fake.issue_trigger(),
        }
    )
    forged = harness.driver.post_raw(
        body, content_type="application/x-www-form-urlencoded", signature="v0=" + "0" * 64
    )
    stale = harness.driver.post_raw(
        body, content_type="application/x-www-form-urlencoded", timestamp=int(time.time()) - 600
    )
    junk_ts = httpx.post(
        harness.driver.app_url,
        content=body,
        headers={
            "X-Slack-Request-Timestamp": "yesterday",
            "X-Slack-Signature": "v0=00",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert [forged.status_code, stale.status_code, junk_ts.status_code] == [401, 401, 401]
    assert harness.fake.calls_to("views.open") == []


def test_health_and_unknown_paths(harness: Harness) -> None:
    base = harness.driver.app_url.rsplit("/slack/events", 1)[0]
    assert httpx.get(base + "/healthz").json()["ok"] is True
    assert httpx.get(base + "/nope").status_code == 404
    assert httpx.get(harness.driver.app_url).status_code == 405


def test_a_click_on_a_thread_from_before_a_restart_still_works(runs: Runs) -> None:
    with runs() as first:
        record = first.quoted()
    with runs() as second:
        response = second.click_quote(record)
        assert response.status_code == 200
        done = second.wait_step(record.id, Step.UPLOADED)
        assert done.allocation is not None
        assert second.allocations_at_carrier() == 1


def test_a_click_in_the_moment_before_quoted_is_stored_still_counts(harness: Harness) -> None:
    """The buttons are posted a moment before the step says QUOTED: a quick click wins."""
    record = harness.quoted()
    walk_to(harness.store, record.id, Step.QUOTING)
    harness.click_quote(record)
    harness.wait_step(record.id, Step.UPLOADED)
    assert harness.allocations_at_carrier() == 1


def test_the_country_picker_is_answered_as_the_agent_types(harness: Harness) -> None:
    view = harness.open_form()
    payload = {
        "type": "block_suggestion",
        "user": {"id": AGENT, "username": "agent", "team_id": "T0001"},
        "team": {"id": "T0001", "domain": "demo"},
        "api_app_id": "A0001",
        "token": "legacy",
        "container": {"type": "view", "view_id": view["id"]},
        "view": view,
        "block_id": "address_country",
        "action_id": "value",
        "value": "fra",
    }
    response = harness.post(interaction(payload))
    assert response.status_code == 200
    values = [o["value"] for g in response.json()["option_groups"] for o in g["options"]]
    assert values[0] == "FR"
    assert len(view["blocks"]) < 30 and len(json.dumps(view)) < 12_000  # no 249-option lists


def test_a_slow_carrier_shows_working_on_it_in_the_channel(harness: Harness) -> None:
    """The channel message normally comes with the quotes; a slow create shows ⏳ first."""
    # Each call stays under the harness's 2 s read timeout; together they pass the 2 s mark.
    harness.sandbox.arm_fault(r"^/consignments$", method="POST", kind="latency", seconds=1.2)
    harness.sandbox.arm_fault(r"^/quotes/", kind="latency", seconds=1.8)
    record = harness.ship()
    harness.wait(lambda: (r := harness.store.get(record.id)) is not None and bool(r.message_ts))
    early = harness.store.require(record.id)
    assert early.step in STILL_QUOTING
    assert early.message_ts
    message = harness.fake.message(CHANNEL, early.message_ts)
    assert "⏳" in json.dumps(message.blocks, ensure_ascii=False)
    quoted = harness.wait_step(record.id, Step.QUOTED)
    assert quoted.message_ts == early.message_ts  # edited in place, not posted again
    final = json.dumps(harness.fake.message(CHANNEL, early.message_ts).blocks, ensure_ascii=False)
    assert "Choose a quote" in final
    channel_posts = [m for m in harness.fake.messages(CHANNEL) if not m.thread_ts]
    assert len(channel_posts) == 1
