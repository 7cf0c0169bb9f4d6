"""The return form: the `/ship` form filled in from the consignment the customer received,
with the customer as the sender and a reason; abroad, the customs page declares it as
returned goods.

Pure functions over `blocks.ship_form`'s and `blocks.customs_form`'s views, so a return is
validated by the same parser as a typed form (`bot.intake.forms`), plus the reason.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from blocks import escape
from blocks.customs_form import SHIP_CUSTOMS, customs_modal
from blocks.form_fields import (
    Json,
    View,
    field,
    header,
    option,
    plain,
    static_select,
    text_input,
    with_notice,
)
from blocks.ids import CallbackId
from blocks.ship_form import shipment_modal
from bot.intake.forms import (
    CUSTOMS_REASON,
    MAX_RETURN_NOTE,
    RECIPIENT_NAME,
    RETURN_NOTE,
    RETURN_REASON,
    SHIPPER_REFERENCE,
)
from bot.intake.presets import ParcelPreset
from bot.models import ExportReason, ReturnReason, ShipmentRequest
from bot.money import format_money

SHIP_RETURN = CallbackId.SHIP_RETURN

_TITLE = "Return label"
_SUBMIT = "Get return quotes"
_CUSTOMER_HEADER = "Customer (sends it back)"


def reason_blocks(reason: ReturnReason | None = None, note: str | None = None) -> list[Json]:
    """Why it comes back: a choice, and words (needed for Other); a form sent back by the
    carrier shows what was chosen."""
    options = [option(r.value, r.value) for r in ReturnReason]
    chosen = option(reason.value, reason.value) if reason else None
    return [
        header("Why it comes back"),
        field(RETURN_REASON, "Reason", static_select(options, chosen)),
        field(
            RETURN_NOTE,
            "In a few words",
            text_input(note, MAX_RETURN_NOTE, placeholder="Box crushed, left shoe torn"),
            optional=True,
            hint="Needed when the reason is Other.",
        ),
    ]


def return_modal(
    private_metadata: str,
    *,
    request: ShipmentRequest,
    original_reference: str,
    earlier_returns: Sequence[str] = (),
    presets: Sequence[ParcelPreset] = (),
    refused: str | None = None,
) -> View:
    """The return of `original_reference`, filled in from `request` (the return draft: the
    customer, the parcels as they went out, the RET- reference). Everything stays editable:
    a return is often one parcel of several. `refused`: the carrier's reason, when the form
    comes back to be fixed (Edit the form)."""
    view = shipment_modal(
        private_metadata,
        shipper_reference=request.shipper_reference,
        draft=request,
        presets=presets,
    )
    blocks = []
    for block in view["blocks"]:
        block = copy.deepcopy(block)
        if block.get("type") == "header" and block["text"]["text"] == "Recipient":
            blocks += reason_blocks(request.return_reason, request.return_note)
            block["text"] = plain(_CUSTOMER_HEADER)
        if block.get("block_id") == RECIPIENT_NAME:
            block["element"].pop("focus_on_load", None)
        if block.get("block_id") == SHIPPER_REFERENCE:
            block["hint"] = plain("Ties the return to the order. Must be unique.")
        blocks.append(block)
    view = {
        **view,
        "callback_id": SHIP_RETURN,
        "title": plain(_TITLE),
        "submit": plain(_SUBMIT),
        "blocks": blocks,
    }
    notice = (
        f"Return of {original_reference}, filled in from it: the customer sends it back to "
        "us. Check the parcels: a return is often one of several."
    )
    if earlier_returns:
        notice += f" Already made for it: {', '.join(earlier_returns)}."
    if refused:
        return with_notice(view, refused)
    return with_notice(view, notice, emoji="↩️")


def return_customs_modal(private_metadata: str, *, shipment: ShipmentRequest) -> View:
    """Page 2 of a return from abroad: the items as declared, as returned goods.

    The reason offers only Return, which Sorted PRO gets as CategoryType ReturnedGoods.
    """
    view = customs_modal(private_metadata, shipment=shipment)
    declared = shipment.value
    parcels = f"{shipment.parcel_count} parcel{'s' if shipment.parcel_count != 1 else ''}"
    intro = {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": (
                f"🧾 Customs declaration for {parcels} coming back from "
                f"*{escape(shipment.recipient.country)}*, declared value "
                f"{format_money(declared.amount, declared.currency)}: returned goods, "
                "the items as they were declared when they went out."
            ),
        },
    }
    returned = option(ExportReason.RETURN.value, ExportReason.RETURN.value)
    blocks = [intro]
    for block in view["blocks"][1:]:
        block = copy.deepcopy(block)
        if block.get("block_id") == CUSTOMS_REASON:
            block["label"] = plain("Reason")
            block["element"]["options"] = [returned]
            block["element"]["initial_option"] = returned
            block["hint"] = plain("A return is declared as returned goods.")
        blocks.append(block)
    assert view["callback_id"] == SHIP_CUSTOMS
    return {**view, "blocks": blocks}
