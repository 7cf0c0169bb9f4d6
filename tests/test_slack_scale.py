"""Slack at scale: the stand-in Slack enforces Slack's rate limits (run RATE_SCALE times
faster, and the bot told the same), and the flow keeps its call budget under them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from bot.devslack.server import FakeSlack
from bot.models import ConsignmentRecord, Step
from bot.sandbox.server import RunningSandbox
from tests.form_states import example_state
from tests.harness import AGENT, CHANNEL, Harness, at_once, running_bot, view_shipper_reference

RATE_SCALE = 20.0
CONSIGNMENTS = 20
# The happy path's Web API calls for one consignment (uploads: per document, below): one
# chat.update (the channel message's final state); the click's own edit of the quotes
# message goes through the click's response_url ("response"), outside the tiers.
BUDGET = {"chat.update": 1, "chat.postMessage": 2, "views.open": 1, "response": 1}


@pytest.fixture
def limited(sandbox: RunningSandbox, tmp_path: Path) -> Iterator[Harness]:
    with (
        FakeSlack(rate_limits=True, rate_scale=RATE_SCALE) as fake,
        running_bot(fake, sandbox, tmp_path / "scale.db", shipbot_slack_rate_scale=RATE_SCALE) as h,
    ):
        yield h


def _buttons(blocks: list[dict]) -> str:
    return json.dumps(blocks)


def _calls(h: Harness) -> Counter[str]:
    return Counter(c.method for c in h.fake.calls if c.ok)


def test_twenty_consignments_at_once_under_the_limits_keep_the_budget(limited: Harness) -> None:
    h = limited
    users = [f"U0SCALE{n:02d}" for n in range(CONSIGNMENTS)]
    # Twenty agents fill in the form and submit within a few seconds, in the same channel.
    records: list[ConsignmentRecord] = []
    for user in users:
        view = h.open_form(user=user)
        state = example_state(shipper_reference=view_shipper_reference(view))
        assert h.driver.submit_view(view, state, user=user).status_code == 200
        found = h.store.find_by_reference(view_shipper_reference(view))
        assert found is not None
        records.append(found)
    quoted = [h.wait_step(r.id, Step.QUOTED, timeout=30) for r in records]
    # And all click at once.
    clicks = at_once(
        *(partial(h.click_quote, r, user=u) for r, u in zip(quoted, users, strict=True))
    )
    statuses = [response.status_code for response in clicks]
    assert statuses == [200] * CONSIGNMENTS
    done = [h.wait_step(r.id, Step.UPLOADED, timeout=60) for r in quoted]

    for c in done:
        assert c.message_ts and c.quotes_ts and c.carrier_reference
        # The label is in its thread, the channel message shows the final state ...
        names = [f.filename for f in h.fake.files if f.thread_ts == c.message_ts]
        assert names == [f"{c.carrier_reference}.pdf"]
        assert h.fake.message(CHANNEL, c.message_ts).text.startswith(f"{c.carrier_reference}: ✅")
        # ... and no quotes message keeps a live Choose button.
        assert "choose_quote" not in _buttons(h.fake.message(CHANNEL, c.quotes_ts).blocks)
    assert h.allocations_at_carrier() == CONSIGNMENTS

    calls = _calls(h)
    for method, per_consignment in BUDGET.items():
        assert calls[method] == per_consignment * CONSIGNMENTS, (method, calls)
    assert calls["files.completeUploadExternal"] == CONSIGNMENTS
    assert calls["files.getUploadURLExternal"] == CONSIGNMENTS
    # Paced by the bot, Slack rarely had to say wait; every 429 was re-queued, none dropped.
    web_calls = [c for c in h.fake.calls if c.method not in ("upload", "response", "view_ack")]
    assert len(h.fake.ratelimited()) <= 0.05 * len(web_calls)
    assert h.bot.outbox.states().get("failed", 0) == 0
    assert h.bot.outbox.states().get("pending", 0) == 0


def test_abroad_one_upload_call_carries_every_document(limited: Harness) -> None:
    h = limited
    record = h.quoted(international=True)
    h.click_quote(record)
    done = h.wait_step(record.id, Step.UPLOADED)
    calls = _calls(h)
    for method, per_consignment in BUDGET.items():
        assert calls[method] == per_consignment, (method, calls)
    (complete,) = h.fake.calls_to("files.completeUploadExternal")
    shared = [f for f in h.fake.files if f.thread_ts == done.message_ts]
    names = sorted(f.filename for f in shared)
    assert len(complete.args["files"]) == len(shared) == len(h.store.documents(done.id)) >= 3
    assert any("cn2" in n.lower() for n in names) and any("invoice" in n for n in names)
    assert calls["files.getUploadURLExternal"] == len(shared)  # Slack needs one per file
    # One message in the thread shares them all, and says the outcome.
    (share,) = [m for m in h.fake.thread(CHANNEL, done.message_ts or "") if m.files]
    assert len(share.files) == len(shared)
    assert done.allocation and done.allocation.tracking_numbers[0] in share.text


def test_manifest_of_many_is_one_summary_and_paced_marks(limited: Harness) -> None:
    h = limited
    records = []
    for _ in range(3):
        record = h.quoted()
        h.click_quote(record)
        records.append(h.wait_step(record.id, Step.UPLOADED))
    before = _calls(h)
    assert h.driver.command("manifest", user=AGENT).status_code == 200
    for r in records:
        h.wait_step(r.id, Step.MANIFESTED)
    after = _calls(h)
    assert after["chat.postMessage"] - before["chat.postMessage"] == 1  # the summary alone
    assert after["chat.update"] - before["chat.update"] == len(records)  # one mark each
    for r in records:
        assert "✅ Manifested" in h.fake.message(CHANNEL, r.message_ts or "").text


def test_read_methods_refuse_json_as_slack_does(limited: Harness) -> None:
    """chat.getPermalink reads form arguments: the bot sends them so, and status links."""
    h = limited
    record = h.quoted()
    h.click_quote(record)
    done = h.wait_step(record.id, Step.UPLOADED)
    as_json = httpx.post(
        h.fake.url + "chat.getPermalink",
        json={"channel": CHANNEL, "message_ts": done.message_ts},
        headers={"Authorization": "Bearer xoxb-test-token"},
    ).json()
    assert as_json["ok"] is False and as_json["error"] == "invalid_arguments"
    response = h.driver.command(f"status {done.carrier_reference}")
    assert response.status_code == 200
    url = h.driver.last_response_url
    assert url
    h.wait(lambda: bool(h.fake.responses_to(url)))
    card = json.dumps(h.fake.responses_to(url)[-1])
    assert "slack.com/archives/" in card
    assert [c.ok for c in h.fake.calls_to("chat.getPermalink")] == [False, True]


def test_an_expired_response_url_falls_back_to_a_direct_message(harness: Harness) -> None:
    record = harness.quoted()
    harness.click_quote(record)
    done = harness.wait_step(record.id, Step.UPLOADED)
    # Asked from a private channel the bot is not in, after the response_url has expired.
    harness.fake.add_channel("G0PRIVATE", private=True, member=False)
    harness.fake.fail_next("response", "404")
    response = harness.driver.command(f"status {done.carrier_reference}", channel="G0PRIVATE")
    assert response.status_code == 200
    dm = "D" + AGENT[1:]
    harness.wait(lambda: bool(harness.fake.messages(dm)))
    assert done.carrier_reference and done.carrier_reference in json.dumps(
        harness.fake.messages(dm)[-1].blocks
    )
    ephemerals = harness.fake.calls_to("chat.postEphemeral")
    assert [c.error for c in ephemerals] == ["not_in_channel"]
