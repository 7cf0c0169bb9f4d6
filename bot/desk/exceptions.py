"""The desk's side of delivery exceptions: Handled and Take over (App Home lists them).

The watcher (bot/desk/watch.py) brings them; these are what agents do about them.
"""

from __future__ import annotations

import logging

from blocks import delivery as render
from blocks import rescue as cards
from blocks.operations import when
from bot.carrier.errors import CarrierError
from bot.core import Asker, Refused, Shipbot
from bot.desk import lookup, messages, rescue
from bot.desk.access import asker_of, clicked_consignment, permalink
from bot.desk.show import show_later
from bot.desk.watch import WATCHED_STATES
from bot.models import ConsignmentRecord, Step
from bot.permissions import Action
from bot.store.job_payloads import HandledJob, TakeOverJob

log = logging.getLogger("shipbot.exceptions")


def handled_clicked(bot: Shipbot, cid: int, asker: Asker) -> None:
    """Someone dealt with the exception: who, audited; its buttons become the record."""
    bot.permit(Action.SHIP, asker.user, cid)
    c = clicked_consignment(bot, cid, asker)
    bot.jobs.submit(
        HandledJob(cid=c.id, **asker.asked()),
    )


def _job_handled(bot: Shipbot, payload: HandledJob) -> None:
    cid = payload.cid
    asker = asker_of(payload)
    now = bot.now()
    with bot.locked(cid):
        if not bot.store.mark_handled(cid, asker.user, now):
            c = bot.store.get(cid)
            d = c.delivery if c else None
            if d is not None and d.handled_by:
                bot.send(
                    asker, f"Already handled by <@{d.handled_by}> {when(d.handled_at or now)}."
                )
            else:
                bot.send(asker, "Nothing to handle: Sorted PRO no longer reports a problem.")
            bot.store.audit(asker.user, "handled", "refused (nothing open)", consignment_id=cid)
            return
        bot.store.audit(asker.user, "handled", "ok", consignment_id=cid)
        c = bot.store.require(cid)
    d = c.delivery
    if d is not None and d.notice_ts:
        bot.slack.update(
            c.channel_id,
            d.notice_ts,
            render.handled_notice(c, d.state, d.raw_state, asker.user, now),
        )
    show_later(bot, cid)


def take_over_clicked(bot: Shipbot, reference: str, asker: Asker) -> None:
    """The exceptions channel's and the late list's button: the delivery desk's take-over.

    One of ours the asker may see: its status card. Otherwise, in a job: a consignment made
    elsewhere is taken over (`rescue.take_over`: a store row, a channel message and thread
    where the button was pressed), its carrier state recorded, and its status card (with
    the actions its state allows) sent to the asker; one of ours in another channel is
    pointed at.
    """
    bot.permit(Action.SHIP, asker.user)
    cid = bot.store.id_of_carrier_reference(reference)
    if cid is not None:
        c = bot.store.require(cid)
        if bot.permissions.may_see(asker.user, asker.channel, c):
            lookup.status_clicked(bot, cid, asker)
            return
    bot.jobs.submit(
        TakeOverJob(reference=reference, **asker.asked()),
        dedupe_key=f"take_over:{reference}:{asker.user}",
    )


def _job_take_over(bot: Shipbot, payload: TakeOverJob) -> None:
    reference = payload.reference
    asker = asker_of(payload)
    cid = bot.store.id_of_carrier_reference(reference)
    if cid is not None:
        _point_at(bot, bot.store.require(cid), asker)
        return
    try:
        detail = bot.carrier.get_consignment_detail(reference)
    except CarrierError as exc:
        bot.store.audit(asker.user, "take over", f"failed: {type(exc).__name__}", detail=reference)
        bot.send(
            asker,
            f"⚠️ Sorted PRO did not answer about *{reference}* ({type(exc).__name__}). "
            "Nothing was taken over: try again in a minute.",
        )
        return
    try:
        taken = rescue.take_over(bot, detail, channel=asker.channel, user=asker.user)
    except Refused as exc:
        bot.send(asker, exc.text)
        bot.send(asker, cards.found_card(detail))
        return
    if not taken.created:
        _point_at(bot, taken.record, asker)
        return
    c = taken.record
    if c.step is Step.MANIFESTED and detail.state.value in WATCHED_STATES:
        # The watcher's state line from the start; its next changes go into this thread.
        bot.store.set_delivery(c.id, detail.state, detail.raw_state, bot.now())
        show_later(bot, c.id)
    lookup.status_later(bot, bot.store.require(c.id), asker)


def _point_at(bot: Shipbot, c: ConsignmentRecord, asker: Asker) -> None:
    link = permalink(bot, c)
    where = f"<{link}|its thread>" if link else f"its thread in <#{c.channel_id}>"
    bot.send(asker, messages.FOUND_TAKEN.format(user=c.created_by, ref=c.reference, where=where))


def register(bot: Shipbot) -> None:
    bot.jobs.register(HandledJob, lambda payload: _job_handled(bot, payload))
    bot.jobs.register(TakeOverJob, lambda payload: _job_take_over(bot, payload))
