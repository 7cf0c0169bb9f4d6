"""The return form: the `/ship` form filled in from the consignment the customer received,
with the customer as the sender and a reason; abroad, the customs page declares it as
returned goods.

Pure functions over `blocks.form`'s views, so a return is validated by the same parser as a
typed form (`bot.intake.forms`), plus the reason.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from blocks.form import (
    ACTION,
    SHIP_CUSTOMS,
    View,
    customs_modal,
    shipment_modal,
    with_notice,
)
from blocks.ids import CallbackId
from bot.intake.forms import (
    CUSTOMS_REASON,
    MAX_RETURN_NOTE,
    RECIPIENT_NAME,
    RETURN_NOTE,
    RETURN_REASON,
    SHIPPER_REFERENCE,
    format_money,
)
from bot.intake.presets import ParcelPreset
from bot.models import ExportReason, ReturnReason, ShipmentRequest

SHIP_RETURN = CallbackId.SHIP_RETURN

_TITLE = "Return label"
_SUBMIT = "Get return quotes"
_CUSTOMER_HEADER = "Customer (sends it back)"


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def reason_blocks() -> list[dict[str, object]]:
    """Why it comes back: a choice, and words (needed for Other)."""
    options = [{"text": _plain(reason.value), "value": reason.value} for reason in ReturnReason]
    return [
        {"type": "header", "text": _plain("Why it comes back")},
        {
            "type": "input",
            "block_id": RETURN_REASON,
            "label": _plain("Reason"),
            "element": {
                "type": "static_select",
                "placeholder": _plain("Choose…"),
                "options": options,
                "action_id": ACTION,
            },
            "optional": False,
        },
        {
            "type": "input",
            "block_id": RETURN_NOTE,
            "label": _plain("In a few words"),
            "element": {
                "type": "plain_text_input",
                "max_length": MAX_RETURN_NOTE,
                "placeholder": _plain("Box crushed, left shoe torn"),
                "action_id": ACTION,
            },
            "optional": True,
            "hint": _plain("Needed when the reason is Other."),
        },
    ]


def return_modal(
    private_metadata: str,
    *,
    request: ShipmentRequest,
    original_reference: str,
    earlier_returns: Sequence[str] = (),
    presets: Sequence[ParcelPreset] = (),
) -> View:
    """The return of `original_reference`, filled in from `request` (the return draft: the
    customer, the parcels as they went out, the RET- reference). Everything stays editable:
    a return is often one parcel of several."""
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
            blocks += reason_blocks()
            block["text"] = _plain(_CUSTOMER_HEADER)
        if block.get("block_id") == RECIPIENT_NAME:
            block["element"].pop("focus_on_load", None)
        if block.get("block_id") == SHIPPER_REFERENCE:
            block["hint"] = _plain("Ties the return to the order. Must be unique.")
        blocks.append(block)
    view = {
        **view,
        "callback_id": SHIP_RETURN,
        "title": _plain(_TITLE),
        "submit": _plain(_SUBMIT),
        "blocks": blocks,
    }
    notice = (
        f"Return of {original_reference}, filled in from it: the customer sends it back to "
        "us. Check the parcels: a return is often one of several."
    )
    if earlier_returns:
        notice += f" Already made for it: {', '.join(earlier_returns)}."
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
                f"*{_escape(shipment.recipient.country)}*, declared value "
                f"{format_money(declared.amount, declared.currency)}: returned goods, "
                "the items as they were declared when they went out."
            ),
        },
    }
    returned = {"text": _plain(ExportReason.RETURN.value), "value": ExportReason.RETURN.value}
    blocks = [intro]
    for block in view["blocks"][1:]:
        block = copy.deepcopy(block)
        if block.get("block_id") == CUSTOMS_REASON:
            block["label"] = _plain("Reason")
            block["element"]["options"] = [returned]
            block["element"]["initial_option"] = returned
            block["hint"] = _plain("A return is declared as returned goods.")
        blocks.append(block)
    assert view["callback_id"] == SHIP_CUSTOMS
    return {**view, "blocks": blocks}
