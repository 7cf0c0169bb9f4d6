"""Button clicks: ack at once, decode the typed value, call one feature function.

Refusals raised by the features are answered privately by the app's error handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from blocks.form_fields import View
from blocks.ids import ActionId
from blocks.payloads import CarrierReferenceValue, ConsignmentValue, ListPageValue, QuoteValue
from bot.core import Asker, Shipbot
from bot.desk import (
    approval,
    cancel,
    exceptions,
    flow,
    label,
    lookup,
    manifest,
    prefill,
    rescue,
    returns,
)
from bot.slack import modal

log = logging.getLogger("shipbot.actions")


def register(app: App) -> None:
    app.middleware(offer_response_url)
    app.action(ActionId.CHOOSE_QUOTE)(choose_quote)
    app.action(ActionId.TRY_AGAIN)(try_again)
    app.action(ActionId.REQUOTE)(requote)
    app.action(ActionId.MANIFEST)(manifest_clicked)
    app.action(ActionId.MANIFEST_TRY_AGAIN)(manifest_clicked)
    app.action(ActionId.EDIT_FORM)(edit_form)
    app.action(ActionId.APPROVE)(approve)
    app.action(ActionId.DECLINE)(decline)
    app.action(ActionId.STATUS)(status)
    app.action(ActionId.REPRINT)(reprint)
    app.action(ActionId.CANCEL)(cancel_clicked)
    app.action(ActionId.LIST_PAGE)(list_page)
    app.action(ActionId.SHIP_AGAIN)(ship_again)
    app.action(ActionId.PARCEL_PRESET)(parcel_preset)
    app.action(ActionId.DELIVERY_HANDLED)(delivery_handled)
    app.action(ActionId.TAKE_OVER)(take_over)
    app.action(ActionId.RETURN_LABEL)(return_label)
    app.action(ActionId.FOUND_QUOTES)(found_action(rescue.QUOTES))
    app.action(ActionId.FOUND_RESHIP)(found_action(rescue.RESHIP))
    app.action(ActionId.FOUND_REFRESH)(found_action(rescue.REFRESH))
    app.action(ActionId.FOUND_REPLACE)(found_form(rescue.replacement_form))
    app.action(ActionId.FOUND_ADDRESS)(found_form(rescue.fix_address_form))
    app.action(ActionId.FOUND_RETURN)(found_form(returns.return_found))
    app.action(ActionId.RESHIP)(reship)
    app.action(ActionId.RETRY_QUOTE)(retry_quote)


def offer_response_url(
    body: dict[str, Any], context: dict[str, Any], next: Callable[[], None]
) -> None:
    """A click on a (non-ephemeral) message brings a response_url that can replace that
    message outside the Web API's tiers: the message's next edits go through it."""
    container = body.get("container") or {}
    url, ts = body.get("response_url"), container.get("message_ts")
    shipbot = context.get("shipbot")
    if (
        body.get("type") == "block_actions"
        and container.get("type") == "message"
        and not container.get("is_ephemeral")
        and isinstance(url, str)
        and isinstance(ts, str)
        and isinstance(shipbot, Shipbot)
    ):
        shipbot.slack.offer(str(container.get("channel_id") or ""), ts, url)
    next()


def found_action(what: str) -> Callable[..., None]:
    """A button on a consignment found at Sorted PRO: taken over (and acted on) in a job."""

    def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
        ack()
        if (reference := _carrier_reference(action)) is not None:
            rescue.act_later(shipbot, reference, what, asker(body))

    return listener


def found_form(make: Callable[[Shipbot, str, Asker], View]) -> Callable[..., None]:
    """A card button whose form is read from Sorted PRO's record (Ship a replacement, Fix
    the address, Return label), opened on the click's trigger (3 s)."""

    def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
        ack()
        if (reference := _carrier_reference(action)) is not None:
            view = make(shipbot, reference, asker(body))
            modal.open_soon(shipbot, body["trigger_id"], view, asker(body))

    return listener


def _carrier_reference(action: dict[str, Any]) -> str | None:
    value = CarrierReferenceValue.decode(action.get("value"))
    if value is None:
        log.warning("%s with an unreadable value was ignored", action.get("action_id"))
        return None
    return value.reference


def reship(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    if (cid := _consignment(action)) is not None:
        rescue.reship_clicked(shipbot, cid, asker(body))


def retry_quote(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    if (cid := _consignment(action)) is not None:
        flow.retry_quote(shipbot, cid, body["user"]["id"])


def asker(body: dict[str, Any]) -> Asker:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id", ""
    )
    return Asker(body["user"]["id"], channel, body.get("response_url"))


def _consignment(action: dict[str, Any]) -> int | None:
    value = ConsignmentValue.decode(action.get("value"))
    if value is None:
        log.warning("%s with an unreadable value was ignored", action.get("action_id"))
        return None
    return value.cid


def choose_quote(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    value = QuoteValue.decode(action.get("value"))
    if value is None:
        log.warning("choose_quote with an unreadable value was ignored")
        return
    flow.choose(shipbot, value.cid, value.quote, asker(body))


def try_again(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    if (cid := _consignment(action)) is not None:
        flow.try_again(shipbot, cid, asker(body))


def requote(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    if (cid := _consignment(action)) is not None:
        flow.requote(shipbot, cid, asker(body))


def manifest_clicked(ack: Ack, body: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    who = asker(body)
    manifest.request_manifest(shipbot, who)
    shipbot.answer(who, "⏳ Manifesting the allocated consignments…")


def edit_form(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    """Reopen the refused form, filled in, on the click's trigger (it lasts 3 s)."""
    ack()
    if (cid := _consignment(action)) is not None:
        view = flow.edit_form(shipbot, cid, body["user"]["id"])
        modal.open_soon(shipbot, body["trigger_id"], view, asker(body))


def ship_again(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    """The form filled in from this consignment, on the click's trigger (it lasts 3 s)."""
    if (cid := _consignment(action)) is None:
        ack()
        return
    view = prefill.ship_again_clicked(shipbot, cid, asker(body))
    ack()
    modal.open_soon(shipbot, body["trigger_id"], view, asker(body))


def return_label(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    """The return form filled in from this consignment, on the click's trigger (3 s)."""
    if (cid := _consignment(action)) is None:
        ack()
        return
    view = returns.return_clicked(shipbot, cid, asker(body))
    ack()
    modal.open_soon(shipbot, body["trigger_id"], view, asker(body))


def parcel_preset(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    """The form's preset select: ack, then views.update with the view's hash off the listener."""
    ack()
    option = action.get("selected_option") or {}
    view = body.get("view")
    if isinstance(view, dict) and isinstance(option.get("value"), str):
        prefill.preset_chosen(shipbot, view, option["value"], body["user"]["id"])


def status(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    if (cid := _consignment(action)) is not None:
        lookup.status_clicked(shipbot, cid, asker(body))


def reprint(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    if (cid := _consignment(action)) is not None:
        label.reprint_clicked(shipbot, cid, asker(body))


def cancel_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot
) -> None:
    ack()
    if (cid := _consignment(action)) is not None:
        cancel.cancel_clicked(shipbot, cid, asker(body))


def list_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    value = ListPageValue.decode(action.get("value"))
    if value is None:
        log.warning("list page with an unreadable value was ignored")
        return
    lookup.list_clicked(shipbot, value, asker(body))


def approve(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    if (cid := _consignment(action)) is not None:
        approval.decide(shipbot, cid, asker(body), approve=True)


def decline(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    if (cid := _consignment(action)) is not None:
        approval.decide(shipbot, cid, asker(body), approve=False)


def delivery_handled(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot
) -> None:
    ack()
    if (cid := _consignment(action)) is not None:
        exceptions.handled_clicked(shipbot, cid, asker(body))


def take_over(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    value = CarrierReferenceValue.decode(action.get("value"))
    if value is None:
        log.warning("take_over with an unreadable value was ignored")
        return
    exceptions.take_over_clicked(shipbot, value.reference, asker(body))
