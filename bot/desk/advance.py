"""The Quotes flow's engine: a resumable state machine, one function per step.

`advance` runs on a job worker from wherever a consignment stands until it waits for a
person. Each step is recorded (a guarded transition) before the next carrier call, so a
restart continues where a dead process stopped, and one claim leads to at most one
allocate call. Nothing here says "Nothing was bought" while an allocate could still land.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from blocks import Message
from blocks import consignment as render
from blocks import returns as return_blocks
from bot.carrier.errors import (
    CarrierError,
    InvalidRequest,
    OutcomeUnknown,
    QuoteExpired,
    UnexpectedResponse,
)
from bot.carrier.fields import refused_fields
from bot.core import BOT, Shipbot
from bot.desk import messages
from bot.desk.return_services import return_services_only
from bot.desk.show import SLOW, label_comment, put_channel_message, show, show_channel, shown
from bot.models import (
    IN_FLIGHT,
    STILL_QUOTING,
    Allocation,
    ConsignmentRecord,
    ConsignmentState,
    ConsignmentStatus,
    Price,
    Problem,
    Step,
)
from bot.slack.outbox import URGENT
from bot.slack.slackio import SlackProblem
from bot.store.jobs import RetryLater

log = logging.getLogger("shipbot.flow")

ADVANCE_JOB = "advance"
# Added to the carrier's timeouts: how long after sending an allocate it may still land.
ALLOCATE_MARGIN = 1.0
LOOKUP_EVERY = 1.0
# How much longer we keep looking while the carrier says "Allocating".
STILL_ALLOCATING = 30.0
# Saved quotes not yet shown are reused only if they stay valid at least this long.
QUOTES_STILL_GOOD = timedelta(minutes=5)


def advance_later(bot: Shipbot, cid: int) -> None:
    bot.jobs.submit(ADVANCE_JOB, {"cid": cid}, dedupe_key=f"advance:{cid}")


def resume(bot: Shipbot, pending: list[int]) -> None:
    """After a restart: every consignment left between submit and upload carries on."""
    for cid in pending:
        advance_later(bot, cid)


def advance(bot: Shipbot, cid: int) -> None:
    """Run the flow from wherever this consignment is until it waits for a person."""
    with bot.locked(cid), _working_notice(bot, cid):
        while True:
            record = bot.store.get(cid)
            if record is None or not record.step.in_flight:
                return
            started = time.monotonic()
            step = record.step
            moved = _STEPS[step](bot, record)
            # Only a stop needs a fresh look (its outcome and correlation id).
            after = record if moved else bot.store.get(cid)
            problem = after.problem if after is not None and not moved else None
            log.info(
                "step consignment=%s ref=%s step=%s outcome=%s duration_ms=%.0f correlation=%s",
                cid,
                (after.carrier_reference if after else None) or "-",
                step.value,
                (after.step.value if after else "gone") if not moved else "ok",
                (time.monotonic() - started) * 1000,
                (problem.correlation_id if problem else None) or "-",
            )
            if not moved:
                return


# -- "working on it" while a slow create or quote runs -----------------------------------------
class _EarlyPost:
    """The channel message is normally posted with the quotes (one post, no edit). When the
    carrier is slow, agents would see nothing: after `SLOW` seconds it is posted early as
    "⏳ Creating…", and the quote step then edits it instead of posting."""

    def __init__(self, bot: Shipbot, cid: int) -> None:
        self.bot = bot
        self.cid = cid
        self.lock = threading.Lock()
        self.live = True
        self.timer = threading.Timer(SLOW, self.fire)
        self.timer.daemon = True

    def fire(self) -> None:
        with self.lock:
            if not self.live:
                return
            c = self.bot.store.get(self.cid)
            if c is None or c.message_ts or c.step not in STILL_QUOTING:
                return
            try:
                put_channel_message(self.bot, c)
            except SlackProblem as exc:  # the quote step posts (and reports) it anyway
                log.info("early channel message of %s not posted: %s", self.cid, exc.error)

    def end(self) -> None:
        """No early post after this; one under way is waited for (its ts is then stored)."""
        self.timer.cancel()
        with self.lock:
            self.live = False


_EARLY: dict[int, _EarlyPost] = {}


@contextmanager
def _working_notice(bot: Shipbot, cid: int) -> Iterator[None]:
    c = bot.store.get(cid)
    if c is None or c.message_ts or c.step not in STILL_QUOTING:
        yield
        return
    early = _EARLY[cid] = _EarlyPost(bot, cid)
    early.timer.start()
    try:
        yield
    finally:
        early.end()
        _EARLY.pop(cid, None)


def _end_early_post(cid: int) -> None:
    early = _EARLY.get(cid)
    if early is not None:
        early.end()


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
        bot.store.save_quotes(c.id, quote_set)
        bot.store.audit(
            BOT,
            "quotes",
            f"{len(quote_set.quotes)} quotes",
            consignment_id=c.id,
            detail=quote_set.request_reference,
        )
    # From here the channel message is ours to post: a slow carrier may have had it posted
    # early (as "⏳"), and then it is edited instead.
    _end_early_post(c.id)
    c = bot.store.require(c.id)
    if not c.quotes:
        reasons = "; ".join(f"{u.service_name}: {u.reason}" for u in c.unqualified[:5])
        problem = Problem(
            step=Step.CREATED,
            kind="NoQuotes",
            retryable=False,
            message=(
                "No carrier can take this parcel"
                + (f" ({reasons})" if reasons else "")
                + ". Check the weight, size and destination, then run `/ship` again."
            ),
        )
        if bot.store.transition(c.id, {Step.QUOTING}, Step.FAILED, problem=problem):
            show(bot, bot.store.require(c.id))
        return False
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
    bot.store.audit(
        c.claimed_by or BOT,
        "allocate",
        "quote expired",
        consignment_id=c.id,
        correlation_id=exc.correlation_id,
    )
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
        if bot.store.transition(c.id, {Step.ALLOCATING}, Step.FAILED, problem=problem):
            show(bot, bot.store.require(c.id))
        return False
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
    if bot.store.transition(c.id, {Step.ALLOCATING}, Step.FAILED, problem=problem):
        show(bot, bot.store.require(c.id))
    return False


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


# -- ship with another service -------------------------------------------------------------
# Sorted PRO states from which a booking can be released (after setnotreadytoship for
# ReadyToShip), those it is busy in, and those where it is free to book again.
_RELEASABLE = frozenset(
    {ConsignmentState.ALLOCATED, ConsignmentState.MANIFESTED, ConsignmentState.MANIFEST_FAILED}
)
_BUSY = frozenset(
    {ConsignmentState.ALLOCATING, ConsignmentState.MANIFESTING, ConsignmentState.CANCELLING}
)
_FREE = frozenset({ConsignmentState.UNALLOCATED, ConsignmentState.ALLOCATION_FAILED})
# How many reads (a second apart) a release may take before we say it is unclear.
RELEASE_LOOKS = 10


def requote(bot: Shipbot, c: ConsignmentRecord) -> bool:
    """Quotes for a booked consignment, shown beside its current service and price.

    Read first: the card may be stale. One already free is quoted the usual way; one the
    carrier has (or cancelled) can't change service, and nothing was touched."""
    assert c.carrier_reference
    try:
        status = bot.carrier.get_consignment(c.carrier_reference)
    except CarrierError as exc:
        return carrier_failed(bot, c, "lookup", exc, at=Step.REQUOTING, resume=Step.REQUOTING)
    bot.store.audit(c.claimed_by or BOT, "lookup", f"ok ({status.raw_state})", consignment_id=c.id)
    if status.state in _FREE:
        bot.store.transition(c.id, {Step.REQUOTING}, Step.CREATED)
        return True
    if status.state not in _RELEASABLE | {ConsignmentState.READY_TO_SHIP}:
        return _release_stopped(bot, c, status, at=Step.REQUOTING, resume=None)
    try:
        quote_set = bot.carrier.get_quotes(c.carrier_reference)
    except CarrierError as exc:
        return carrier_failed(bot, c, "quotes", exc, at=Step.REQUOTING, resume=Step.REQUOTING)
    bot.store.save_quotes(c.id, quote_set)
    bot.store.audit(
        c.created_by,
        "quotes",
        f"{len(quote_set.quotes)} quotes (ship with another service)",
        consignment_id=c.id,
        detail=quote_set.request_reference,
    )
    c = bot.store.require(c.id)
    if c.message_ts is None:
        put_channel_message(bot, c, as_step=Step.REQUOTED)
        c = bot.store.require(c.id)
    try:
        assert c.message_ts
        ts = bot.slack.post_joining(
            c.channel_id, shown(bot, render.requote_list(c, status.price)), thread_ts=c.message_ts
        )
    except SlackProblem as exc:
        return slack_failed(bot, c, exc, at=Step.REQUOTING, resume=Step.REQUOTING)
    bot.store.update_fields(c.id, quotes_ts=ts)
    if bot.store.transition(c.id, {Step.REQUOTING}, Step.REQUOTED):
        show_channel(bot, bot.store.require(c.id))
    return False  # waits for a click


def release(bot: Shipbot, c: ConsignmentRecord) -> bool:
    """Release the booking, exactly once whatever happened before (see `_free_at_carrier`),
    then CLAIMED: the chosen quote is allocated next."""
    old, old_tracking = _booking_words(c)
    status = _free_at_carrier(bot, c, step=Step.RELEASING, old=old)
    if status is None:
        return False
    if not bot.store.release_booking(c.id, old):
        return True
    bot.store.audit(
        c.claimed_by or BOT, "release", f"ok ({status.raw_state})", consignment_id=c.id, detail=old
    )
    _say_released(bot, bot.store.require(c.id), old_tracking)
    return True


def _booking_words(c: ConsignmentRecord) -> tuple[str, str]:
    if c.allocation is None:
        return c.released_service or "current", ""
    a = c.allocation
    return render.service_label(a.carrier_name, a.service_name), ", ".join(a.tracking_numbers)


def _say_released(bot: Shipbot, c: ConsignmentRecord, old_tracking: str) -> None:
    if c.message_ts:
        try:
            bot.slack.post(c.channel_id, render.released(c, old_tracking), thread_ts=c.message_ts)
        except SlackProblem as exc:
            log.warning("release of %s not said in the thread: %s", c.id, exc.error)


def _free_at_carrier(
    bot: Shipbot, c: ConsignmentRecord, *, step: Step, old: str
) -> ConsignmentStatus | None:
    """Read, and only then act on what Sorted PRO says (setnotreadytoship from Ready To
    Ship, deallocate from Allocated/Manifested/Manifest Failed), then read back until it is
    Unallocated. A lost or 202 reply is settled by the next read, never by guessing; a
    restart starts with a read too, so nothing is sent twice. None: it stopped (FAILED,
    said in the thread)."""
    assert c.carrier_reference
    reference = c.carrier_reference
    actor = c.claimed_by or c.created_by or BOT
    status: ConsignmentStatus | None = None
    for look in range(RELEASE_LOOKS):
        try:
            status = bot.carrier.get_consignment(reference)
        except CarrierError as exc:
            carrier_failed(bot, c, "lookup", exc, at=step, resume=step)
            return None
        state = status.state
        if state in _FREE:
            return status
        call = "setnotreadytoship" if state is ConsignmentState.READY_TO_SHIP else "deallocate"
        try:
            if state is ConsignmentState.READY_TO_SHIP:
                bot.carrier.set_not_ready_to_ship(reference)
                bot.store.audit(actor, call, "ok", consignment_id=c.id)
                continue
            if state in _RELEASABLE:
                bot.carrier.deallocate(reference)
                bot.store.audit(actor, call, "ok", consignment_id=c.id, detail=old)
                continue
        except (OutcomeUnknown, UnexpectedResponse) as exc:
            # The call may have taken effect: the next read says.
            bot.store.audit(
                actor,
                call,
                f"reply lost ({type(exc).__name__}): reading back",
                consignment_id=c.id,
                correlation_id=exc.correlation_id,
            )
            continue
        except CarrierError as exc:
            bot.store.audit(
                actor,
                call,
                f"refused: {type(exc).__name__}",
                consignment_id=c.id,
                correlation_id=exc.correlation_id,
                detail=exc.code,
            )
            problem = Problem(
                step=step,
                kind=type(exc).__name__,
                message=messages.RELEASE_REFUSED.format(old=old, why=exc.message, ref=reference),
                correlation_id=exc.correlation_id,
            )
            if bot.store.transition(c.id, {step}, Step.FAILED, problem=problem):
                show(bot, bot.store.require(c.id))
            return None
        if state in _BUSY:
            if look < RELEASE_LOOKS - 1:
                time.sleep(LOOKUP_EVERY)
            continue
        _release_stopped(bot, c, status, at=step, resume=None)
        return None
    assert status is not None
    problem = Problem(
        step=step,
        kind="ReleaseUnclear",
        message=messages.RELEASE_UNCLEAR.format(old=old, state=status.raw_state or "-"),
    )
    if bot.store.transition(c.id, {step}, Step.FAILED, problem=problem):
        show(bot, bot.store.require(c.id))
    return None


def update_address(bot: Shipbot, c: ConsignmentRecord) -> bool:
    """Fix the address: free it at the carrier (a booked one is released first: addresses
    lock once allocated), send the whole record back with the new destination (Update
    Consignment is a full replace), read it back, then fresh quotes (CREATED)."""
    assert c.carrier_reference
    reference = c.carrier_reference
    actor = c.created_by
    old, old_tracking = _booking_words(c)
    booked = c.allocation is not None
    status = _free_at_carrier(bot, c, step=Step.UPDATING, old=old)
    if status is None:
        return False
    if booked:
        bot.store.void_booking(c.id, old)
        bot.store.audit(actor, "release", f"ok ({status.raw_state})", consignment_id=c.id)
        c = bot.store.require(c.id)
        _say_released(bot, c, old_tracking)
    target = c.request.recipient
    try:
        bot.carrier.update_destination(reference, target)
    except CarrierError as exc:
        bot.store.audit(
            actor,
            "update",
            f"failed: {type(exc).__name__}",
            consignment_id=c.id,
            correlation_id=exc.correlation_id,
        )
        why = messages.FIX_UPDATE_FAILED.format(why=messages.carrier_problem("update", exc))
        if c.released_service:
            why = messages.RELEASED_THEN_FAILED.format(old=c.released_service, why=why)
        problem = Problem(
            step=Step.UPDATING,
            kind=type(exc).__name__,
            message=why,
            correlation_id=exc.correlation_id,
        )
        if bot.store.transition(c.id, {Step.UPDATING}, Step.FAILED, problem=problem):
            show(bot, bot.store.require(c.id))
        return False
    bot.store.audit(
        actor, "update", "ok (full replace)", consignment_id=c.id, detail=target.postcode
    )
    try:
        detail = bot.carrier.get_consignment_detail(reference)
    except CarrierError as exc:
        return carrier_failed(bot, c, "lookup", exc, at=Step.UPDATING, resume=Step.UPDATING)
    kept = (
        "".join((detail.postcode or "").split()).upper() == "".join(target.postcode.split()).upper()
    )
    bot.store.audit(actor, "lookup", f"read back: {detail.postcode or '-'}", consignment_id=c.id)
    if not kept:
        problem = Problem(
            step=Step.UPDATING,
            kind="NotKept",
            message=messages.FIX_NOT_KEPT.format(postcode=detail.postcode or "nothing"),
        )
        if bot.store.transition(c.id, {Step.UPDATING}, Step.FAILED, problem=problem):
            show(bot, bot.store.require(c.id))
        return False
    if c.message_ts:
        try:
            bot.slack.post(c.channel_id, render.address_fixed(c), thread_ts=c.message_ts)
        except SlackProblem as exc:
            log.warning("address fix of %s not said in the thread: %s", c.id, exc.error)
    bot.store.transition(c.id, {Step.UPDATING}, Step.CREATED)
    return True  # fresh quotes for the new address


def _release_stopped(
    bot: Shipbot, c: ConsignmentRecord, status: ConsignmentStatus, *, at: Step, resume: Step | None
) -> bool:
    """The carrier has it (or it was cancelled): nothing was touched, nothing can be."""
    old = c.allocation.service_name if c.allocation else "current"
    problem = Problem(
        step=resume or Step.UPLOADED,
        kind="TooLate",
        retryable=False,
        message=messages.RELEASE_TOO_LATE.format(
            ref=c.reference, state=status.raw_state or "-", old=old
        ),
    )
    bot.store.audit(
        c.claimed_by or BOT, "reship", f"stopped ({status.raw_state})", consignment_id=c.id
    )
    if bot.store.transition(c.id, {at}, Step.FAILED, problem=problem):
        show(bot, bot.store.require(c.id))
    return False


_STEPS = {
    Step.NEW: post_channel_message,
    Step.CREATING: create,
    Step.CREATED: start_quoting,
    Step.QUOTING: quote,
    Step.CLAIMED: allocate,
    Step.ALLOCATING: resume_allocating,
    Step.ALLOCATED: fetch_documents,
    Step.LABEL_SAVED: upload,
    Step.REQUOTING: requote,
    Step.RELEASING: release,
    Step.UPDATING: update_address,
}
assert set(_STEPS) == IN_FLIGHT, "every step the runner owes work to has its function"


# -- failures ----------------------------------------------------------------------------
def carrier_failed(
    bot: Shipbot, c: ConsignmentRecord, step: str, exc: CarrierError, *, at: Step, resume: Step
) -> bool:
    """`at`: the step the failed call ran in (the move is at → FAILED); `resume`: Try again's."""
    _end_early_post(c.id)
    c = bot.store.require(c.id)  # a slow carrier may have had the channel message posted
    nothing_bought = step in ("create", "quotes")
    fields = refused_fields(exc) if isinstance(exc, InvalidRequest) else []
    problem = Problem(
        step=resume,
        kind=type(exc).__name__,
        message=(
            messages.form_refused(exc)
            if fields and step == "create"
            else messages.carrier_problem(step, exc, nothing_bought=nothing_bought)
        ),
        correlation_id=exc.correlation_id,
        retryable=messages.retryable(exc) or step in ("label", "customs", "lookup"),
        fields=tuple(block for _, block in fields),
    )
    log.warning(
        "carrier failed consignment=%s step=%s error=%s status=%s correlation=%s",
        c.id,
        step,
        type(exc).__name__,
        exc.status,
        exc.correlation_id,
    )
    bot.store.transition(c.id, {at}, Step.FAILED, problem=problem)
    bot.store.audit(
        c.claimed_by or c.created_by,
        step,
        f"failed: {type(exc).__name__}",
        consignment_id=c.id,
        correlation_id=exc.correlation_id,
        detail=exc.code,
    )
    show(bot, bot.store.require(c.id))
    return False


def slack_failed(
    bot: Shipbot, c: ConsignmentRecord, exc: SlackProblem, *, at: Step, resume: Step
) -> bool:
    """Said as what it is: a retry can't fix a revoked token or an archived channel."""
    _end_early_post(c.id)
    if exc.ratelimited:
        # Slack said wait: the job runner re-queues this step after Retry-After, no sleeping.
        raise RetryLater("Slack said wait", delay=exc.retry_after, counts=False) from exc
    problem = Problem(
        step=resume,
        kind=f"slack:{exc.error}",
        message=exc.message(c.channel_id),
        retryable=not exc.fatal or exc.error == "not_in_channel",
    )
    bot.store.transition(c.id, {at}, Step.FAILED, problem=problem)
    bot.store.audit(BOT, "slack", f"failed: {exc.error}", consignment_id=c.id)
    c = bot.store.require(c.id)
    if exc.membership or exc.fatal or c.message_ts is None:
        # We can't write in the channel: tell the agent through the command's
        # response_url, which works without membership.
        if c.response_url:
            bot.slack.respond(c.response_url, render.problem(c))
    else:
        show(bot, c)
    return False


def gave_up(bot: Shipbot, payload: dict[str, Any], cause: Exception) -> None:
    """The step kept failing (Slack, a locked database, a bug): the thread says what
    happened and offers Try again, which resumes from the very same step."""
    cid = int(payload["cid"])
    with bot.locked(cid):
        record = bot.store.get(cid)
        if record is None or not record.step.in_flight:
            return
        problem = Problem(
            step=record.step,
            kind="slack" if isinstance(cause, RetryLater) else type(cause).__name__,
            message=_gave_up_message(record.step, cause),
        )
        # The step just read under the lock, in flight (checked above): its row to FAILED.
        bot.store.transition(cid, {record.step} & IN_FLIGHT, Step.FAILED, problem=problem)
        bot.store.audit(
            BOT, "job", f"gave up: {type(cause).__name__}: {cause}"[:300], consignment_id=cid
        )
        show(bot, bot.store.require(record.id))


def _gave_up_message(step: Step, cause: Exception) -> str:
    if isinstance(cause, RetryLater):
        if step is Step.LABEL_SAVED:
            return (
                "Slack kept refusing the upload, so the label isn't in this thread yet. "
                "It is saved: press Try again."
            )
        return "Slack kept failing while I worked on this. Press Try again."
    if isinstance(cause, sqlite3.OperationalError):
        what = messages.DATABASE_BUSY
    else:
        what = messages.UNEXPECTED_ERROR.format(kind=type(cause).__name__)
    return f"{what} {messages.RESUME_FROM.get(step, messages.RESUME_ANYWHERE)}"


def register(bot: Shipbot) -> None:
    bot.jobs.register(
        ADVANCE_JOB,
        lambda payload: advance(bot, int(payload["cid"])),
        on_give_up=lambda payload, reason: gave_up(bot, payload, reason),
    )
