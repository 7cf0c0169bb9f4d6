"""`/ship` and its subcommands: parse, call a service, answer (ephemeral unless in a thread)."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks import help as help_blocks
from blocks.form import shipment_modal
from bot.operations import OPERATIONS, Operations
from bot.permissions import Action
from bot.report import PERIODS
from bot.services import Services

log = logging.getLogger("shipbot.commands")

MAX_ARGUMENT = 200


def register(app: App) -> None:
    app.command("/ship")(ship)


def ship(ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    text = (command.get("text") or "").strip()
    sub, _, argument = text.partition(" ")
    sub = sub.lower()
    if sub in ("", "new"):
        refusal = services.permit(Action.SHIP, command["user_id"])
        if refusal:
            ack(text=refusal)
            return
        # Ack first, open the modal right after: the ack never waits on Slack's views.open,
        # and the trigger (3 s) is used within milliseconds.
        ack()
        _MODAL_OPENERS.submit(_open_form_later, services, command, client, time.monotonic())
    elif sub == "report":
        period = argument.strip().lower() or "today"
        if period not in PERIODS:
            ack(text="Try `/ship report today` or `/ship report week`.")
            return
        message = services.report(command["user_id"], period)
        ack(text=message.text, blocks=message.blocks)
    elif sub == "manifest":
        user = command["user_id"]
        refusal = services.permit(Action.MANIFEST, user)
        if refusal:
            ack(text=refusal)
            return
        services.request_manifest(user, command["channel_id"], command.get("response_url"))
        ack(text="⏳ Manifesting the allocated consignments… the channel will say when it's done.")
    elif sub == "help":
        message = help_blocks.help_message()
        ack(text=message.text, blocks=message.blocks)
    elif sub in OPERATIONS:
        operations: Operations = context["operations"]
        message = operations.command(
            sub,
            argument,
            user=command["user_id"],
            channel=command["channel_id"],
            response_url=command.get("response_url"),
        )
        ack(text=message.text, blocks=message.blocks)
    else:
        shown = sub if len(sub) <= 30 and sub.isprintable() else "that"
        message = help_blocks.help_message(unknown=shown)
        ack(text=message.text, blocks=message.blocks)


_MODAL_OPENERS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="shipbot-modal")
# Slack's trigger_id lasts 3 s from when Slack issued it; past this much queueing on our side
# views.open would only fail, so say so at once instead.
TRIGGER_BUDGET = 2.5


def _open_form_later(
    services: Services, command: dict[str, Any], client: WebClient, received: float
) -> None:
    if time.monotonic() - received > TRIGGER_BUDGET:
        log.warning("views.open skipped: the trigger waited %.1f s", time.monotonic() - received)
        problem = "⚠️ Slack's form timer ran out while I was busy. Run `/ship` again."
    else:
        problem = open_form(services, command, client)
    if problem:
        services.tell(
            command["channel_id"], command["user_id"], problem, command.get("response_url")
        )


def open_form(services: Services, command: dict[str, Any], client: WebClient) -> str:
    """Open the modal at once (the trigger lasts 3 s); the text is for when that fails."""
    metadata = json.dumps(
        {"channel": command["channel_id"], "response_url": command.get("response_url")}
    )
    view = shipment_modal(metadata, shipper_reference=services.new_shipper_reference())
    try:
        client.views_open(trigger_id=command["trigger_id"], view=view)
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("views.open failed: %s", error)
        if error in ("expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"):
            return "⚠️ Slack took too long to open the form. Run `/ship` again."
        return f"⚠️ Slack didn't open the form ({error}). Run `/ship` again in a moment."
    return ""
