"""The one way a consignment is shown: its channel message and thread in line with its step.

Every feature calls `show` after a transition instead of choosing messages itself, so the
channel and the thread always say what the store says (and the store what the carrier said).
"""

from __future__ import annotations

import logging
from typing import Any

from blocks import approval as approval_blocks
from blocks import consignment as render
from bot.core import Shipbot
from bot.models import BEING_ALLOCATED, SHOWS_ALLOCATION, ConsignmentRecord, Step
from bot.slackio import SlackProblem

log = logging.getLogger("shipbot.show")

REFRESH_JOB = "refresh"


def show_channel(bot: Shipbot, c: ConsignmentRecord) -> None:
    """The channel message alone (best effort: the thread and the store stay right)."""
    if c.message_ts is None:
        return
    try:
        bot.slack.update(c.channel_id, c.message_ts, render.channel_message(c))
    except SlackProblem as exc:
        log.warning("could not update message of consignment %s: %s", c.id, exc.error)


def show(bot: Shipbot, c: ConsignmentRecord) -> None:
    """The channel message, and the thread's quotes message or problem line."""
    show_channel(bot, c)
    if c.message_ts is None:
        return
    try:
        if c.step is Step.AWAITING_APPROVAL and c.quotes_ts:
            bot.slack.update(c.channel_id, c.quotes_ts, approval_blocks.awaiting(c))
        elif c.step in BEING_ALLOCATED and c.quotes_ts:
            bot.slack.update(c.channel_id, c.quotes_ts, render.claimed(c))
        elif c.step in SHOWS_ALLOCATION and c.quotes_ts:
            bot.slack.update(c.channel_id, c.quotes_ts, render.allocated(c))
        elif c.step is Step.EXPIRED and c.quotes_ts:
            bot.slack.update(c.channel_id, c.quotes_ts, render.quotes_expired(c))
        elif c.step is Step.FAILED:
            if c.quotes_ts and c.problem and c.problem.step is Step.CREATED:
                # The old buttons must not stay clickable once the claim is spent.
                bot.slack.update(c.channel_id, c.quotes_ts, render.claimed_failed(c))
            bot.slack.post(c.channel_id, render.problem(c), thread_ts=c.message_ts)
    except SlackProblem as exc:
        log.warning("could not update thread of consignment %s: %s", c.id, exc.error)


def show_later(bot: Shipbot, cid: int) -> None:
    """From a listener: a worker shows it, so the ack never waits on Slack."""
    bot.jobs.submit(REFRESH_JOB, {"cid": cid}, dedupe_key=f"refresh:{cid}")


def _job_refresh(bot: Shipbot, payload: dict[str, Any]) -> None:
    cid = int(payload["cid"])
    with bot.locked(cid):
        record = bot.store.get(cid)
        if record is not None:
            show(bot, record)


def register(bot: Shipbot) -> None:
    bot.jobs.register(REFRESH_JOB, lambda payload: _job_refresh(bot, payload))
