"""Controls a support lead needs: roles, approval above a price, the spend report."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest

from bot.devslack.server import FakeSlack, Message
from bot.models import ConsignmentRecord, Step
from bot.sandbox.server import RunningSandbox, SandboxConfig, start_sandbox
from tests.harness import AGENT, AGENT2, CHANNEL, Harness, at_once, interaction, running_bot

LEAD = "U0LEAD001"  # = tests.conftest.LEAD, who holds every role in `strict`
ALLOCATE = r"^/allocation/"


def _text(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _ephemeral_texts(h: Harness) -> list[str]:
    return [_text(e.blocks) + (e.text or "") for e in h.fake.ephemerals]


def test_an_agent_without_the_ship_role_is_refused_before_any_call(strict: Harness) -> None:
    response = strict.driver.command("", user=AGENT)
    assert "Only <@U0LEAD001> and <@U0AGENT2> can ship parcels" in response.text
    assert strict.fake.calls_to("views.open") == []
    record = strict.quoted(user=AGENT2)
    strict.click_quote(record, user=AGENT)
    strict.wait(lambda: any("can ship parcels" in t for t in _ephemeral_texts(strict)))
    assert strict.store.get(record.id).step is Step.QUOTED  # type: ignore[union-attr]
    assert strict.allocations_at_carrier() == 0
    refusals = [e for e in strict.store.audit_log() if e.outcome == "refused (not allowed)"]
    assert {e.actor for e in refusals} == {AGENT}


def test_cancel_needs_the_cancel_role(strict: Harness) -> None:
    record = strict.quoted(user=AGENT2)
    response = strict.driver.command(f"cancel {record.carrier_reference}", user=AGENT2)
    assert "Only <@U0LEAD001> can cancel consignments" in response.text
    strict.wait(lambda: strict.bot.runner.idle())
    assert strict.sandbox.count("PUT", r"/cancel$") == 0
    assert strict.store.get(record.id).step is Step.QUOTED  # type: ignore[union-attr]


# The lead approves what is quoted above 10.
APPROVALS = {"shipbot_approvers": [LEAD], "shipbot_approval_above": Decimal("10")}


@pytest.fixture
def approvals(fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path) -> Iterator[Harness]:
    with running_bot(fake_slack, sandbox, tmp_path / "approve.db", **APPROVALS) as h:
        yield h


def _dear(record: ConsignmentRecord) -> str:
    return next(q.reference for q in record.quotes if q.price.gross > 10)


def _approval_message(h: Harness, record: ConsignmentRecord) -> Message:
    fresh = h.store.get(record.id)
    assert fresh is not None and fresh.approval_ts, fresh
    return h.fake.message(CHANNEL, fresh.approval_ts)


def _await_approval(h: Harness) -> ConsignmentRecord:
    record = h.quoted()
    h.click_quote(record, _dear(record))
    held = h.wait_step(record.id, Step.AWAITING_APPROVAL)
    message = _approval_message(h, held)
    assert f"<@{LEAD}>" in _text(message.blocks) and "Approve" in _text(message.blocks)
    assert "waiting for approval" in _text(h.quotes_message(held).blocks)
    assert h.allocations_at_carrier() == 0
    return held


def test_a_cheap_quote_needs_no_approval(approvals: Harness) -> None:
    record = approvals.quoted()
    cheap = next(q.reference for q in record.quotes if q.price.gross <= 10)
    approvals.click_quote(record, cheap)
    done = approvals.wait_step(record.id, Step.UPLOADED)
    assert done.approval_ts is None


def test_approval_round_trip_allocates_exactly_once(approvals: Harness) -> None:
    h = approvals
    held = _await_approval(h)
    approval = _approval_message(h, held)
    # Someone who isn't an approver is refused, and nothing moves.
    h.driver.click(CHANNEL, approval.ts, "approve", str(held.id), user=AGENT)
    h.wait(lambda: any("can approve" in t for t in _ephemeral_texts(h)))
    assert h.store.get(held.id).step is Step.AWAITING_APPROVAL  # type: ignore[union-attr]
    # Two approver clicks at once, and a third replayed later: one decision counts.
    payload = h.driver.click_payload(CHANNEL, approval.ts, "approve", str(held.id), user=LEAD)
    body = interaction(payload)
    at_once(partial(h.post, body), partial(h.post, body))
    h.wait_step(held.id, Step.UPLOADED)
    assert h.allocations_at_carrier() == 1
    assert "Approved by <@U0LEAD001>" in _text(_approval_message(h, held).blocks)
    h.post(body)
    h.wait(lambda: any("already decided" in t for t in _ephemeral_texts(h)))
    assert h.allocations_at_carrier() == 1
    outcomes = [e.outcome for e in h.store.audit_log(held.id) if e.action == "approval"]
    assert outcomes == ["approved"]


def test_decline_releases_the_quotes(approvals: Harness) -> None:
    h = approvals
    held = _await_approval(h)
    h.driver.click(CHANNEL, _approval_message(h, held).ts, "decline", str(held.id), user=LEAD)
    released = h.wait_step(held.id, Step.QUOTED)
    assert released.claimed_by is None
    assert "Declined by <@U0LEAD001>" in _text(_approval_message(h, held).blocks)
    assert "choose_quote" in _text(h.quotes_message(released).blocks)
    assert h.allocations_at_carrier() == 0


@pytest.fixture
def brief_quotes(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Harness]:
    sandbox = start_sandbox(SandboxConfig(seed=5, quote_ttl_seconds=3))
    try:
        with running_bot(fake_slack, sandbox, tmp_path / "brief.db", **APPROVALS) as h:
            yield h
    finally:
        sandbox.stop()


def test_an_approval_that_outlives_the_quote_buys_nothing(brief_quotes: Harness) -> None:
    h = brief_quotes
    held = _await_approval(h)
    assert held.chosen_quote is not None
    time.sleep(max(0.0, (held.chosen_quote.expires_at - datetime.now(UTC)).total_seconds()) + 0.05)
    h.driver.click(CHANNEL, _approval_message(h, held).ts, "approve", str(held.id), user=LEAD)
    expired = h.wait_step(held.id, Step.EXPIRED)
    assert "expired before" in _text(_approval_message(h, expired).blocks)
    assert "Get fresh quotes" in _text(h.quotes_message(expired).blocks)
    assert h.allocations_at_carrier() == 0


def test_the_spend_report_matches_the_flows(harness: Harness) -> None:
    h = harness
    bought = []
    for user in (AGENT, AGENT2, AGENT):
        record = h.quoted(user=user)
        h.click_quote(record, user=user)
        done = h.wait_step(record.id, Step.UPLOADED)
        assert done.chosen_quote is not None
        bought.append((user, done.chosen_quote))
    response = h.driver.command("report today", user=AGENT2)
    assert response.status_code == 200
    assert "3 labels" in response.text
    h.wait(lambda: any(f.filename.endswith(".csv") for f in h.fake.files))
    [report] = [f for f in h.fake.files if f.filename.endswith(".csv")]
    assert report.channel_id == "D" + AGENT2[1:]  # the requester's DM
    rows = list(csv.DictReader(io.StringIO(report.data.decode())))
    assert sum(int(r["labels"]) for r in rows) == 3
    assert sum(Decimal(r["gross"]) for r in rows) == sum(q.price.gross for _, q in bought)
    mine = sum(q.price.gross for u, q in bought if u == AGENT)
    assert sum(Decimal(r["gross"]) for r in rows if r["agent"] == AGENT) == mine
    assert sum(Decimal(r["net"]) for r in rows) == sum(q.price.net for _, q in bought)
