"""`/ship`: the Quotes flow's entry points, called by listeners before they ack.

Submit, choose a quote, try again, get fresh quotes, edit and resubmit a refused form. Each
checks the role of the person acting, touches only the store and the job queue, and raises
`Refused` when nothing may change; `bot/desk/advance.py` does the carrier and Slack work.
"""

from __future__ import annotations

from blocks.customs_form import carry_customs, customs_modal
from blocks.form_fields import Initial, View, with_notice
from blocks.payloads import FormMetadata
from blocks.return_form import return_customs_modal, return_modal
from blocks.ship_form import shipment_modal
from bot.carrier.errors import QuoteExpired
from bot.core import Asker, Refused, Shipbot
from bot.desk import messages
from bot.desk.access import clicked_consignment, new_shipper_reference
from bot.desk.advance import advance_later
from bot.desk.approval import ask_later
from bot.desk.show import show_later
from bot.intake.forms import SHIPPER_REFERENCE
from bot.models import (
    BEING_ALLOCATED,
    CANCELLED,
    FRESH_QUOTES_FROM,
    RESHIP_CLICKS,
    STILL_QUOTING,
    TAKES_CLICKS,
    ConsignmentRecord,
    Direction,
    ExportReason,
    Quote,
    ShipmentRequest,
    Step,
)
from bot.permissions import Action
from bot.store.writes import ReferenceTaken


def new_form(
    bot: Shipbot, user: str, metadata: FormMetadata, initial: Initial | None = None
) -> View:
    """The `/ship` form, for someone allowed to ship; `initial` fills single fields
    (`/ship SW1A 2AA`). The parcel presets, if any, are its first select."""
    bot.permit(Action.SHIP, user)
    return shipment_modal(
        metadata.encode(),
        shipper_reference=new_shipper_reference(bot),
        initial=initial,
        presets=bot.settings.shipbot_parcel_presets,
    )


def customs_page(
    bot: Shipbot,
    request: ShipmentRequest,
    metadata: FormMetadata,
    view_id: str | None,
    *,
    user: str,
) -> View:
    """Page 2 for a parcel abroad; page 1's answers wait in the store, keyed by the view.

    A "Ship again" form starts page 2 from the repeated consignment's customs. A shipper
    reference already in use is refused here, on page 1, where its field is.
    """
    if metadata.consignment is None:
        holder = bot.store.holder_of_reference(request.shipper_reference)
        if holder is not None:
            raise _reference_taken(bot, holder, metadata, user=user)
    if view_id:
        bot.store.save_draft(view_id, request)
    shown = request
    if metadata.repeats is not None and (previous := bot.store.get(metadata.repeats)):
        shown = carry_customs(request, previous.request.customs)
    if metadata.returns is not None:
        # A return from abroad: the items as they were declared going out, as returned goods.
        original = bot.store.get(metadata.returns)
        declared = original.request.customs if original else None
        if declared is not None:
            declared = declared.model_copy(update={"reason": ExportReason.RETURN})
        return return_customs_modal(metadata.encode(), shipment=carry_customs(request, declared))
    return customs_modal(metadata.encode(), shipment=shown)


def page_one(bot: Shipbot, view_id: str | None) -> ShipmentRequest | None:
    return bot.store.draft(view_id) if view_id else None


def submit(
    bot: Shipbot,
    request: ShipmentRequest,
    *,
    metadata: FormMetadata,
    user: str,
    view_id: str | None,
) -> int:
    """Store the form and start the flow (or, for a corrected form, carry on in its thread)."""
    bot.permit(Action.SHIP, user, metadata.consignment)
    if metadata.consignment is not None:
        resubmit(bot, metadata.consignment, request, user)
        return metadata.consignment
    if (metadata.returns is not None) != (request.direction is Direction.INBOUND):
        raise Refused(
            "This form lost which consignment it returns. Close it and press Return label "
            "in the consignment's thread again.",
            "return form mismatch",
        )
    if request.is_return and request.customs and request.customs.reason is not ExportReason.RETURN:
        raise Refused("A return is declared as returned goods: choose Return.", "return customs")
    try:
        cid, created = bot.store.add_consignment(
            request,
            channel_id=metadata.channel,
            created_by=user,
            response_url=metadata.response_url,
            view_id=view_id,
            repeats=metadata.repeats,
            returns=metadata.returns,
        )
    except ReferenceTaken as taken:
        bot.store.audit(
            user, "submit", "refused (shipper reference in use)", consignment_id=taken.holder
        )
        raise _reference_taken(bot, taken.holder, metadata, user=user) from taken
    if created:
        bot.store.audit(user, "submit", "ok", consignment_id=cid, detail=request.shipper_reference)
        if metadata.returns is not None:
            bot.store.audit(
                user,
                "return",
                "submitted",
                consignment_id=metadata.returns,
                detail=request.shipper_reference,
            )
        advance_later(bot, cid)
    else:
        bot.store.audit(user, "submit", "replay ignored (same form)", consignment_id=cid)
    if view_id:
        bot.store.drop_draft(view_id)
    return cid


def _reference_taken(bot: Shipbot, holder: int, metadata: FormMetadata, *, user: str) -> Refused:
    """The field error naming the consignment that has the reference, where the agent may
    see it (its channel, or their own); otherwise only that it is taken."""
    c = bot.store.get(holder)
    if c is None or not bot.permissions.may_see(user, metadata.channel, c):
        return Refused(
            messages.REFERENCE_TAKEN, "shipper reference in use", field=SHIPPER_REFERENCE
        )
    name = bot.slack.channel_name(c.channel_id)
    where = f"#{name}" if name else "another channel"
    text = messages.REFERENCE_USED_BY.format(ref=c.reference, where=where)
    return Refused(text, "shipper reference in use", field=SHIPPER_REFERENCE)


def choose(bot: Shipbot, cid: int, quote_reference: str, asker: Asker) -> None:
    """A click on a quote: the first click wins the claim; the rest are told who has it.

    Like every button, only from the consignment's own channel (or by whoever worked on
    it): a copied message elsewhere buys nothing."""
    user = asker.user
    bot.permit(Action.SHIP, user, cid)
    record = clicked_consignment(bot, cid, asker)
    quote = next((q for q in record.quotes if q.reference == quote_reference), None)
    if record.step in RESHIP_CLICKS:
        _choose_another_service(bot, record, quote, user)
        return
    if record.step in TAKES_CLICKS and quote is not None and quote.expires_at <= bot.now():
        # Refused by us before any call: the carrier would refuse it anyway.
        if bot.store.transition(cid, TAKES_CLICKS, Step.EXPIRED):
            bot.store.audit(
                user, "choose", "quote expired", consignment_id=cid, detail=quote_reference
            )
            show_later(bot, cid)
        return
    limit = bot.settings.shipbot_approval_above
    dear = quote is not None and limit is not None and quote.price.gross > limit
    claim = bot.store.claim_quote(
        cid, quote_reference, user, to=Step.AWAITING_APPROVAL if dear else Step.CLAIMED
    )
    if claim.won and claim.step is Step.AWAITING_APPROVAL:
        bot.store.audit(
            user, "claim", "awaiting approval", consignment_id=cid, detail=quote_reference
        )
        ask_later(bot, cid)
        return
    if claim.won:
        bot.store.audit(user, "claim", "won", consignment_id=cid, detail=quote_reference)
        advance_later(bot, cid)
        return
    bot.store.audit(
        user,
        "claim",
        f"refused ({claim.step.value})",
        consignment_id=cid,
        detail=quote_reference,
    )
    raise Refused(_why_not_claimed(claim.step, claim.holder), "claim lost")


def _choose_another_service(
    bot: Shipbot, record: ConsignmentRecord, quote: Quote | None, user: str
) -> None:
    """A click on "Ship with another service"'s list: the first click releases the booking
    (RELEASING, recorded before any call) and books the chosen quote; the rest are told.
    An expired quote changes nothing: fresh quotes are fetched instead."""
    cid = record.id
    if quote is not None and quote.expires_at <= bot.now():
        if bot.store.transition(cid, {Step.REQUOTED}, Step.REQUOTING):
            bot.store.audit(user, "choose", "quote expired: requoting", consignment_id=cid)
            advance_later(bot, cid)
        raise Refused(messages.RESHIP_QUOTES_GONE.format(ref=record.reference), "quotes expired")
    claim = bot.store.claim_quote(
        cid, quote.reference if quote else "", user, to=Step.RELEASING, leaving={Step.REQUOTED}
    )
    if claim.won:
        bot.store.audit(
            user,
            "claim",
            "won (ship with another service)",
            consignment_id=cid,
            detail=claim.quote.reference if claim.quote else None,
        )
        show_later(bot, cid)
        advance_later(bot, cid)
        return
    bot.store.audit(user, "claim", f"refused ({claim.step.value})", consignment_id=cid)
    if claim.holder and claim.step is not Step.REQUOTED:
        raise Refused(messages.ALREADY_CLAIMED.format(user=claim.holder), "claim lost")
    raise Refused(messages.QUOTE_GONE, "claim lost")


def retry_quote(bot: Shipbot, cid: int, user: str) -> None:
    """After a released booking's new allocate failed: the same quote once more (the claim
    is still recorded; allocate records ALLOCATING before its one call)."""
    bot.permit(Action.SHIP, user, cid)
    record = bot.store.get(cid)
    if record is None or record.step is not Step.FAILED or not record.released_service:
        return
    if bot.store.transition(cid, {Step.FAILED}, Step.CLAIMED):
        bot.store.audit(user, "try again", "same quote", consignment_id=cid)
        advance_later(bot, cid)


def _why_not_claimed(step: Step, holder: str | None) -> str:
    if step in STILL_QUOTING:
        return messages.STILL_QUOTING
    if step is Step.QUOTED:
        return messages.QUOTE_GONE
    if step in CANCELLED:
        return messages.CANCELLED_ALREADY
    if step is Step.AWAITING_APPROVAL and holder:
        return messages.AWAITING_APPROVAL.format(user=holder)
    if step in BEING_ALLOCATED and holder:
        return messages.ALREADY_CLAIMED.format(user=holder)
    if step is Step.EXPIRED:
        return messages.carrier_problem("allocate", QuoteExpired("expired"))
    if holder:
        return messages.ALREADY_CLAIMED.format(user=holder)
    return messages.ALREADY_DONE


def try_again(bot: Shipbot, cid: int, asker: Asker) -> None:
    """Resume from the failed step; someone else pressing it first is not an error."""
    user = asker.user
    bot.permit(Action.SHIP, user, cid)
    record = clicked_consignment(bot, cid, asker)
    if record.step is not Step.FAILED or record.problem is None:
        return  # someone else pressed it first, or it already moved on
    if not bot.store.transition(cid, {Step.FAILED}, record.problem.step):
        return
    bot.store.audit(user, "try again", f"resume at {record.problem.step.value}", consignment_id=cid)
    advance_later(bot, cid)


def requote(bot: Shipbot, cid: int, asker: Asker) -> None:
    user = asker.user
    bot.permit(Action.SHIP, user, cid)
    record = clicked_consignment(bot, cid, asker)
    # A released booking's failure offers Get fresh quotes too: it is Unallocated now.
    leaving = FRESH_QUOTES_FROM if record.released_service else {Step.EXPIRED}
    if bot.store.transition(cid, leaving, Step.CREATED):
        bot.store.audit(user, "requote", "ok", consignment_id=cid)
        advance_later(bot, cid)


def edit_form(bot: Shipbot, cid: int, user: str) -> View:
    """The refused form, filled in, with the carrier's reason on top."""
    bot.permit(Action.SHIP, user, cid)
    record = bot.store.get(cid)
    if (
        record is None
        or record.step is not Step.FAILED
        or not record.problem
        or record.problem.step is not Step.CREATING
        or record.carrier_reference
    ):
        raise Refused(messages.FORM_ALREADY_SENT, "form not editable")
    metadata = FormMetadata(
        channel=record.channel_id,
        response_url=record.response_url,
        consignment=record.id,
        returns=record.returns,
    )
    bot.store.audit(user, "edit form", "opened", consignment_id=cid)
    if record.returns is not None:  # the return form again: Inbound, with its reason
        return return_modal(
            metadata.encode(),
            request=record.request,
            original_reference=record.returns_reference or "",
            presets=bot.settings.shipbot_parcel_presets,
            refused=record.problem.message,
        )
    view = shipment_modal(
        metadata.encode(),
        shipper_reference=record.request.shipper_reference,
        draft=record.request,
        presets=bot.settings.shipbot_parcel_presets,
    )
    return with_notice(view, record.problem.message)


def resubmit(bot: Shipbot, cid: int, request: ShipmentRequest, user: str) -> None:
    """The corrected form replaces the refused one; the same thread carries on. A return
    stays a return: only the return form (Inbound) may correct it."""
    record = bot.store.get(cid)
    if record is not None and record.is_return != request.is_return:
        raise Refused(messages.FORM_ALREADY_SENT_OR_MOVED, "resubmit of another kind")
    if not bot.store.replace_request(cid, request):
        raise Refused(messages.FORM_ALREADY_SENT_OR_MOVED, "resubmit refused")
    bot.store.audit(user, "edit form", "resubmitted", consignment_id=cid)
    advance_later(bot, cid)
