"""The desk's side of delivery exceptions: Handled, Take over, and App Home's list.

The watcher (bot/desk/watch.py) brings them; these are what agents do about them.
"""

from __future__ import annotations

import logging
from typing import Any

from blocks import Message, context, section
from blocks import delivery as render
from blocks.consignment import headline
from blocks.operations import when
from blocks.states import state_words
from bot.carrier.errors import CarrierError
from bot.core import Asker, Shipbot
from bot.desk import lookup
from bot.desk.show import show_later
from bot.models import ConsignmentRecord, TrackingEvent
from bot.permissions import Action

log = logging.getLogger("shipbot.exceptions")

HANDLED_JOB = "delivery_handled"
TAKE_OVER_JOB = "take_over"
ATTENTION_SHOWN = 10


def handled_clicked(bot: Shipbot, cid: int, asker: Asker) -> None:
    """Someone dealt with the exception: who, audited; its buttons become the record."""
    bot.permit(Action.SHIP, asker.user, cid)
    c = lookup.clicked_consignment(bot, cid, asker)
    bot.jobs.submit(
        HANDLED_JOB,
        {
            "cid": c.id,
            "user": asker.user,
            "channel": asker.channel,
            "response_url": asker.response_url,
        },
    )


def _job_handled(bot: Shipbot, payload: dict[str, Any]) -> None:
    cid = int(payload["cid"])
    asker = lookup.asker_of(payload)
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
    """The exceptions channel's and the late list's button.

    Partial (docs/watcher.md): taking a consignment shipbot did not make into a store row and
    a thread is the delivery desk's; until it is here, the button shows what Sorted PRO says
    about it now, privately, and for one of ours points to its thread.
    """
    bot.permit(Action.SHIP, asker.user)
    cid = bot.store.id_of_carrier_reference(reference)
    if cid is not None:
        c = bot.store.require(cid)
        if bot.permissions.may_see(asker.user, asker.channel, c):
            lookup.status_clicked(bot, cid, asker)
            return
    bot.jobs.submit(
        TAKE_OVER_JOB,
        {
            "reference": reference,
            "user": asker.user,
            "channel": asker.channel,
            "response_url": asker.response_url,
        },
    )


def _job_take_over(bot: Shipbot, payload: dict[str, Any]) -> None:
    reference = str(payload["reference"])
    asker = lookup.asker_of(payload)
    cid = bot.store.id_of_carrier_reference(reference)
    if cid is not None:
        c = bot.store.require(cid)
        link = lookup.permalink(bot, c)
        where = f"<{link}|its thread>" if link else f"its thread in <#{c.channel_id}>"
        bot.send(
            asker, f"*{reference}* was shipped by <@{c.created_by}>: the next steps are in {where}."
        )
        return
    try:
        status = bot.carrier.get_consignment(reference)
    except CarrierError as exc:
        bot.send(
            asker,
            f"⚠️ Sorted PRO did not answer about *{reference}* ({type(exc).__name__}). "
            "Try again in a minute.",
        )
        return
    scans: tuple[TrackingEvent, ...] = ()
    if status.tracking_numbers:
        try:
            scans = bot.carrier.get_tracking(reference)
        except CarrierError as exc:
            log.info("no scans for %s: %s", reference, type(exc).__name__)
    bits = [f"*{reference}*"]
    if status.shipper_reference:
        bits.append(f"order {status.shipper_reference}")
    if status.destination:
        bits.append(f"to {status.destination}")
    lines = [
        " · ".join(bits),
        f"*{state_words(status.state, status.raw_state)}* · Sorted PRO, {when(bot.now())}",
    ]
    if status.tracking_numbers:
        lines.append("*Tracking:* " + ", ".join(status.tracking_numbers[:5]))
    for e in reversed(scans[-3:]):
        lines.append(
            f"• {when(e.at)} · {e.description}" + (f" · {e.location}" if e.location else "")
        )
    blocks = [
        section("\n".join(lines)[:2900]),
        context(
            "shipbot did not make this consignment, so it has no thread here yet: "
            "deal with it in Sorted PRO, or ship a replacement with `/ship`."
        ),
    ]
    bot.send(asker, Message(text=f"{reference}: {status.raw_state}", blocks=blocks))


def attention(bot: Shipbot, involving: str | None) -> tuple[list[str], int]:
    """App Home's "Needs attention": open exceptions and late consignments, newest first."""
    now = bot.now()
    rows: list[tuple[object, str]] = []
    for cid in bot.store.attention_ids():
        c = bot.store.get(cid)
        if c is None or not _involves(c, involving) or c.delivery is None:
            continue
        d = c.delivery
        rows.append(
            (d.at, f"{state_words(d.state, d.raw_state)} · {headline(c)} · <#{c.channel_id}>")
        )
    listed = {line for _, line in rows}
    for cid in bot.store.on_the_way_ids():
        c = bot.store.get(cid)
        quote = c.chosen_quote if c else None
        due = quote.latest_delivery if quote else None
        if c is None or due is None or not _involves(c, involving):
            continue
        if due.tzinfo is None:
            due = due.replace(tzinfo=now.tzinfo)
        if due < now and not (c.delivery and c.delivery.open_exception):
            line = f"⏰ Late (due {when(due)}) · {headline(c)} · <#{c.channel_id}>"
            if line not in listed:
                rows.append((due, line))
    rows.sort(key=lambda item: item[0], reverse=True)  # type: ignore[arg-type,return-value]
    return [line for _, line in rows[:ATTENTION_SHOWN]], len(rows)


def _involves(c: ConsignmentRecord, user: str | None) -> bool:
    return user is None or user in (c.created_by, c.claimed_by)


def register(bot: Shipbot) -> None:
    bot.jobs.register(HANDLED_JOB, lambda payload: _job_handled(bot, payload))
    bot.jobs.register(TAKE_OVER_JOB, lambda payload: _job_take_over(bot, payload))
