"""/healthz, /readyz and /metrics on the real server, after flows driven as Slack would."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.models import Step
from tests.harness import Harness


def _base(harness: Harness) -> str:
    return harness.driver.app_url.rsplit("/slack/events", 1)[0]


def _samples(harness: Harness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(_base(harness) + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include `labels`."""
    return sum(
        value
        for (sample, have), value in samples.items()
        if sample == name and set(labels.items()) <= set(have)
    )


def test_metrics_after_a_full_flow(harness: Harness) -> None:
    before = _samples(harness)
    assert _value(before, "shipbot_consignments", step="uploaded") == 0
    record = harness.quoted()
    assert harness.click_quote(record).status_code == 200
    harness.wait_step(record.id, Step.UPLOADED)

    after = _samples(harness)
    quotes = "GET /quotes/consignment/{}"
    allocate = "PUT /allocation/{}/allocatewithquote/{}"
    assert _value(after, "shipbot_carrier_calls_total", endpoint=quotes, outcome="201") >= 1
    assert _value(after, "shipbot_carrier_calls_total", endpoint=allocate, outcome="200") == 1
    assert _value(after, "shipbot_carrier_call_seconds_count", endpoint=allocate) == 1
    # The channel message and the quotes in its thread: as many as the stand-in Slack saw.
    posted = len(harness.fake.calls_to("chat.postMessage"))
    assert posted >= 2
    counted = _value(after, "shipbot_slack_calls_total", method="chat.postMessage", outcome="ok")
    assert counted == posted
    assert _value(after, "shipbot_slack_calls_total", method="views.open") == 1
    assert _value(after, "shipbot_slack_ratelimited_total") == 0
    assert _value(after, "shipbot_consignments", step="uploaded") == 1
    assert _value(after, "shipbot_consignments", step="quoted") == 0
    assert _value(after, "shipbot_jobs", state="pending") == 0
    assert _value(after, "shipbot_jobs", state="done") >= 1
    assert ("shipbot_outbox_rows", (("state", "pending"),)) in after
    for kind in ("command", "view_submission", "block_actions"):
        assert _value(after, "shipbot_acks_total", kind=kind) >= 1, kind
        assert _value(after, "shipbot_ack_seconds_count", kind=kind) >= 1, kind
    assert httpx.get(_base(harness) + "/healthz").json()["jobs"]["done"] >= 1


def _ready(harness: Harness) -> tuple[int, dict[str, Any]]:
    response = httpx.get(_base(harness) + "/readyz")
    return response.status_code, response.json()


def test_readyz_names_the_failing_part(harness: Harness) -> None:
    code, body = _ready(harness)
    assert code == 200 and body["failing"] == [], body
    assert set(body["parts"]) == {"slack", "database", "jobs", "carrier"}

    # The carrier answers 503 to every try of the quotes: its last call failed.
    harness.sandbox.arm_fault(r"^/quotes/", status=503, count=20)
    record = harness.ship()
    harness.wait_step(record.id, Step.FAILED)
    code, body = _ready(harness)
    assert code == 503 and body["failing"] == ["carrier"], body
    assert "503" in body["parts"]["carrier"]
    harness.sandbox.clear_faults()
    harness.quoted()  # a call answered: ready again
    assert _ready(harness)[0] == 200

    # Another process holds the database's write lock: no write can be made.
    holder = sqlite3.connect(harness.settings.shipbot_db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        code, body = _ready(harness)
        assert code == 503 and body["failing"] == ["database"], body
        assert "locked" in body["parts"]["database"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    harness.bot.runner.stop()
    code, body = _ready(harness)
    assert code == 503 and body["failing"] == ["jobs"], body
    assert httpx.post(_base(harness) + "/readyz").status_code == 405


def test_metrics_count_slack_429s_by_method(harness: Harness) -> None:
    """Slack answers the channel post 429 twice: counted by method, and the post still lands."""
    harness.fake.ratelimit_next("chat.postMessage", retry_after=0.05, count=2)
    record = harness.quoted()
    samples = _samples(harness)
    limited = harness.fake.ratelimited()
    assert len(limited) == 2 and record.quotes_ts
    method = "chat.postMessage"
    assert _value(samples, "shipbot_slack_ratelimited_total", method=method) == 2
    assert _value(samples, "shipbot_slack_calls_total", method=method, outcome="ratelimited") == 2
    ok = _value(samples, "shipbot_slack_calls_total", method=method, outcome="ok")
    assert ok == len([c for c in harness.fake.calls_to(method) if c.ok])
    assert _value(samples, "shipbot_slack_call_seconds_count", method=method) == ok + 2


def test_readyz_names_slack_when_its_token_is_refused(harness: Harness) -> None:
    harness.fake.fail_next("chat.postMessage", "invalid_auth")
    record = harness.ship()
    harness.wait_step(record.id, Step.FAILED)
    code, body = _ready(harness)
    assert code == 503 and body["failing"] == ["slack"], body
    assert "invalid_auth" in body["parts"]["slack"]
    assert (
        _value(
            _samples(harness),
            "shipbot_slack_calls_total",
            method="chat.postMessage",
            outcome="invalid_auth",
        )
        == 1
    )
    harness.quoted()  # Slack answers again: ready again
    assert _ready(harness)[0] == 200


def test_metrics_show_outbox_rows_waiting_behind_a_429(harness: Harness) -> None:
    """An edit Slack answers 429 waits in the outbox for its Retry-After: the gauge shows it."""
    record = harness.quoted()
    harness.fake.ratelimit_next("chat.update", retry_after=1.5, count=1)
    assert harness.click_quote(record).status_code == 200  # the channel message is edited
    harness.wait(lambda: len(harness.fake.ratelimited()) == 1)
    assert _value(_samples(harness), "shipbot_outbox_rows", state="pending") >= 1
    harness.wait_step(record.id, Step.UPLOADED)
    harness.wait(lambda: _value(_samples(harness), "shipbot_outbox_rows", state="pending") == 0)
    assert _value(_samples(harness), "shipbot_slack_ratelimited_total", method="chat.update") == 1
