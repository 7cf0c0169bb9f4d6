"""Button clicks: ack at once, decode the typed value, call one feature function.

Refusals raised by the features are answered privately by the app's error handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

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
V = TypeVar("V")


def register(app: App) -> None:
    app.middleware(offer_response_url)
    app.action(ActionId.CHOOSE_QUOTE)(clicked(_quote, choose_quote))
    app.action(ActionId.TRY_AGAIN)(clicked(_consignment, flow.try_again))
    app.action(ActionId.REQUOTE)(clicked(_consignment, flow.requote))
    app.action(ActionId.MANIFEST)(manifest_clicked)
    app.action(ActionId.MANIFEST_TRY_AGAIN)(manifest_clicked)
    app.action(ActionId.EDIT_FORM)(opens(_consignment, edit_form))
    app.action(ActionId.APPROVE)(clicked(_consignment, partial(approval.decide, approve=True)))
    app.action(ActionId.DECLINE)(clicked(_consignment, partial(approval.decide, approve=False)))
    app.action(ActionId.STATUS)(clicked(_consignment, lookup.status_clicked))
    app.action(ActionId.REPRINT)(clicked(_consignment, label.reprint_clicked))
    app.action(ActionId.CANCEL)(clicked(_consignment, cancel.cancel_clicked))
    app.action(ActionId.LIST_PAGE)(clicked(_list_page, lookup.list_clicked))
    app.action(ActionId.SHIP_AGAIN)(opens(_consignment, prefill.ship_again_clicked))
    app.action(ActionId.PARCEL_PRESET)(parcel_preset)
    app.action(ActionId.DELIVERY_HANDLED)(clicked(_consignment, exceptions.handled_clicked))
    app.action(ActionId.TAKE_OVER)(clicked(_carrier_reference, exceptions.take_over_clicked))
    app.action(ActionId.RETURN_LABEL)(opens(_consignment, returns.return_clicked))
    app.action(ActionId.FOUND_QUOTES)(clicked(_carrier_reference, found(rescue.QUOTES)))
    app.action(ActionId.FOUND_RESHIP)(clicked(_carrier_reference, found(rescue.RESHIP)))
    app.action(ActionId.FOUND_REFRESH)(clicked(_carrier_reference, found(rescue.REFRESH)))
    app.action(ActionId.FOUND_REPLACE)(opens(_carrier_reference, rescue.replacement_form))
    app.action(ActionId.FOUND_ADDRESS)(opens(_carrier_reference, rescue.fix_address_form))
    app.action(ActionId.FOUND_RETURN)(opens(_carrier_reference, returns.return_found))
    app.action(ActionId.RESHIP)(clicked(_consignment, rescue.reship_clicked))
    app.action(ActionId.RETRY_QUOTE)(clicked(_consignment, retry_quote))


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


def clicked(
    read: Callable[[dict[str, Any]], V | None], feature: Callable[[Shipbot, V, Asker], None]
) -> Callable[..., None]:
    """A button about one thing (ours by id, Sorted PRO's by reference, a quote, a page):
    ack at once, read its value, call the feature."""

    def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
        ack()
        if (value := read(action)) is not None:
            feature(shipbot, value, asker(body))

    return listener


def opens(
    read: Callable[[dict[str, Any]], V | None], make: Callable[[Shipbot, V, Asker], View]
) -> Callable[..., None]:
    """A button whose form the feature fills in (Edit, Ship again, Return label, and on a
    card found at Sorted PRO Ship a replacement, Fix the address), opened on the click's
    trigger (it lasts 3 s)."""

    def listener(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
        ack()
        if (value := read(action)) is not None:
            view = make(shipbot, value, asker(body))
            modal.open_soon(shipbot, body["trigger_id"], view, asker(body))

    return listener


def _reads(decode: Callable[[object], V | None]) -> Callable[[dict[str, Any]], V | None]:
    """A button's typed value; one we did not write is logged and the click ignored."""

    def read(action: dict[str, Any]) -> V | None:
        value = decode(action.get("value"))
        if value is None:
            log.warning("%s with an unreadable value was ignored", action.get("action_id"))
        return value

    return read


_quote = _reads(QuoteValue.decode)
_list_page = _reads(ListPageValue.decode)


def _consignment(action: dict[str, Any]) -> int | None:
    value = _reads(ConsignmentValue.decode)(action)
    return None if value is None else value.cid


def _carrier_reference(action: dict[str, Any]) -> str | None:
    value = _reads(CarrierReferenceValue.decode)(action)
    return None if value is None else value.reference


def asker(body: dict[str, Any]) -> Asker:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id", ""
    )
    return Asker(body["user"]["id"], channel, body.get("response_url"))


def found(what: str) -> Callable[[Shipbot, str, Asker], None]:
    """A button on a consignment found at Sorted PRO: taken over (and acted on) in a job."""
    return lambda shipbot, reference, who: rescue.act_later(shipbot, reference, what, who)


def choose_quote(shipbot: Shipbot, value: QuoteValue, who: Asker) -> None:
    flow.choose(shipbot, value.cid, value.quote, who)


def retry_quote(shipbot: Shipbot, cid: int, who: Asker) -> None:
    flow.retry_quote(shipbot, cid, who.user)


def edit_form(shipbot: Shipbot, cid: int, who: Asker) -> View:
    """Reopen the refused form, filled in."""
    return flow.edit_form(shipbot, cid, who.user)


def manifest_clicked(ack: Ack, body: dict[str, Any], shipbot: Shipbot) -> None:
    ack()
    who = asker(body)
    manifest.request_manifest(shipbot, who)
    shipbot.answer(who, "⏳ Manifesting the allocated consignments…")


def parcel_preset(ack: Ack, body: dict[str, Any], action: dict[str, Any], shipbot: Shipbot) -> None:
    """The form's preset select: ack, then views.update with the view's hash off the listener."""
    ack()
    option = action.get("selected_option") or {}
    view = body.get("view")
    if isinstance(view, dict) and isinstance(option.get("value"), str):
        prefill.preset_chosen(shipbot, view, option["value"], body["user"]["id"])
