"""Button clicks: ack at once, then claim / resume / re-quote / manifest through the services."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks.form import shipment_modal, with_notice
from blocks.ids import (
    APPROVE,
    CHOOSE_QUOTE,
    DECLINE,
    EDIT_FORM,
    MANIFEST,
    MANIFEST_TRY_AGAIN,
    REQUOTE,
    TRY_AGAIN,
)
from blocks.thread_buttons import OP_CANCEL, OP_LIST_PAGE, OP_REPRINT, OP_STATUS
from bot.operations import Operations
from bot.permissions import Action
from bot.services import Services

log = logging.getLogger("shipbot.actions")


def register(app: App) -> None:
    app.action(CHOOSE_QUOTE)(choose_quote)
    app.action(TRY_AGAIN)(try_again)
    app.action(REQUOTE)(requote)
    app.action(MANIFEST)(manifest)
    app.action(MANIFEST_TRY_AGAIN)(manifest)
    app.action(EDIT_FORM)(edit_form)
    app.action(APPROVE)(approve)
    app.action(DECLINE)(decline)
    app.action(OP_STATUS)(operation_clicked)
    app.action(OP_REPRINT)(operation_clicked)
    app.action(OP_CANCEL)(operation_clicked)
    app.action(OP_LIST_PAGE)(list_page)


def _who(body: dict[str, Any]) -> tuple[str, str, str | None]:
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id", ""
    )
    return user, channel, body.get("response_url")


def _consignment_id(value: str) -> int | None:
    head = value.split(":", 1)[0]
    return int(head) if head.isdigit() and len(head) < 12 else None


def choose_quote(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    ack()
    services: Services = context["services"]
    value = str(action.get("value") or "")
    cid = _consignment_id(value)
    quote_ref = value.partition(":")[2]
    user, channel, response_url = _who(body)
    if cid is None or not quote_ref:
        log.warning("choose_quote with an unreadable value was ignored")
        return
    outcome = services.choose(cid, quote_ref, user)
    if outcome.notice:
        services.tell(channel, user, outcome.notice, response_url)


def try_again(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    cid = _consignment_id(str(action.get("value") or ""))
    user, channel, response_url = _who(body)
    if cid is None:
        return
    notice = services.try_again(cid, user)
    if notice:
        services.tell(channel, user, notice, response_url)


def requote(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    cid = _consignment_id(str(action.get("value") or ""))
    if cid is not None:
        services.requote(cid, body["user"]["id"])


def manifest(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    user, channel, response_url = _who(body)
    refusal = services.permit(Action.MANIFEST, user)
    if refusal:
        services.tell(channel, user, refusal, response_url)
        return
    services.request_manifest(user, channel, response_url)
    services.tell(channel, user, "⏳ Manifesting the allocated consignments…", response_url)


def edit_form(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Reopen the refused form, filled in, on the click's trigger (it lasts 3 s)."""
    ack()
    services: Services = context["services"]
    cid = _consignment_id(str(action.get("value") or ""))
    user, channel, response_url = _who(body)
    found = services.edit_form(cid) if cid is not None else None
    if found is None:
        services.tell(channel, user, "That form was already sent again.", response_url)
        return
    record, note = found
    metadata = json.dumps(
        {
            "channel": record.channel_id,
            "response_url": record.response_url,
            "consignment": record.id,
        },
        separators=(",", ":"),
    )
    view = shipment_modal(
        metadata, shipper_reference=record.request.shipper_reference, draft=record.request
    )
    try:
        client.views_open(trigger_id=body["trigger_id"], view=with_notice(view, note))
    except SlackApiError as exc:
        log.warning("views.open for edit failed: %s", exc.response.get("error"))
        services.tell(
            channel, user, "⚠️ Slack didn't open the form. Press the button again.", response_url
        )


def operation_clicked(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    """Status / Reprint label / Cancel, from a thread or an ephemeral answer."""
    ack()
    operations: Operations = context["operations"]
    cid = _consignment_id(str(action.get("value") or ""))
    user, channel, response_url = _who(body)
    if cid is None:
        log.warning("%s with an unreadable value was ignored", action.get("action_id"))
        return
    clicked = {
        OP_STATUS: operations.status_clicked,
        OP_REPRINT: operations.reprint_clicked,
        OP_CANCEL: operations.cancel_clicked,
    }[str(action.get("action_id"))]
    clicked(cid, user=user, channel=channel, response_url=response_url)


def list_page(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    operations: Operations = context["operations"]
    user, channel, response_url = _who(body)
    operations.list_clicked(
        str(action.get("value") or ""), user=user, channel=channel, response_url=response_url
    )


def approve(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    _decide(ack, body, action, context, approve=True)


def decline(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    _decide(ack, body, action, context, approve=False)


def _decide(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, *, approve: bool
) -> None:
    ack()
    services: Services = context["services"]
    cid = _consignment_id(str(action.get("value") or ""))
    user, channel, response_url = _who(body)
    if cid is None:
        return
    notice = services.decide(cid, user, approve=approve)
    if notice:
        services.tell(channel, user, notice, response_url)
