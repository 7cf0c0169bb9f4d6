"""Message shortcuts: "Ship to this address" on a customer's message opens the form from it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from blocks.ids import CallbackId
from bot.core import Asker, Shipbot
from bot.desk import prefill
from bot.slack import modal


def register(app: App) -> None:
    app.message_shortcut(CallbackId.SHIP_TO_ADDRESS)(ship_to_address)


def ship_to_address(ack: Ack, shortcut: dict[str, Any], shipbot: Shipbot) -> None:
    """The payload carries the message's text and channel; the trigger lasts 3 s."""
    channel = (shortcut.get("channel") or {}).get("id") or ""
    asker = Asker(shortcut["user"]["id"], str(channel), shortcut.get("response_url"))
    text = str((shortcut.get("message") or {}).get("text") or "")
    view = prefill.address_form(shipbot, text, asker)
    ack()  # then open the modal: the ack never waits on Slack's views.open
    modal.open_soon(shipbot, shortcut["trigger_id"], view, asker)
