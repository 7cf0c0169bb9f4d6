"""Lost replies: Slack did the call, then the connection closed before its answer came back.

Only a call that is safe to repeat is sent again by the SDK; a post or a file share is looked
for first (by its metadata key, by its file ids), so the thread gets it once, never twice."""

from __future__ import annotations

import json
from typing import Any

from blocks import Message as Content
from bot.devslack.server import Message
from bot.models import Step
from tests.harness import CHANNEL, Harness


def _text(message: Message) -> str:
    return json.dumps(message.blocks, ensure_ascii=False) + message.text


def _in_thread(a: dict[str, Any]) -> bool:
    return bool(a.get("thread_ts"))


def _dropped(harness: Harness, method: str) -> bool:
    return any(n.startswith(f"{method}: done, the reply dropped") for n in harness.fake.notes)


def test_a_thread_post_whose_reply_was_lost_is_in_the_thread_once(harness: Harness) -> None:
    harness.fake.drop_reply_next("chat.postMessage", which=_in_thread)
    record = harness.quoted()
    assert _dropped(harness, "chat.postMessage")
    assert record.message_ts and record.quotes_ts
    thread = harness.fake.thread(CHANNEL, record.message_ts)
    quotes = [m for m in thread if "choose_quote" in _text(m)]
    assert [m.ts for m in quotes] == [record.quotes_ts]  # one post, and the bot knows its ts
    assert harness.fake.calls_to("conversations.replies")  # looked for, not sent again blind


def test_a_channel_post_whose_reply_was_lost_is_in_the_channel_once(harness: Harness) -> None:
    harness.fake.drop_reply_next("chat.postMessage", which=lambda a: not _in_thread(a))
    record = harness.quoted()
    assert _dropped(harness, "chat.postMessage")
    [top] = harness.fake.messages(CHANNEL)
    assert top.ts == record.message_ts
    assert harness.fake.calls_to("conversations.history")


def test_a_file_share_whose_reply_was_lost_is_in_the_thread_once(harness: Harness) -> None:
    record = harness.quoted()
    harness.fake.drop_reply_next("files.completeUploadExternal")
    harness.click_quote(record)
    done = harness.wait_step(record.id, Step.UPLOADED)
    assert _dropped(harness, "files.completeUploadExternal")
    files = [f for f in harness.fake.files if f.thread_ts == done.message_ts]
    assert [f.filename for f in files] == [f"{done.carrier_reference}.pdf"]
    assert len([m for m in harness.fake.thread(CHANNEL, done.message_ts or "") if m.files]) == 1
    assert len(harness.fake.calls_to("files.completeUploadExternal")) == 1


def test_a_failures_try_again_whose_reply_was_lost_is_posted_once(harness: Harness) -> None:
    """The outbox's post (a failure's Try again) is looked for too, not sent again blind."""
    harness.sandbox.arm_fault(r"^/consignments$", method="POST", status=503)
    harness.fake.drop_reply_next(
        "chat.postMessage", which=lambda a: "try_again" in json.dumps(a.get("blocks"))
    )
    record = harness.ship()
    failed = harness.wait_step(record.id, Step.FAILED)
    harness.wait(harness.bot.outbox.idle)
    assert _dropped(harness, "chat.postMessage")
    thread = harness.fake.thread(CHANNEL, failed.message_ts or "")
    assert len([m for m in thread if "try_again" in _text(m)]) == 1
    assert harness.bot.outbox.states().get("failed", 0) == 0


def test_an_edit_whose_reply_was_lost_is_sent_again_and_lands(harness: Harness) -> None:
    """chat.update is safe to repeat (the same state twice is one edit): the SDK sends it
    again at once, and the caller never sees the lost reply."""
    slack = harness.bot.core.slack
    ts = slack.post(CHANNEL, Content(text="before", blocks=[]))
    harness.fake.drop_reply_next("chat.update")
    slack.send("chat.update", {"channel": CHANNEL, "ts": ts, "text": "after", "blocks": []})
    assert _dropped(harness, "chat.update")
    assert [c.ok for c in harness.fake.calls_to("chat.update")] == [True, True]
    assert harness.fake.message(CHANNEL, ts).text == "after"
