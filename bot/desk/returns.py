"""Return labels: an inbound consignment made from the one the customer received.

The thread's Return label button and `/ship return REF` open the return form, filled in
from that consignment (the customer as the sender, the parcels as they went out). Its
submission goes through `flow.submit` like any form; from there a return is a consignment
like any other (create, quotes, one allocate per claim, label), except that it lives in its
original's thread, is created Inbound, offers only return services and is not manifested.
"""

from __future__ import annotations

from blocks import Message
from blocks.form_fields import View
from blocks.payloads import FormMetadata
from blocks.return_form import return_modal
from bot.core import Asker, Refused, Shipbot
from bot.desk import access, messages, rescue
from bot.intake.forms import MAX_SHIPPER_REFERENCE
from bot.models import CANCELLED, ConsignmentRecord, Direction, ShipmentRequest, Step
from bot.permissions import Action

RETURN_OF_RETURN = (
    "{ref} is itself a return. Make the return from the consignment the customer received."
)
RETURN_NOT_YET = (
    "{ref} has no label yet: a return label can be made once it is allocated. "
    "Try again when its label is in the thread."
)
RETURN_CANCELLED = "{ref} was cancelled, so nothing went to the customer to send back."
MAX_TRIES = 50


def return_command(bot: Shipbot, reference: str, asker: Asker) -> View | Message:
    """`/ship return REF`: by carrier reference, shipper reference or order number.

    An order number also names its returns (they keep it); the newest match may be a
    return, and then the form is for the consignment that one returned. One the store has
    never heard of (the webshop made it) is looked up at Sorted PRO: its card comes back
    with Return label, which takes it over and opens the form.
    """
    bot.permit(Action.SHIP, asker.user)
    if bot.store.find_by_reference(reference) is None:
        return rescue.look_up_later(bot, reference, asker)
    c = access.consignment_for(bot, reference, asker)
    typed_its_own = reference.strip().lower() == (c.carrier_reference or "").lower()
    if c.returns is not None and not typed_its_own and (original := bot.store.get(c.returns)):
        c = original
    return _return_form(bot, c, asker)


def return_clicked(bot: Shipbot, cid: int, asker: Asker) -> View:
    """The thread's Return label button."""
    bot.permit(Action.SHIP, asker.user, cid)
    return _return_form(bot, access.clicked_consignment(bot, cid, asker), asker)


def return_found(bot: Shipbot, reference: str, asker: Asker) -> View:
    """The found card's Return label: a consignment made elsewhere (the webshop) is taken
    over into a thread first, where its return then lives like the return of one of ours."""
    bot.permit(Action.SHIP, asker.user)
    c = rescue.ours_or_taken_over(bot, reference, asker)
    if not bot.permissions.may_see(asker.user, asker.channel, c):
        where = f"its thread in <#{c.channel_id}>"
        taken = messages.FOUND_TAKEN.format(user=c.created_by, ref=c.reference, where=where)
        raise Refused(taken, "taken over elsewhere")
    return _return_form(bot, c, asker)


def refusal(c: ConsignmentRecord) -> str | None:
    ref = c.reference
    if c.is_return:
        return RETURN_OF_RETURN.format(ref=ref)
    if c.step in CANCELLED:
        return RETURN_CANCELLED.format(ref=ref)
    # One taken over once the carrier had it has no allocation of ours, but it went out.
    if c.allocation is None and c.step is not Step.MANIFESTED:
        return RETURN_NOT_YET.format(ref=ref)
    return None


def _return_form(bot: Shipbot, c: ConsignmentRecord, asker: Asker) -> View:
    why = refusal(c)
    if why:
        bot.store.audit(asker.user, "return", "refused", consignment_id=c.id)
        raise Refused(why, "return refused")
    # The return lives in the original's thread, whichever channel it was asked from.
    metadata = FormMetadata(channel=c.channel_id, response_url=asker.response_url, returns=c.id)
    earlier, _ = bot.store.list_consignments(channel_id=c.channel_id, returns=True, limit=200)
    view = return_modal(
        metadata.encode(),
        request=return_draft(c.request, return_reference(bot, c.request)),
        original_reference=c.reference,
        earlier_returns=[r.reference for r in earlier if r.returns == c.id],
        presets=bot.settings.shipbot_parcel_presets,
    )
    bot.store.audit(asker.user, "return", "form opened", consignment_id=c.id)
    return view


def return_draft(original: ShipmentRequest, reference: str) -> ShipmentRequest:
    """The customer who received `original` sends its parcels back: same person, address,
    parcels, contents, value and order number; Inbound, with its own reference. Customs
    are declared again on page 2 (as returned goods) when the customer is abroad."""
    return original.model_copy(
        update={
            "shipper_reference": reference,
            "direction": Direction.INBOUND,
            "customs": None,
            "return_reason": None,
            "return_note": None,
        }
    )


def return_reference(bot: Shipbot, original: ShipmentRequest) -> str:
    """RET-<order number> (else RET-<its shipper reference>), -2, -3 … when taken."""
    base = f"RET-{original.order_number or original.shipper_reference}"[:MAX_SHIPPER_REFERENCE]
    if not bot.store.shipper_reference_taken(base):
        return base
    for n in range(2, MAX_TRIES):
        suffix = f"-{n}"
        candidate = base[: MAX_SHIPPER_REFERENCE - len(suffix)] + suffix
        if not bot.store.shipper_reference_taken(candidate):
            return candidate
    return ""  # the agent types one; the form says it is needed
