"""Races a shipping bot meets every day: manifest vs cancel, manifest vs a slow label, a deploy
restart mid-allocate. After each, the thread says what the carrier confirmed and the store
agrees with the carrier (asserted against the sandbox's own state)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx

from bot.devslack.server import FakeSlack
from bot.models import ConsignmentRecord, Step
from bot.sandbox.server import RunningSandbox
from tests.factories import client_at
from tests.harness import CHANNEL, Harness, running_bot

MANIFEST = r"^/consignments/manifestFromQuery$"
LABEL = r"^/labels/"


def _carrier_state(sandbox: RunningSandbox, reference: str | None) -> str:
    """What the sandbox itself holds (its control API), not what our client reads."""
    assert reference
    response = httpx.get(
        f"{sandbox.url}/consignments/{reference}",
        headers={"ocp-apim-subscription-key": "test", "electio-api-version": "1.1"},
    )
    return str(response.json()["ConsignmentState"])


def _allocated(h: Harness, **kwargs: Any) -> ConsignmentRecord:
    record = h.quoted(**kwargs)
    h.click_quote(record)
    return h.wait_step(record.id, Step.UPLOADED)


def _channel_message(h: Harness, record: ConsignmentRecord) -> str:
    assert record.message_ts
    return json.dumps(h.fake.message(CHANNEL, record.message_ts).blocks, ensure_ascii=False)


def _channel_posts(h: Harness) -> list[str]:
    return [m.text for m in h.fake.messages(CHANNEL) if not m.thread_ts]


def test_cancel_pressed_during_a_slow_manifest_is_refused_and_says_why(harness: Harness) -> None:
    h = harness
    record = _allocated(h)
    h.sandbox.arm_fault(MANIFEST, kind="latency", seconds=1.5)
    h.driver.command("manifest")
    h.wait(lambda: (r := h.store.get(record.id)) is not None and r.step is Step.MANIFESTING)
    assert record.quotes_ts
    h.driver.click(CHANNEL, record.quotes_ts, "op_cancel", str(record.id))
    cancel_url = h.driver.last_response_url or ""
    h.wait(lambda: bool(h.fake.responses_to(cancel_url)))
    answer = h.fake.responses_to(cancel_url)[-1]["text"]
    assert "being manifested" in answer
    done = h.wait_step(record.id, Step.MANIFESTED)
    assert h.sandbox.count("PUT", r"/cancel$") == 0  # the carrier never saw a cancel
    assert _carrier_state(h.sandbox, done.carrier_reference) == "Manifested"
    assert any("Queued 1 consignment" in t for t in _channel_posts(h))
    assert done.message_ts
    h.wait(
        lambda: (
            "✅ Manifested"
            in json.dumps(h.fake.message(CHANNEL, done.message_ts).blocks, ensure_ascii=False)
        )
    )


def test_a_cancel_that_wins_leaves_nothing_for_the_manifest(harness: Harness) -> None:
    h = harness
    record = _allocated(h)
    h.sandbox.arm_fault(r"/cancel$", kind="latency", seconds=1.0)
    assert record.quotes_ts
    h.driver.click(CHANNEL, record.quotes_ts, "op_cancel", str(record.id))
    h.wait(lambda: (r := h.store.get(record.id)) is not None and r.step is Step.CANCELLING)
    h.driver.command("manifest")
    manifest_url = h.driver.last_response_url or ""
    h.wait(lambda: bool(h.fake.responses_to(manifest_url)))
    assert "Nothing to manifest" in h.fake.responses_to(manifest_url)[-1]["text"]
    done = h.wait_step(record.id, Step.CANCELLED)
    assert h.sandbox.count("POST", MANIFEST) + h.sandbox.count("PUT", MANIFEST) == 0
    assert _carrier_state(h.sandbox, done.carrier_reference) == "Cancelled"
    assert not any("Queued" in t for t in _channel_posts(h))


def test_manifest_during_a_slow_label_still_posts_the_label(harness: Harness) -> None:
    h = harness
    ready = _allocated(h)
    slow = h.quoted()
    h.sandbox.arm_fault(LABEL, kind="latency", seconds=1.5)
    h.click_quote(slow)
    h.wait(lambda: h.sandbox.count("GET", LABEL) == 2)  # the second label call is in flight
    assert h.store.require(slow.id).step is Step.ALLOCATED
    h.driver.command("manifest")
    # The carrier's query takes both (both are Allocated there): the bot trusts its count,
    # looks the second one up, and its label still reaches the thread.
    h.wait_step(ready.id, Step.MANIFESTED)
    done = h.wait_step(slow.id, Step.MANIFESTED)
    assert _carrier_state(h.sandbox, done.carrier_reference) == "Manifested"
    assert _carrier_state(h.sandbox, ready.carrier_reference) == "Manifested"
    files = [f.filename for f in h.fake.files if f.thread_ts == done.message_ts]
    assert files == [f"{done.carrier_reference}.pdf"]
    assert any("Queued 2 consignments" in t for t in _channel_posts(h))


def test_manifest_reports_only_what_the_carrier_queued(harness: Harness) -> None:
    """A consignment cancelled at the carrier behind our back is not counted as queued."""
    h = harness
    kept = _allocated(h)
    gone = _allocated(h)
    assert gone.carrier_reference
    h.bot.carrier.cancel(gone.carrier_reference)  # e.g. in Sorted PRO's web app
    h.driver.command("manifest")
    h.wait_step(kept.id, Step.MANIFESTED)
    h.wait(lambda: any("Queued" in t for t in _channel_posts(h)))
    h.bot.runner.wait_idle()
    summary = next(m for m in h.fake.messages(CHANNEL) if "Queued" in m.text)
    assert "Queued 1 consignment" in summary.text
    assert gone.reference in json.dumps(summary.blocks)  # said as cancelled at the carrier
    assert h.store.require(gone.id).step is Step.CANCELLED  # the store follows the carrier
    assert "✅ Manifested" not in _channel_message(h, gone)


def test_one_manifest_at_a_time_even_when_pressed_twice(harness: Harness) -> None:
    h = harness
    _allocated(h)
    h.sandbox.arm_fault(MANIFEST, kind="latency", seconds=0.5)
    clicks = [threading.Thread(target=h.driver.command, args=("manifest",)) for _ in range(2)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    h.wait(lambda: any("Queued" in t for t in _channel_posts(h)))
    h.bot.runner.wait_idle()
    assert h.sandbox.count("POST", MANIFEST) + h.sandbox.count("PUT", MANIFEST) == 1


def test_status_brings_the_store_in_line_with_the_carrier(harness: Harness) -> None:
    """Cancelled in Sorted PRO's web app: the next /ship status records it and says so."""
    h = harness
    record = _allocated(h)
    assert record.carrier_reference and record.message_ts
    h.bot.carrier.cancel(record.carrier_reference)
    h.driver.command(f"status {record.reference}")
    url = h.driver.last_response_url or ""
    h.wait(lambda: bool(h.fake.responses_to(url)))
    assert h.store.require(record.id).step is Step.CANCELLED
    assert any(e.outcome == "found cancelled at the carrier" for e in h.store.audit_log(record.id))
    h.wait(lambda: "❌ Cancelled" in _channel_message(h, record))


def test_an_allocate_the_carrier_is_still_working_on_is_never_called_failed(
    harness: Harness,
) -> None:
    """Our request timed out (2 s) and its deadline passed, but Sorted PRO says Allocating:
    the bot keeps looking, and records the allocation when it lands (one allocate)."""
    h = harness
    record = h.quoted()
    httpx.post(f"{h.sandbox.url}/__sandbox/settings", json={"allocate_seconds": 5.5})
    h.click_quote(record)
    done = h.wait_step(record.id, Step.UPLOADED, timeout=20)
    assert h.allocations_at_carrier() == 1
    outcomes = [e.outcome for e in h.store.audit_log(record.id) if e.action == "allocate"]
    assert outcomes == ["ok (lookup)"]
    assert done.message_ts
    said = json.dumps([m.blocks for m in h.fake.thread(CHANNEL, done.message_ts)])
    assert "Nothing was bought" not in said


def test_a_manifest_hold_left_by_a_dead_process_follows_the_carrier(
    fake_slack: FakeSlack, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A process died mid-manifest, before the carrier got the call: on start each hold is
    looked up and becomes what the carrier says (cancelled meanwhile, or waiting again)."""
    db = tmp_path / "held.db"
    with running_bot(fake_slack, sandbox, db) as h:
        cancelled, waiting = _allocated(h), _allocated(h)
        for c in (cancelled, waiting):
            assert h.store.transition(c.id, {Step.UPLOADED}, Step.MANIFESTING)
    assert cancelled.carrier_reference
    with client_at(sandbox.url, "test") as carrier:
        carrier.cancel(cancelled.carrier_reference)  # e.g. in Sorted PRO's web app
    with running_bot(fake_slack, sandbox, db) as h:
        assert h.store.require(cancelled.id).step is Step.CANCELLED
        assert h.store.require(waiting.id).step is Step.UPLOADED
        assert _carrier_state(h.sandbox, waiting.carrier_reference) == "Allocated"
        h.wait(lambda: "❌ Cancelled" in _channel_message(h, cancelled))
