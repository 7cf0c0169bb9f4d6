"""`/ship cancel` and the thread's Cancel button: cancel with the carrier, exactly once.

The consignment is held as CANCELLING (a guarded transition) before the carrier's call, so
no click claims a quote and no manifest takes it meanwhile; a manifest that got there
first is told as it is. After a failed or lost cancel we look before saying anything.
"""

from __future__ import annotations

import logging
import time

from blocks import Message, escape
from blocks import operations as render
from bot.carrier.errors import CarrierError, OutcomeUnknown
from bot.carrier_states import ConsignmentState
from bot.core import Asker, Refused, Shipbot
from bot.desk import messages
from bot.desk.access import asker_of, clicked_consignment, consignment_for, with_link
from bot.desk.label import carrier_refused
from bot.desk.show import show_channel
from bot.intake.arguments import log_operation
from bot.models import (
    BEING_ALLOCATED,
    CANCELLABLE,
    MANIFEST_HOLD,
    STILL_QUOTING,
    ConsignmentRecord,
    ConsignmentStatus,
    Step,
)
from bot.permissions import Action
from bot.slack.slackio import SlackProblem
from bot.store.job_payloads import CancelJob

log = logging.getLogger("shipbot.operations")


def cancel_command(bot: Shipbot, argument: str, asker: Asker) -> Message:
    """`/ship cancel REF`: the confirmation first (one stray command cancels nothing)."""
    c = consignment_for(bot, argument, asker)
    _check(bot, c, asker.user)
    return render.cancel_confirm(c)


def cancel_clicked(bot: Shipbot, cid: int, asker: Asker) -> None:
    c = clicked_consignment(bot, cid, asker)
    _check(bot, c, asker.user)
    bot.jobs.submit(
        CancelJob(cid=c.id, **asker.asked()),
        dedupe_key=f"cancel:{c.id}",
    )


def _check(bot: Shipbot, c: ConsignmentRecord, user: str) -> None:
    bot.permit(Action.CANCEL, user, c.id)
    why = refusal(c)
    if why:
        bot.store.audit(user, "cancel", "refused", consignment_id=c.id)
        log_operation("cancel", c, "refused", time.monotonic())
        raise Refused(why, "cancel refused")


def refusal(c: ConsignmentRecord) -> str | None:
    r = render.ref(c)
    if c.step is Step.CANCELLED:
        return messages.CANCEL_ALREADY.format(ref=r)
    if c.step is Step.MANIFESTED:
        when = f" {render.when(c.manifested_at)}" if c.manifested_at else ""
        return messages.CANCEL_TOO_LATE.format(
            ref=r, when=when, carrier=_carrier(c), tracking=_tracking(c)
        )
    if c.step in MANIFEST_HOLD:
        return messages.CANCEL_MANIFESTING.format(ref=r)
    if c.step in STILL_QUOTING:
        return messages.CANCEL_STILL_QUOTING.format(ref=r)
    if c.step in BEING_ALLOCATED:
        return messages.CANCEL_ALLOCATING.format(ref=r)
    if c.step not in CANCELLABLE:  # a step added later: wait until it settles
        return messages.CANCEL_BUSY.format(ref=r, state=render.step_label(c))
    return None


def _job_cancel(bot: Shipbot, payload: CancelJob) -> None:
    started = time.monotonic()
    asker = asker_of(payload)
    user = asker.user
    cid = payload.cid
    with bot.locked(cid):
        c = bot.store.get(cid)
        why = messages.UNKNOWN_CONSIGNMENT if c is None else refusal(c)
        if c is None or why:
            if c is not None:
                bot.store.audit(user, "cancel", "refused", consignment_id=c.id)
            bot.send(asker, render.notice(why or ""))
            log_operation("cancel", c, "refused", started)
            return
        # Hold it first: from CANCELLING no click claims a quote, no manifest takes it.
        if not bot.store.transition(c.id, CANCELLABLE, Step.CANCELLING):
            fresh = bot.store.get(cid)
            text = (fresh and refusal(fresh)) or messages.CANCEL_ALREADY.format(ref=render.ref(c))
            bot.send(asker, render.notice(text))
            log_operation("cancel", c, "moved-on", started)
            return
        show_channel(bot, bot.store.require(c.id))
        via = "no carrier reference"
        if c.carrier_reference:
            try:
                bot.carrier.cancel(c.carrier_reference)
                via = "carrier"
            except CarrierError as exc:
                if not _cancelled_anyway(bot, c, exc, asker):
                    log_operation("cancel", c, f"failed:{type(exc).__name__}", started, exc)
                    return
                via = "lookup"
        bot.store.transition(c.id, {Step.CANCELLING}, Step.CANCELLED)
        outcome = "ok" if via == "carrier" else f"ok ({via})"
        bot.store.audit(user, "cancel", outcome, consignment_id=c.id, detail=c.reference)
        done = bot.store.require(c.id)
        _record_cancel(bot, done, user)
    text = messages.CANCEL_DONE.format(ref=render.ref(c))
    bot.send(asker, with_link(bot, text, done))
    log_operation("cancel", c, outcome, started)


def _cancelled_anyway(bot: Shipbot, c: ConsignmentRecord, exc: CarrierError, asker: Asker) -> bool:
    """The cancel failed or its answer was lost: look before saying anything."""
    assert c.carrier_reference
    try:
        status: ConsignmentStatus | None = bot.carrier.get_consignment(c.carrier_reference)
    except CarrierError:
        status = None
    if status is not None and status.state is ConsignmentState.CANCELLED:
        return True
    r = render.ref(c)
    if status is not None and status.state.manifested_or_later:
        # The carrier manifested it first: the store says so too, and so does the agent.
        bot.store.transition(
            c.id, {Step.CANCELLING}, Step.MANIFESTED, manifested_at=bot.now().isoformat()
        )
        show_channel(bot, bot.store.require(c.id))
        text = messages.CANCEL_LOST_TO_MANIFEST.format(
            ref=r, carrier=_carrier(c), tracking=_tracking(c)
        )
        return _carrier_said_no(bot, c, status, exc, asker, text)
    _undo_hold(bot, c)
    if status is not None and not status.state.cancellable:
        words = render.carrier_state_text(status).split(" ", 1)[-1].lower()
        text = messages.CANCEL_TOO_LATE_AT_CARRIER.format(
            ref=r, state=words, carrier=_carrier(c), tracking=_tracking(c)
        )
        return _carrier_said_no(bot, c, status, exc, asker, text)
    if status is None and isinstance(exc, OutcomeUnknown):
        bot.store.audit(
            asker.user, "cancel", "unclear", consignment_id=c.id, correlation_id=exc.correlation_id
        )
        bot.send(asker, render.notice(messages.CANCEL_UNCLEAR.format(ref=r)))
        return False
    carrier_refused(bot, c, "cancel", "cancel", exc, asker)
    return False


def _carrier_said_no(
    bot: Shipbot,
    c: ConsignmentRecord,
    status: ConsignmentStatus,
    exc: CarrierError,
    asker: Asker,
    text: str,
) -> bool:
    bot.store.audit(
        asker.user,
        "cancel",
        f"refused (carrier says {status.raw_state})",
        consignment_id=c.id,
        correlation_id=exc.correlation_id,
    )
    bot.send(asker, render.notice(text))
    return False


def _undo_hold(bot: Shipbot, c: ConsignmentRecord) -> None:
    """Back to where it was; a hold left by a dead process goes to the nearest rest."""
    if c.step is Step.CANCELLING:
        back = Step.UPLOADED if c.allocation else Step.EXPIRED
    else:
        back = c.step
    problem = c.problem if back is Step.FAILED else None
    bot.store.transition(c.id, {Step.CANCELLING}, back, problem=problem)
    show_channel(bot, bot.store.require(c.id))


def _record_cancel(bot: Shipbot, c: ConsignmentRecord, user: str) -> None:
    """The channel message says ❌ Cancelled; the thread keeps who did it; no live buttons."""
    if c.message_ts is None:
        return
    show_channel(bot, c)
    note = render.cancelled_note(c, user, bot.now())
    try:
        if c.quotes_ts:
            bot.slack.update(c.channel_id, c.quotes_ts, render.cancelled_replacement(c))
        # The outcome: delivered like the edits (after a 429, a 5xx or a restart).
        bot.outbox.post(
            c.channel_id, note, thread_ts=c.thread_ts or c.message_ts, key=f"cancelled:{c.id}"
        )
    except SlackProblem as exc:
        log.warning("could not record the cancel of consignment %s: %s", c.id, exc.error)


def _carrier(c: ConsignmentRecord) -> str:
    return escape(c.allocation.carrier_name) if c.allocation else "the carrier"


def _tracking(c: ConsignmentRecord) -> str:
    numbers = c.allocation.tracking_numbers if c.allocation else ()
    return ", ".join(escape(n) for n in numbers) or "(none given)"


def register(bot: Shipbot) -> None:
    bot.jobs.register(CancelJob, lambda payload: _job_cancel(bot, payload))
