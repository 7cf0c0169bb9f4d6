"""`/ship label` and the Reprint label button: the label again, in the consignment's thread.

A PDF comes from the store (no carrier call); a ZPL is fetched once and kept.
"""

from __future__ import annotations

import time

from blocks import escape
from blocks import operations as render
from bot.carrier.client import LabelFormat
from bot.carrier.errors import CarrierError
from bot.core import Asker, Refused, Shipbot
from bot.desk import messages
from bot.desk.access import asker_of, clicked_consignment, consignment_for, visible, with_link
from bot.intake.arguments import log_operation, shown
from bot.models import CANCELLED, LABEL_ON_ITS_WAY, ConsignmentRecord, Document, DocumentKind
from bot.permissions import Action
from bot.slack.slackio import SlackProblem
from bot.store.job_payloads import LabelJob

LABEL_FORMATS: dict[str, LabelFormat] = {"pdf": "PDF", "zpl": "ZPL"}


def label_command(bot: Shipbot, argument: str, asker: Asker) -> str:
    """ "EC-1" or "EC-1 zpl"; a reference with a space in it still works on its own."""
    c, label_format = _arguments(bot, argument, asker)
    _queue(bot, c, label_format, asker)
    return messages.LABEL_QUEUED.format(fmt=label_format, ref=render.ref(c))


def reprint_clicked(bot: Shipbot, cid: int, asker: Asker) -> None:
    _queue(bot, clicked_consignment(bot, cid, asker), "PDF", asker)


def _arguments(bot: Shipbot, argument: str, asker: Asker) -> tuple[ConsignmentRecord, LabelFormat]:
    head, _, tail = argument.rpartition(" ")
    if head:
        c = visible(bot, head, asker)
        if c is not None:
            label_format = LABEL_FORMATS.get(tail.lower())
            if label_format is None:
                example = f"/ship label {c.reference} zpl"
                text = messages.LABEL_FORMAT_UNKNOWN.format(got=shown(tail), example=example)
                raise Refused(text, "unknown format")
            return c, label_format
    return consignment_for(bot, argument, asker), "PDF"


def refusal(c: ConsignmentRecord) -> str | None:
    r = render.ref(c)
    if c.step in CANCELLED:
        return messages.LABEL_VOID.format(ref=r)
    if c.step in LABEL_ON_ITS_WAY:
        return messages.LABEL_ON_ITS_WAY.format(ref=r)
    if c.allocation is None:
        return messages.LABEL_NOT_YET.format(ref=r)
    if not c.message_ts or not c.carrier_reference:
        return messages.LABEL_NO_THREAD.format(ref=r)
    return None


def _queue(bot: Shipbot, c: ConsignmentRecord, label_format: LabelFormat, asker: Asker) -> None:
    bot.permit(Action.SHIP, asker.user, c.id)
    why = refusal(c)
    if why:
        log_operation("label", c, "refused", time.monotonic())
        raise Refused(why, "label refused")
    bot.jobs.submit(
        LabelJob(cid=c.id, format=label_format, **asker.asked()),
        dedupe_key=f"label:{c.id}:{label_format}",
    )


def _job_label(bot: Shipbot, payload: LabelJob) -> None:
    started = time.monotonic()
    asker = asker_of(payload)
    user = asker.user
    cid = payload.cid
    label_format: LabelFormat = "ZPL" if payload.format == "ZPL" else "PDF"
    with bot.locked(cid):
        c = bot.store.get(cid)
        why = messages.UNKNOWN_CONSIGNMENT if c is None else refusal(c)
        if c is None or why:
            bot.send(asker, render.notice(why or ""))
            log_operation("label", c, "refused", started)
            return
        assert c.carrier_reference and c.message_ts
        document = _stored_label(bot, c, label_format)
        source = "store"
        if document is None:
            try:
                document = bot.carrier.get_label(c.carrier_reference, label_format)
            except CarrierError as exc:
                carrier_refused(bot, c, "reprint", "label", exc, asker)
                log_operation("label", c, f"failed:{type(exc).__name__}", started, exc)
                return
            bot.store.save_documents(c.id, [document])
            source = "carrier"
        try:
            bot.slack.upload_one(c.channel_id, c.thread_ts, document)
        except SlackProblem as exc:
            text = (
                exc.message(c.channel_id)
                if exc.membership or exc.fatal
                else messages.LABEL_UPLOAD_FAILED.format(ref=render.ref(c))
            )
            bot.store.audit(user, "reprint", "failed: slack", consignment_id=c.id)
            bot.send(asker, render.notice(f"⚠️ {text}"))
            log_operation("label", c, f"upload-failed:{exc.error}", started)
            return
        bot.store.mark_uploaded(c.id, document.name)
        bot.store.audit(user, "reprint", "ok", consignment_id=c.id, detail=document.name)
    text = f"🧾 {escape(document.name)} is in the thread."
    bot.send(asker, with_link(bot, text, c))
    log_operation("label", c, f"uploaded:{source}", started)


def _stored_label(bot: Shipbot, c: ConsignmentRecord, label_format: LabelFormat) -> Document | None:
    suffix = "." + label_format.lower()
    return next(
        (
            d
            for d in bot.store.documents(c.id)
            if d.kind is DocumentKind.LABEL and d.name.lower().endswith(suffix)
        ),
        None,
    )


def carrier_refused(
    bot: Shipbot, c: ConsignmentRecord, action: str, step: str, exc: CarrierError, asker: Asker
) -> None:
    """A carrier failure told privately, with the correlation id for support."""
    bot.store.audit(
        asker.user,
        action,
        f"failed: {type(exc).__name__}",
        consignment_id=c.id,
        correlation_id=exc.correlation_id,
    )
    bot.send(asker, render.carrier_notice(messages.carrier_problem(step, exc), exc.correlation_id))


def register(bot: Shipbot) -> None:
    bot.jobs.register(LabelJob, lambda payload: _job_label(bot, payload))
