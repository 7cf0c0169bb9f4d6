"""The flow's first steps: the channel message, create at the carrier, fetch and show quotes.

Each returns True to carry on, False to stop (waiting, failed, retry later); see
`bot/desk/advance.py` for the engine that runs them.
"""

from __future__ import annotations

from datetime import timedelta

from blocks import Message
from blocks import consignment as render
from bot.carrier.errors import CarrierError
from bot.core import BOT, Shipbot
from bot.desk.early_post import end_early_post
from bot.desk.return_services import no_return_service, return_services_only
from bot.desk.show import put_channel_message, show_channel, shown
from bot.desk.step_failures import carrier_failed, slack_failed, stop_failed
from bot.models import ConsignmentRecord, Problem, QuoteSet, Step
from bot.slack.outbox import URGENT
from bot.slack.slackio import SlackProblem

# Saved quotes not yet shown are reused only if they stay valid at least this long.
QUOTES_STILL_GOOD = timedelta(minutes=5)


# -- steps: each returns True to carry on, False to stop (waiting, failed, retry later) ----
def post_channel_message(bot: Shipbot, c: ConsignmentRecord) -> bool:
    """The channel message is posted with the quotes (see `quote`): one post, no edit."""
    return bot.store.transition(c.id, {Step.NEW}, Step.CREATING)


def create(bot: Shipbot, c: ConsignmentRecord) -> bool:
    try:
        # A lost reply here may leave an unallocated consignment at the carrier; creating
        # again costs nothing (no label is bought until allocate), so we simply retry.
        reference = bot.carrier.create_consignment(c.request, bot.settings.shipping_location)
    except CarrierError as exc:
        return carrier_failed(bot, c, "create", exc, at=Step.CREATING, resume=Step.CREATING)
    bot.store.transition(c.id, {Step.CREATING}, Step.CREATED, carrier_reference=reference)
    bot.store.audit(c.created_by, "create", "ok", consignment_id=c.id, detail=reference)
    return True


def start_quoting(bot: Shipbot, c: ConsignmentRecord) -> bool:
    if bot.store.transition(c.id, {Step.CREATED}, Step.QUOTING):
        show_channel(bot, bot.store.require(c.id))
    return True


def _quotes_not_shown_yet(bot: Shipbot, c: ConsignmentRecord) -> bool:
    """Quotes we got but could not post yet (Slack said wait): no need to ask again."""
    soon = bot.now() + QUOTES_STILL_GOOD
    return bool(c.quotes) and c.quotes_ts is None and all(q.expires_at > soon for q in c.quotes)


def quote(bot: Shipbot, c: ConsignmentRecord) -> bool:
    assert c.carrier_reference
    if not _quotes_not_shown_yet(bot, c):
        try:
            quote_set = bot.carrier.get_quotes(c.carrier_reference)
        except CarrierError as exc:
            return carrier_failed(bot, c, "quotes", exc, at=Step.QUOTING, resume=Step.CREATED)
        if c.request.is_return:
            quote_set = return_services_only(quote_set)
        keep_quotes(bot, c, quote_set, BOT)
    # From here the channel message is ours to post: a slow carrier may have had it posted
    # early (as "⏳"), and then it is edited instead.
    end_early_post(c.id)
    c = bot.store.require(c.id)
    if not c.quotes:
        reasons = "; ".join(f"{u.service_name}: {u.reason}" for u in c.unqualified[:5])
        problem = Problem(
            step=Step.CREATED,
            kind="NoQuotes",
            retryable=False,
            message=(
                no_return_service(c, reasons)
                if c.request.is_return
                else "No carrier can take this parcel"
                + (f" ({reasons})" if reasons else "")
                + ". Check the weight, size and destination, then run `/ship` again."
            ),
        )
        return stop_failed(bot, c.id, Step.QUOTING, problem)
    try:
        if c.message_ts is None:
            # Posted as it reads once quoted: the happy path never edits it before the end.
            ts = put_channel_message(bot, c, as_step=Step.QUOTED)
            c = c.model_copy(update={"message_ts": ts})
        ts = _put_quotes_message(bot, c, shown(bot, render.quote_list(c)))
    except SlackProblem as exc:
        return slack_failed(bot, c, exc, at=Step.QUOTING, resume=Step.CREATED)
    # The buttons are visible from here: a click may claim while we are still QUOTING
    # (the quotes are stored), so keep the message's ts first, then wait for a click.
    bot.store.update_fields(c.id, quotes_ts=ts)
    if not bot.store.transition(c.id, {Step.QUOTING}, Step.QUOTED):
        return True  # already claimed: carry on with the allocation
    show_channel(bot, bot.store.require(c.id))
    return False  # now it waits for a click


def _put_quotes_message(bot: Shipbot, c: ConsignmentRecord, message: Message) -> str:
    """The quotes live in one thread message, edited in place on re-quote or claim."""
    assert c.message_ts
    if c.quotes_ts:
        bot.slack.update(c.channel_id, c.quotes_ts, message, priority=URGENT)
        return c.quotes_ts
    return bot.slack.post_joining(c.channel_id, message, thread_ts=c.thread_ts)


def keep_quotes(
    bot: Shipbot, c: ConsignmentRecord, quotes: QuoteSet, actor: str, note: str = ""
) -> None:
    """Store the quotes and say so in the audit (with the carrier's reference for them)."""
    bot.store.save_quotes(c.id, quotes)
    outcome = f"{len(quotes.quotes)} quotes{note}"
    bot.store.audit(actor, "quotes", outcome, consignment_id=c.id, detail=quotes.request_reference)
