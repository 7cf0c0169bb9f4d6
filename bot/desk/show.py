"""The one way a consignment is shown: its channel message and thread in line with its step.

Every feature calls `show` after a transition instead of choosing messages itself, so the
channel and the thread always say what the store says (and the store what the carrier said).

Edits go through the outbox (bot/slack/outbox.py): a "⏳" state is queued to go out only if the
step is still running after SLOW seconds, and the next state of the same message replaces
it before then, so a fast flow costs only its final edits (the call budget in README).
"""

from __future__ import annotations

import logging

from blocks import Message
from blocks import approval as approval_blocks
from blocks import consignment as render
from bot.core import Shipbot
from bot.models import (
    BEING_ALLOCATED,
    SHOWS_ALLOCATION,
    WORKING,
    ConsignmentRecord,
    Step,
)
from bot.slack.outbox import COSMETIC, URGENT, Edit, Outbox
from bot.slack.slackio import SlackProblem
from bot.store.job_payloads import RefreshJob

log = logging.getLogger("shipbot.show")

# A "⏳" state is shown only when its step takes longer than this.
SLOW = 2.0


def shown(bot: Shipbot, message: Message) -> Message:
    """A channel message, quote list or label as this bot shows it: marked SANDBOX when
    the carrier is one (issue 22), so nothing here is mistaken for a real shipment."""
    return render.sandbox_marked(message) if bot.settings.carrier_is_sandbox else message


def label_comment(bot: Shipbot, comment: str) -> str:
    return render.sandbox_comment(comment) if bot.settings.carrier_is_sandbox else comment


def show_channel(
    bot: Shipbot,
    c: ConsignmentRecord,
    *,
    priority: int | None = None,
    thread_pending: bool = False,
) -> ConsignmentRecord:
    """The channel message alone (best effort: the thread and the store stay right).

    A failure before any channel message was posted gets one now; where the bot can't post,
    the agent is told through the command's response_url (it works without membership).
    Returns the record with the message's ts.
    """
    if c.message_ts is None:
        if c.step is Step.FAILED:
            try:
                ts = put_channel_message(bot, c, thread_pending=thread_pending)
                return c.model_copy(update={"message_ts": ts})
            except SlackProblem as exc:
                log.warning("could not post the message of consignment %s: %s", c.id, exc.error)
                if c.response_url:
                    bot.slack.respond(c.response_url, render.problem(c))
        return c
    working = c.step in WORKING
    if priority is None:
        priority = COSMETIC if working else URGENT
    bot.slack.update(
        c.channel_id,
        c.message_ts,
        shown(bot, render.channel_message(c, thread_pending=thread_pending)),
        priority=priority,
        delay=SLOW if working else 0.0,
    )
    return c


def put_channel_message(
    bot: Shipbot,
    c: ConsignmentRecord,
    as_step: Step | None = None,
    *,
    thread_pending: bool = False,
) -> str:
    """Post the consignment's channel message (as it will read at `as_step`) and keep its ts.

    It is posted once there is something to say (the quotes, or a failure), so a fast flow
    needs no edit before its final state. Raises SlackProblem.
    """
    at_step = c.model_copy(update={"step": as_step}) if as_step else c
    message = shown(bot, render.channel_message(at_step, thread_pending=thread_pending))
    # A return's message is a reply in its original's thread (thread_ts None: top level).
    ts = bot.slack.post_joining(c.channel_id, message, thread_ts=c.thread_ts)
    bot.store.update_fields(c.id, message_ts=ts)
    bot.outbox.posted(c.channel_id, ts, message)
    return ts


def show(bot: Shipbot, c: ConsignmentRecord) -> None:
    """The channel message, and the thread's quotes message or problem line."""
    if c.step is Step.FAILED:
        show_failure(bot, c, bot.outbox)
        return
    c = show_channel(bot, c)
    if c.message_ts is None:
        return
    try:
        if c.step is Step.AWAITING_APPROVAL and c.quotes_ts:
            bot.slack.update(
                c.channel_id, c.quotes_ts, approval_blocks.awaiting(c), priority=URGENT
            )
        elif c.step in BEING_ALLOCATED | SHOWS_ALLOCATION and c.quotes_ts:
            # The click's own edit: the Choose buttons go at once, through the click's
            # response_url (the outbox; no chat.update slot). The outcome (tracking) comes
            # with the label's upload, so this message needs no second edit.
            bot.slack.update(c.channel_id, c.quotes_ts, render.claimed(c), priority=URGENT)
        elif c.step is Step.EXPIRED and c.quotes_ts:
            bot.slack.update(c.channel_id, c.quotes_ts, render.quotes_expired(c), priority=URGENT)
        elif c.step is Step.FAILED:
            if c.quotes_ts and c.problem and c.problem.step is Step.CREATED:
                # The old buttons must not stay clickable once the claim is spent.
                bot.slack.update(
                    c.channel_id, c.quotes_ts, render.claimed_failed(c), priority=URGENT
                )
            bot.slack.post(c.channel_id, render.problem(c), thread_ts=c.thread_ts)
    except SlackProblem as exc:
        log.warning("could not update thread of consignment %s: %s", c.id, exc.error)


def show_failure(bot: Shipbot, c: ConsignmentRecord, outbox: Outbox) -> None:
    """A failure's thread post carries the next step (Try again), so it goes through the
    outbox: retried after a 429 or a 5xx, and again after a restart. Until it is in the
    thread, the channel message and the quotes message say the step failed without pointing
    at it; once it is, they are edited to point at it. If Slack refuses it for good, the
    channel message itself carries the problem and its button."""
    posted_now = c.message_ts is None
    if posted_now:
        c = show_channel(bot, c, thread_pending=True)
        if c.message_ts is None:
            return  # told through the response_url
    assert c.message_ts is not None
    pending = shown(bot, render.channel_message(c, thread_pending=True))
    then: list[Edit] = [
        (c.channel_id, c.message_ts, shown(bot, render.channel_message(c)), pending)
    ]
    spent = c.quotes_ts and c.problem and c.problem.step is Step.CREATED
    if c.quotes_ts and spent:
        # The old buttons must not stay clickable once the claim is spent.
        interim = render.claimed_failed(c, thread_pending=True)
        then.append((c.channel_id, c.quotes_ts, render.claimed_failed(c), interim))
    inline = shown(bot, render.failure_inline(c))
    otherwise: list[Edit] = [(c.channel_id, c.message_ts, inline, pending)]
    # Queued first, so it goes out before the interim edits queued below.
    outbox.post(
        c.channel_id,
        render.problem(c),
        thread_ts=c.thread_ts or c.message_ts,
        key=f"problem:{c.id}",
        then=then,
        otherwise=otherwise,
    )
    if not posted_now:
        show_channel(bot, c, thread_pending=True)
    if c.quotes_ts and spent:
        bot.slack.update(
            c.channel_id,
            c.quotes_ts,
            render.claimed_failed(c, thread_pending=True),
            priority=URGENT,
        )


def show_later(bot: Shipbot, cid: int) -> None:
    """From a listener: a worker shows it, so the ack never waits on Slack."""
    bot.jobs.submit(RefreshJob(cid=cid), dedupe_key=f"refresh:{cid}")


def _job_refresh(bot: Shipbot, payload: RefreshJob) -> None:
    cid = payload.cid
    with bot.locked(cid):
        record = bot.store.get(cid)
        if record is not None:
            show(bot, record)


def register(bot: Shipbot) -> None:
    bot.jobs.register(RefreshJob, lambda payload: _job_refresh(bot, payload))
