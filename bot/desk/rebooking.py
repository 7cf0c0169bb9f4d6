"""Changing a booking: ship with another service (requote, release) and fix the address.

Releasing reads the carrier first and acts only on what it says, so a restart or a lost
reply never sends a release twice.
"""

from __future__ import annotations

import logging
import time

from blocks import consignment as render
from bot.carrier.errors import CarrierError, OutcomeUnknown, UnexpectedResponse
from bot.carrier_states import ConsignmentState
from bot.core import BOT, Shipbot
from bot.desk import messages
from bot.desk.booking import LOOKUP_EVERY
from bot.desk.quoting import keep_quotes
from bot.desk.show import put_channel_message, show_channel, shown
from bot.desk.step_failures import audit_carrier, carrier_failed, slack_failed, stop_failed
from bot.models import ConsignmentRecord, ConsignmentStatus, Problem, Step
from bot.slack.slackio import SlackProblem

log = logging.getLogger("shipbot.flow")


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
    keep_quotes(bot, c, quote_set, c.created_by, " (ship with another service)")
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
            lost = f"reply lost ({type(exc).__name__}): reading back"
            audit_carrier(bot, actor, call, lost, c.id, exc)
            continue
        except CarrierError as exc:
            audit_carrier(bot, actor, call, f"refused: {type(exc).__name__}", c.id, exc, exc.code)
            problem = Problem(
                step=step,
                kind=type(exc).__name__,
                message=messages.RELEASE_REFUSED.format(old=old, why=exc.message, ref=reference),
                correlation_id=exc.correlation_id,
            )
            stop_failed(bot, c.id, step, problem)
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
    stop_failed(bot, c.id, step, problem)
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
        audit_carrier(bot, actor, "update", f"failed: {type(exc).__name__}", c.id, exc)
        why = messages.FIX_UPDATE_FAILED.format(why=messages.carrier_problem("update", exc))
        if c.released_service:
            why = messages.RELEASED_THEN_FAILED.format(old=c.released_service, why=why)
        problem = Problem(
            step=Step.UPDATING,
            kind=type(exc).__name__,
            message=why,
            correlation_id=exc.correlation_id,
        )
        return stop_failed(bot, c.id, Step.UPDATING, problem)
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
        return stop_failed(bot, c.id, Step.UPDATING, problem)
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
    return stop_failed(bot, c.id, at, problem)
