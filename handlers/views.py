"""Modal submissions: field errors in the modal, the customs page for abroad, then the flow.

A refusal from the flow (e.g. a corrected form sent twice) is answered by the app's error
handler as an error on a block of the page that was submitted.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from blocks.customs_form import SHIP_CUSTOMS
from blocks.ids import CallbackId
from blocks.payloads import FixAddressMetadata, FormMetadata
from blocks.return_form import SHIP_RETURN
from blocks.ship_form import SHIP_FORM
from bot.core import Shipbot
from bot.desk import flow, rescue
from bot.intake.field_reader import FieldErrors
from bot.intake.forms import parse_customs, parse_destination, parse_return_form, parse_shipment
from bot.models import ShipmentRequest

LOST = "This form lost its channel. Close it and run /ship again in the channel."


def register(app: App) -> None:
    app.view(SHIP_FORM)(submit_shipment)
    app.view(SHIP_CUSTOMS)(submit_customs)
    app.view(SHIP_RETURN)(submit_return)
    app.view(CallbackId.FIX_ADDRESS)(submit_fix_address)


def submit_fix_address(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], shipbot: Shipbot
) -> None:
    """The delivery desk's Fix the address: checked like the /ship form's address."""
    metadata = FixAddressMetadata.decode(view.get("private_metadata"))
    result = parse_destination(_values(view))
    if isinstance(result, dict):
        ack(response_action="errors", errors=result)
        return
    if metadata is None:
        ack(response_action="errors", errors={"recipient_name": LOST})
        return
    rescue.fix_address_submitted(shipbot, metadata, result, body["user"]["id"])
    ack()


def submit_shipment(ack: Ack, body: dict[str, Any], view: dict[str, Any], shipbot: Shipbot) -> None:
    _page_one(ack, body, view, shipbot, parse_shipment(_values(view)), returns=False)


def submit_return(ack: Ack, body: dict[str, Any], view: dict[str, Any], shipbot: Shipbot) -> None:
    """The return form: like page 1, plus the reason; abroad, the customs page follows."""
    _page_one(ack, body, view, shipbot, parse_return_form(_values(view)), returns=True)


def _page_one(
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    shipbot: Shipbot,
    result: ShipmentRequest | FieldErrors,
    *,
    returns: bool,
) -> None:
    """Page 1 of a shipment or a return: its field errors, else customs abroad, else the flow."""
    metadata = FormMetadata.decode(view.get("private_metadata"))
    if isinstance(result, dict):
        ack(response_action="errors", errors=result)
        return
    if metadata is None or (returns and metadata.returns is None):
        ack(response_action="errors", errors={"recipient_name": LOST})
        return
    user = body["user"]["id"]
    if result.is_international:
        page = flow.customs_page(shipbot, result, metadata, view.get("id"), user=user)
        ack(response_action="update", view=page)
        return
    flow.submit(shipbot, result, metadata=metadata, user=user, view_id=view.get("id"))
    ack()


def _values(view: dict[str, Any]) -> Any:
    return view.get("state", {}).get("values", {})


def submit_customs(ack: Ack, body: dict[str, Any], view: dict[str, Any], shipbot: Shipbot) -> None:
    metadata = FormMetadata.decode(view.get("private_metadata"))
    shipment = flow.page_one(shipbot, view.get("id"))
    if metadata is None or shipment is None:
        ack(response_action="errors", errors={"customs_contents": LOST})
        return
    customs = parse_customs(_values(view), shipment)
    if isinstance(customs, dict):
        ack(response_action="errors", errors=customs)
        return
    request = shipment.model_copy(update={"customs": customs})
    flow.submit(
        shipbot, request, metadata=metadata, user=body["user"]["id"], view_id=view.get("id")
    )
    ack()
