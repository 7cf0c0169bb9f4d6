"""The flow's buying steps: allocate the clicked quote (never twice), fetch the label and
customs documents, upload them to the thread.

A lost allocate reply is settled by looking at the carrier until no call of ours can still
land; nothing here says "Nothing was bought" before that.
"""

from __future__ import annotations

import logging
import time

from blocks import consignment as render
from blocks import returns as return_blocks
from bot.carrier.errors import CarrierError, OutcomeUnknown, QuoteExpired, UnexpectedResponse
from bot.carrier_states import ConsignmentState
from bot.core import BOT, Shipbot
from bot.desk import messages
from bot.desk.show import label_comment, show, show_channel
from bot.desk.step_failures import audit_carrier, carrier_failed, slack_failed, stop_failed
from bot.models import Allocation, ConsignmentRecord, ConsignmentStatus, Price, Problem, Step
from bot.slack.slackio import SlackProblem
from bot.store.jobs import RetryLater

log = logging.getLogger("shipbot.flow")

# Added to the carrier's timeouts: how long after sending an allocate it may still land.
ALLOCATE_MARGIN = 1.0
LOOKUP_EVERY = 1.0
# How much longer we keep looking while the carrier says "Allocating".
STILL_ALLOCATING = 30.0


def allocate(bot: Shipbot, c: ConsignmentRecord) -> bool:
    """Record the deadline first: a restart then knows how long the call could still land."""
    settings = bot.settings
    deadline = (
        time.time()
        + settings.electio_connect_timeout
        + settings.electio_read_timeout
        + ALLOCATE_MARGIN
    )
    if not bot.store.transition(c.id, {Step.CLAIMED}, Step.ALLOCATING, allocate_deadline=deadline):
        return True
    c = bot.store.require(c.id)
    show(bot, c)
    chosen = c.chosen_quote
    if chosen is None:  # the claim names a quote we no longer hold: start over safely
        bot.store.transition(c.id, {Step.ALLOCATING}, Step.CREATED)
        return True
    try:
        allocation = bot.carrier.allocate_with_quote(chosen)
    except QuoteExpired as exc:
        return _expired(bot, c, exc)
    except CarrierError as exc:
        # Whatever the error, the allocate may have taken effect: look before anything.
        return look_after_allocate(bot, c, cause=exc)
    _allocated(bot, c, allocation, price=chosen.price, via="allocate")
    return True


def resume_allocating(bot: Shipbot, c: ConsignmentRecord) -> bool:
    """Only reached on resume: the allocate call may have gone out. Look, never send again."""
    return look_after_allocate(bot, c, cause=None)


def _expired(bot: Shipbot, c: ConsignmentRecord, exc: CarrierError) -> bool:
    bot.store.transition(c.id, {Step.ALLOCATING}, Step.EXPIRED)
    audit_carrier(bot, c.claimed_by or BOT, "allocate", "quote expired", c.id, exc)
    show(bot, bot.store.require(c.id))
    return False


def look_after_allocate(bot: Shipbot, c: ConsignmentRecord, cause: CarrierError | None) -> bool:
    """What the carrier says now, and again until no allocate of ours can still land.

    A reply with a status (4xx/5xx) ended our request, so one look settles it; a lost reply
    (timeout, 504) or a process that died mid-call may still be running at the carrier, so
    we keep looking until the recorded deadline has passed before saying "Nothing was bought".
    """
    assert c.carrier_reference
    # A 2xx we could not read (e.g. 202 Accepted with no body) may be an allocation under way.
    may_still_land = cause is None or isinstance(cause, (OutcomeUnknown, UnexpectedResponse))
    deadline = (c.allocate_deadline or 0.0) if may_still_land else 0.0
    looks = 0
    while True:
        looks += 1
        try:
            status = bot.carrier.get_consignment(c.carrier_reference)
        except CarrierError as exc:
            # We still don't know; Try again comes back here and looks again.
            return carrier_failed(
                bot, c, "lookup", cause or exc, at=Step.ALLOCATING, resume=Step.ALLOCATING
            )
        if status.tracking_numbers or status.state.allocated_or_later:
            allocation = _carrier_allocation(c, status)
            price = status.price or _clicked_price_if_same(c, allocation)
            log.info("allocate confirmed by lookup consignment=%s looks=%s", c.id, looks)
            _allocated(bot, c, allocation, price=price, via="lookup")
            return True
        busy = status.state is ConsignmentState.ALLOCATING  # the carrier is still at it
        remaining = (deadline + (STILL_ALLOCATING if busy else 0.0)) - time.time()
        if remaining <= 0:
            break
        time.sleep(min(LOOKUP_EVERY, remaining))
    if status.state is ConsignmentState.ALLOCATING:
        # Never "Nothing was bought" while the carrier itself says it is allocating.
        problem = Problem(
            step=Step.ALLOCATING,
            kind="StillAllocating",
            message=messages.STILL_ALLOCATING_AT_CARRIER,
            correlation_id=cause.correlation_id if cause else None,
        )
        bot.store.audit(
            c.claimed_by or BOT,
            "allocate",
            "unclear (carrier says Allocating)",
            consignment_id=c.id,
        )
        return stop_failed(bot, c.id, Step.ALLOCATING, problem)
    error = cause or CarrierError("allocation not confirmed")
    bot.store.audit(
        c.claimed_by or BOT,
        "allocate",
        f"failed: {type(error).__name__} (carrier says {status.raw_state or 'not allocated'} "
        f"after {looks} look(s))",
        consignment_id=c.id,
        correlation_id=error.correlation_id,
    )
    # Not allocated: this claim is spent; Try again gets fresh quotes for a new click.
    problem = Problem(
        step=Step.CREATED,
        kind=type(error).__name__,
        message=messages.carrier_problem("allocate", error, nothing_bought=True),
        correlation_id=error.correlation_id,
    )
    if c.released_service:
        # Never "nothing changed": the old booking is gone. Try again (the same quote) or
        # Get fresh quotes.
        problem = Problem(
            step=Step.CLAIMED,
            kind=type(error).__name__,
            message=messages.RELEASED_THEN_FAILED.format(
                old=c.released_service, why=messages.carrier_problem("allocate", error)
            ),
            correlation_id=error.correlation_id,
        )
    return stop_failed(bot, c.id, Step.ALLOCATING, problem)


def _carrier_allocation(c: ConsignmentRecord, status: ConsignmentStatus) -> Allocation:
    """What the carrier shows as allocated; the clicked quote only fills what it leaves out."""
    chosen = c.chosen_quote
    return Allocation(
        consignment_reference=status.reference,
        carrier_code=status.carrier_code or (chosen.carrier_code if chosen else ""),
        carrier_name=status.carrier_name or (chosen.carrier_name if chosen else ""),
        service_code=status.service_code or (chosen.service_code if chosen else None),
        service_name=status.service_name or (chosen.service_name if chosen else ""),
        tracking_numbers=status.tracking_numbers,
    )


def _clicked_price_if_same(c: ConsignmentRecord, allocation: Allocation) -> Price | None:
    """The clicked quote's price only if the carrier allocated that very service."""
    chosen = c.chosen_quote
    if chosen is None:
        return None
    same = allocation.service_name == chosen.service_name and (
        allocation.carrier_code == chosen.carrier_code or not allocation.carrier_code
    )
    return chosen.price if same else None


def _allocated(
    bot: Shipbot, c: ConsignmentRecord, allocation: Allocation, *, price: Price | None, via: str
) -> None:
    chosen = c.chosen_quote
    if not bot.store.save_allocation(
        c.id,
        allocation,
        leaving={Step.ALLOCATING},
        price=price,
        quote_reference=chosen.reference if chosen else None,
        user=c.claimed_by,
    ):
        log.warning("allocation of consignment %s found it moved on", c.id)
        return
    bot.store.audit(
        c.claimed_by or BOT,
        "allocate",
        f"ok ({via})",
        consignment_id=c.id,
        detail=", ".join(allocation.tracking_numbers),
    )
    show(bot, bot.store.require(c.id))


def fetch_documents(bot: Shipbot, c: ConsignmentRecord) -> bool:
    assert c.carrier_reference
    try:
        label = bot.carrier.get_label(c.carrier_reference, "PDF")
    except CarrierError as exc:
        return carrier_failed(bot, c, "label", exc, at=Step.ALLOCATED, resume=Step.ALLOCATED)
    documents = [label]
    if c.request.is_international:
        try:
            documents += bot.carrier.get_customs_documents(c.carrier_reference)
        except CarrierError as exc:
            bot.store.save_documents(c.id, documents)
            return carrier_failed(bot, c, "customs", exc, at=Step.ALLOCATED, resume=Step.ALLOCATED)
    bot.store.save_documents(c.id, documents)
    bot.store.transition(c.id, {Step.ALLOCATED}, Step.LABEL_SAVED)
    bot.store.audit(
        BOT,
        "documents",
        "saved",
        consignment_id=c.id,
        detail=", ".join(d.name for d in documents),
    )
    return True  # the upload follows at once; its outcome updates the channel message


def upload(bot: Shipbot, c: ConsignmentRecord) -> bool:
    """Every document in one share, its message saying the outcome (tracking, price)."""
    assert c.message_ts
    docs = bot.store.documents(c.id, pending_only=True)
    names = ", ".join(d.name for d in docs)
    try:
        comment = return_blocks.label_comment(c) if c.is_return else render.label_comment(c)
        bot.slack.upload(c.channel_id, c.thread_ts, docs, comment=label_comment(bot, comment))
    except SlackProblem as exc:
        if exc.ratelimited:
            wait = exc.retry_after
            raise RetryLater("upload: Slack said wait", delay=wait, counts=False) from exc
        if exc.membership and exc.error == "not_in_channel" and bot.slack.join(c.channel_id):
            raise RetryLater("joined the channel; uploading again", delay=0) from exc
        if exc.membership or exc.fatal:
            return slack_failed(bot, c, exc, at=Step.LABEL_SAVED, resume=Step.LABEL_SAVED)
        # A passing Slack failure: the job runner tries again with backoff, and
        # after its last attempt the thread says so, with Try again.
        bot.store.audit(BOT, "upload", f"failed: {exc.error}", consignment_id=c.id, detail=names)
        raise RetryLater(f"upload of {names} failed: {exc.error}") from exc
    for doc in docs:
        bot.store.mark_uploaded(c.id, doc.name)
        bot.store.audit(BOT, "upload", "ok", consignment_id=c.id, detail=doc.name)
    if c.returns is not None:  # the original's audit says a return label was made for it
        bot.store.audit(
            c.claimed_by or BOT,
            "return label",
            "made",
            consignment_id=c.returns,
            detail=c.reference,
        )
    # A manifest that swept it up while the label was on its way left its mark.
    done = Step.MANIFESTED if bot.store.require(c.id).manifested_at else Step.UPLOADED
    bot.store.transition(c.id, {Step.LABEL_SAVED}, done)
    show_channel(bot, bot.store.require(c.id))
    return False
