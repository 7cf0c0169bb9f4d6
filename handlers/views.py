"""Modal submissions: field errors in the modal, customs page for abroad, then the flow starts."""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext

from blocks.form import SHIP_CUSTOMS, SHIP_FORM, customs_modal
from bot.forms import parse_customs, parse_shipment
from bot.models import ShipmentRequest
from bot.services import Services

log = logging.getLogger("shipbot.views")


def register(app: App) -> None:
    app.view(SHIP_FORM)(submit_shipment)
    app.view(SHIP_CUSTOMS)(submit_customs)


def _metadata(view: dict[str, Any]) -> dict[str, Any] | None:
    try:
        meta = json.loads(view.get("private_metadata") or "")
    except ValueError:
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("channel"), str):
        return None
    return meta


def _lost_form(ack: Ack) -> None:
    ack(response_action="errors", errors={"recipient_name": _LOST})


_LOST = "This form lost its channel. Close it and run /ship again in the channel."


def submit_shipment(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    services: Services = context["services"]
    meta = _metadata(view)
    result = parse_shipment(view.get("state", {}).get("values", {}))
    if isinstance(result, dict):
        ack(response_action="errors", errors=result)
        return
    if meta is None:
        _lost_form(ack)
        return
    if result.is_international:
        page2 = dict(meta, shipment=result.model_dump(mode="json"))
        ack(
            response_action="update",
            view=customs_modal(json.dumps(page2, separators=(",", ":")), shipment=result),
        )
        return
    _start(ack, services, result, meta, body, view)


def _start(
    ack: Ack,
    services: Services,
    request: ShipmentRequest,
    meta: dict[str, Any],
    body: dict[str, Any],
    view: dict[str, Any],
) -> None:
    """A new consignment, or the corrected form of one the carrier refused."""
    user = body["user"]["id"]
    replaces = meta.get("consignment")
    if isinstance(replaces, int):
        problem = services.resubmit(replaces, request, user)
        if problem:
            ack(response_action="errors", errors={"shipper_reference": problem})
            return
        ack()
        return
    ack()
    services.submit(
        request,
        channel_id=meta["channel"],
        user=user,
        response_url=meta.get("response_url"),
        view_id=view.get("id"),
    )


def submit_customs(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    services: Services = context["services"]
    meta = _metadata(view)
    try:
        shipment = ShipmentRequest.model_validate(meta["shipment"]) if meta else None
    except (KeyError, ValidationError):
        shipment = None
    if meta is None or shipment is None:
        ack(response_action="errors", errors={"customs_contents": _LOST})
        return
    customs = parse_customs(view.get("state", {}).get("values", {}), shipment)
    if isinstance(customs, dict):
        ack(response_action="errors", errors=customs)
        return
    _start(ack, services, shipment.model_copy(update={"customs": customs}), meta, body, view)
