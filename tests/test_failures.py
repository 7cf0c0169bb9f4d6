"""The flow under failure, each provoked for real: sandbox faults, fake Slack error switches."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.devslack.server import FakeSlack, Message
from bot.models import ConsignmentRecord, Step
from bot.sandbox.server import RunningSandbox, SandboxConfig, start_sandbox
from tests.form_states import example_state
from tests.harness import CHANNEL, Harness, running_bot, wait_for_modal

ALLOCATE = r"^/allocation/"


def _text(message: Message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False)


def _last_thread_message(h: Harness, record: ConsignmentRecord) -> Message:
    assert record.message_ts
    return h.fake.thread(record.channel_id, record.message_ts)[-1]


def _press_try_again(h: Harness, record: ConsignmentRecord) -> None:
    message = _last_thread_message(h, record)
    assert "Try again" in _text(message), _text(message)
    response = h.driver.click(record.channel_id, message.ts, "try_again", str(record.id))
    assert response.status_code == 200


def test_create_503_then_try_again(harness: Harness) -> None:
    harness.sandbox.arm_fault(r"^/consignments$", method="POST", status=503)
    record = harness.ship()
    failed = harness.wait_step(record.id, Step.FAILED)
    assert failed.problem is not None and failed.problem.step is Step.CREATING
    message = _last_thread_message(harness, failed)
    assert "isn't answering" in _text(message) and "Nothing was bought" in _text(message)
    assert harness.sandbox.count("POST", r"^/consignments$") == 1  # a POST is never retried
    assert "❌" in _text(harness.fake.message(CHANNEL, failed.message_ts or ""))
    assert any(e.outcome.startswith("failed") for e in harness.store.audit_log(record.id))
    _press_try_again(harness, failed)
    harness.wait_step(record.id, Step.QUOTED)
    assert harness.sandbox.count("POST", r"^/consignments$") == 2


def test_quotes_429_is_waited_out(harness: Harness) -> None:
    harness.sandbox.arm_fault(r"^/quotes/", status=429, retry_after=0.2)
    record = harness.quoted()
    assert harness.sandbox.count("GET", r"^/quotes/") == 2
    assert record.problem is None


def test_quotes_that_keep_failing_end_in_try_again(harness: Harness) -> None:
    harness.sandbox.arm_fault(r"^/quotes/", status=502, count=4)
    record = harness.ship()
    failed = harness.wait_step(record.id, Step.FAILED)
    assert harness.sandbox.count("GET", r"^/quotes/") == 4  # GETs are retried, then we stop
    assert failed.problem is not None and failed.problem.retryable
    _press_try_again(harness, failed)
    harness.wait_step(record.id, Step.QUOTED)


@pytest.fixture
def impatient(fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path) -> Iterator[Harness]:
    with running_bot(fake_slack, sandbox, tmp_path / "t.db", electio_read_timeout=0.4) as h:
        yield h


def test_lost_reply_on_allocate_looks_before_anything_else(impatient: Harness) -> None:
    h = impatient
    record = h.quoted()
    h.sandbox.arm_fault(ALLOCATE, kind="timeout", seconds=1.5)
    h.click_quote(record)
    done = h.wait_step(record.id, Step.UPLOADED)
    assert h.allocations_at_carrier() == 1
    assert h.sandbox.count("GET", rf"^/consignments/{done.carrier_reference}$") == 1
    assert done.allocation is not None and done.allocation.tracking_numbers
    assert any(e.outcome == "ok (lookup)" for e in h.store.audit_log(record.id))


def test_allocate_503_nothing_bought_fresh_quotes_then_success(harness: Harness) -> None:
    record = harness.quoted()
    harness.sandbox.arm_fault(ALLOCATE, status=503)
    harness.click_quote(record)
    failed = harness.wait_step(record.id, Step.FAILED)
    assert failed.problem is not None and failed.problem.step is Step.CREATED
    assert "Nothing was bought" in failed.problem.message
    # The spent quote buttons are gone; the Try again gets fresh quotes.
    assert "choose_quote" not in _text(harness.quotes_message(failed))
    _press_try_again(harness, failed)
    quoted = harness.wait_step(record.id, Step.QUOTED)
    assert quoted.quotes_ts == record.quotes_ts  # re-quoted in the same thread message
    assert {q.reference for q in quoted.quotes}.isdisjoint({q.reference for q in record.quotes})
    harness.click_quote(quoted)
    harness.wait_step(record.id, Step.UPLOADED)
    assert harness.allocations_at_carrier() == 2  # one per claim


def test_when_even_the_lookup_fails_try_again_looks_again(harness: Harness) -> None:
    record = harness.quoted()
    harness.sandbox.arm_fault(ALLOCATE, status=503)
    harness.sandbox.arm_fault(r"^/consignments/EC-", method="GET", status=503, count=4)
    harness.click_quote(record)
    failed = harness.wait_step(record.id, Step.FAILED)
    assert failed.problem is not None and failed.problem.step is Step.ALLOCATING
    _press_try_again(harness, failed)
    again = harness.wait_step(record.id, Step.FAILED)
    assert again.problem is not None and again.problem.step is Step.CREATED
    assert harness.allocations_at_carrier() == 1  # never a second allocate for one claim


def test_label_failure_resumes_at_the_label(harness: Harness) -> None:
    record = harness.quoted()
    harness.sandbox.arm_fault(r"^/labels/", status=500, count=4)
    harness.click_quote(record)
    failed = harness.wait_step(record.id, Step.FAILED)
    assert failed.problem is not None and failed.problem.step is Step.ALLOCATED
    assert failed.allocation is not None
    _press_try_again(harness, failed)
    harness.wait_step(record.id, Step.UPLOADED)
    assert harness.allocations_at_carrier() == 1


def test_customs_failure_keeps_the_label_and_resumes(harness: Harness) -> None:
    record = harness.quoted(international=True)
    harness.sandbox.arm_fault(r"^/consignments/docs/", status=503, count=4)
    harness.click_quote(record)
    failed = harness.wait_step(record.id, Step.FAILED)
    assert "customs documents" in (failed.problem.message if failed.problem else "")
    _press_try_again(harness, failed)
    harness.wait_step(record.id, Step.UPLOADED)
    names = [f.filename for f in harness.fake.files if f.thread_ts == record.message_ts]
    assert any("cn2" in n for n in names)
    assert harness.allocations_at_carrier() == 1


@pytest.fixture
def short_quotes(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Harness]:
    sandbox = start_sandbox(SandboxConfig(seed=3, quote_ttl_seconds=0.5))
    try:
        with running_bot(fake_slack, sandbox, tmp_path / "q.db") as h:
            yield h
    finally:
        sandbox.stop()


def test_a_click_past_expiry_offers_fresh_quotes(short_quotes: Harness) -> None:
    h = short_quotes
    record = h.quoted()
    time.sleep(0.6)
    h.click_quote(record)
    expired = h.wait_step(record.id, Step.EXPIRED)
    message = h.quotes_message(expired)
    assert "Quotes expired" in _text(message) and "choose_quote" not in _text(message)
    assert h.allocations_at_carrier() == 0  # refused by us, before any call
    assert record.quotes_ts
    h.driver.click(CHANNEL, record.quotes_ts, "requote", str(record.id))
    fresh = h.wait_step(record.id, Step.QUOTED)
    assert fresh.quotes_ts == record.quotes_ts
    assert "choose_quote" in _text(h.quotes_message(fresh))


def test_the_carrier_refusing_an_expired_quote_offers_fresh_quotes(harness: Harness) -> None:
    record = harness.quoted()
    harness.sandbox.advance_clock(3600)  # the carrier's clock says the quote is old
    harness.click_quote(record)
    expired = harness.wait_step(record.id, Step.EXPIRED)
    assert "Get fresh quotes" in _text(harness.quotes_message(expired))
    assert harness.allocations_at_carrier() == 1


def test_manifest_failure_offers_try_again(harness: Harness) -> None:
    record = harness.quoted()
    harness.click_quote(record)
    harness.wait_step(record.id, Step.UPLOADED)
    harness.sandbox.arm_fault(r"manifestFromQuery", status=503)
    harness.driver.command("manifest")
    harness.wait(lambda: any("Try again" in _text_of(e) for e in harness.fake.ephemerals))
    ephemeral = next(e for e in harness.fake.ephemerals if "Try again" in _text_of(e))
    assert harness.store.get(record.id).step is Step.UPLOADED  # type: ignore[union-attr]
    harness.driver.click_ephemeral(ephemeral, "manifest_try_again")
    harness.wait_step(record.id, Step.MANIFESTED)
    assert harness.sandbox.count("POST", r"manifestFromQuery") == 2


def _text_of(ephemeral: object) -> str:
    return json.dumps(getattr(ephemeral, "blocks", []), ensure_ascii=False) + str(
        getattr(ephemeral, "text", "")
    )


def test_not_in_a_public_channel_joins_it(harness: Harness) -> None:
    harness.fake.add_channel("C0PUBLIC", member=False)
    record = harness.ship(channel="C0PUBLIC")
    harness.wait_step(record.id, Step.QUOTED)
    assert [c.ok for c in harness.fake.calls_to("conversations.join")] == [True]


def test_not_in_a_private_channel_says_how_to_invite_and_resumes(harness: Harness) -> None:
    harness.fake.add_channel("G0PRIVATE", private=True, member=False)
    record = harness.ship(channel="G0PRIVATE")
    failed = harness.wait_step(record.id, Step.FAILED)
    assert failed.message_ts is None
    harness.wait(lambda: any("/invite @shipbot" in _text_of(e) for e in harness.fake.ephemerals))
    notice = next(e for e in harness.fake.ephemerals if "/invite @shipbot" in _text_of(e))
    # The channel message is posted with the quotes (the call budget), so the consignment
    # exists at the carrier (unallocated: nothing is bought), and is not created again.
    assert harness.sandbox.count("POST", r"^/consignments$") == 1
    harness.fake.add_channel("G0PRIVATE", private=True, member=True)  # someone invites the bot
    harness.driver.click_ephemeral(notice, "try_again")
    harness.wait_step(record.id, Step.QUOTED)
    assert harness.sandbox.count("POST", r"^/consignments$") == 1


def test_slack_ratelimit_on_update_is_waited_out(harness: Harness) -> None:
    record = harness.quoted()
    harness.fake.ratelimit_next("chat.update", retry_after=1, count=2)
    harness.click_quote(record)
    done = harness.wait_step(record.id, Step.UPLOADED)  # waits for the outbox too
    updates = harness.fake.calls_to("chat.update")
    assert [c.error for c in updates][:2] == ["ratelimited", "ratelimited"]
    assert "choose_quote" not in _text(harness.quotes_message(done))
    assert "✅" in _text(harness.fake.message(CHANNEL, done.message_ts or ""))
    # Re-queued with Retry-After, never dropped: every edit was delivered in the end.
    assert harness.bot.outbox.states().get("pending", 0) == 0
    assert harness.bot.outbox.states().get("failed", 0) == 0


def test_an_upload_that_fails_once_is_retried(harness: Harness) -> None:
    record = harness.quoted()
    harness.fake.fail_next("upload", "500")
    harness.click_quote(record)
    done = harness.wait_step(record.id, Step.UPLOADED)
    files = [f for f in harness.fake.files if f.thread_ts == done.message_ts]
    assert [f.filename for f in files] == [f"{done.carrier_reference}.pdf"]
    assert any(
        e.action == "upload" and e.outcome.startswith("failed")
        for e in harness.store.audit_log(record.id)
    )


def test_an_upload_that_keeps_failing_is_never_dropped(harness: Harness) -> None:
    record = harness.quoted()
    harness.fake.fail_next("files.completeUploadExternal", "internal_error", count=5)
    harness.click_quote(record)
    failed = harness.wait_step(record.id, Step.FAILED)
    assert failed.problem is not None and failed.problem.step is Step.LABEL_SAVED
    assert "saved" in failed.problem.message
    _press_try_again(harness, failed)
    harness.wait_step(record.id, Step.UPLOADED)
    assert harness.sandbox.count("GET", r"^/labels/") == 1  # the stored label was uploaded


def test_a_carrier_refusal_of_a_field_reopens_the_form_on_it(harness: Harness) -> None:
    record = harness.ship(address_postcode="ZY1 1AA")  # well-formed, but no such UK area
    failed = harness.wait_step(record.id, Step.FAILED)
    assert failed.problem is not None
    assert failed.problem.fields == ("address_postcode",)
    message = _last_thread_message(harness, failed)
    assert "refused the postcode" in _text(message) and "Edit the form" in _text(message)
    assert "Try again" not in _text(message)
    assert "we deliver to). Nothing was bought." in _text(message)  # one full stop, ours
    assert failed.problem.correlation_id and failed.problem.correlation_id in _text(message)
    # The button reopens the form, filled in, with the carrier's reason on top.
    opened = len(harness.fake.opened_views())
    harness.driver.click(CHANNEL, message.ts, "edit_form", str(record.id))
    view = wait_for_modal(harness.fake, opened)
    assert "refused the postcode" in json.dumps(view["blocks"][0])
    state = example_state(
        shipper_reference=record.request.shipper_reference, address_postcode="SW1A 2AA"
    )
    response = harness.driver.submit_view(view, state)
    assert response.status_code == 200
    fixed = harness.wait_step(record.id, Step.QUOTED)
    assert fixed.request.recipient.postcode == "SW1A 2AA"
    assert fixed.message_ts == failed.message_ts  # the same thread carries on
    assert harness.sandbox.count("POST", r"^/consignments$") == 2


def test_events_api_retries_are_acked_and_not_processed_twice(harness: Harness) -> None:
    event = {"type": "app_home_opened", "user": "U0AGENT1", "channel": "D0HOME01", "tab": "home"}
    first = harness.driver.event(event, event_id="Ev0RETRY01")
    assert first.status_code == 200
    harness.wait(lambda: len(harness.fake.calls_to("views.publish")) == 1)
    for attempt in (1, 2):  # Slack's retries of the same event (e.g. after an http_timeout)
        retry = harness.driver.event(
            event, event_id="Ev0RETRY01", retry_num=attempt, retry_reason="http_timeout"
        )
        assert retry.status_code == 200
    harness.wait(lambda: harness.bot.runner.idle())
    assert len(harness.fake.calls_to("views.publish")) == 1
    other = harness.driver.event(event, event_id="Ev0OTHER02")  # a new event is processed
    assert other.status_code == 200
    harness.wait(lambda: len(harness.fake.calls_to("views.publish")) == 2)
