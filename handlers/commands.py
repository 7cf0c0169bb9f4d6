"""`/ship` and its subcommands: ack what the command table's row answers.

Which subcommands exist, and what each runs, is bot/desk/commands.py's table; this listener
only acks its reply (a form opens after the ack). A refusal raised by a feature (an unknown
subcommand included) becomes the ack's text in the app's error handler.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from blocks import Message
from bot.core import Asker, Shipbot
from bot.desk import commands
from bot.slack import modal


def register(app: App) -> None:
    app.command("/ship")(ship)


def ship(ack: Ack, command: dict[str, Any], shipbot: Shipbot) -> None:
    asker = Asker(command["user_id"], command["channel_id"], command.get("response_url"))
    reply = commands.answer(shipbot, command.get("text") or "", asker)
    if isinstance(reply, Message):
        ack(text=reply.text, blocks=reply.blocks)
        return
    ack()  # then open the modal: the ack never waits on Slack's views.open
    modal.open_soon(shipbot, command["trigger_id"], reply, asker)
