"""`/ship` and its subcommands: parse, call one feature function, ack.

Answers are ephemeral; a refusal raised by a feature becomes the ack's text in the app's
error handler, so nothing here formats refusals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from blocks import Message
from blocks import help as help_blocks
from blocks import operations as render
from blocks.payloads import FormMetadata
from bot.core import Asker, Shipbot
from bot.desk import flow, label, lookup, manifest, prefill, report, rescue, returns
from bot.desk.cancel import cancel_command
from bot.intake.arguments import clean_argument, log_operation
from bot.slack import modal

Lookup = Callable[[Shipbot, str, Asker], Message]


def _label(bot: Shipbot, argument: str, asker: Asker) -> Message:
    return render.notice(label.label_command(bot, argument, asker))


SUBCOMMANDS: dict[str, Lookup] = {
    "status": rescue.status,
    "find": rescue.find,
    "list": lookup.list_page,
    "audit": lookup.audit,
    "label": _label,
    "reprint": _label,
    "cancel": cancel_command,
}


def register(app: App) -> None:
    app.command("/ship")(ship)


def ship(ack: Ack, command: dict[str, Any], shipbot: Shipbot) -> None:
    text = (command.get("text") or "").strip()
    sub, _, argument = text.partition(" ")
    sub = sub.lower()
    asker = Asker(command["user_id"], command["channel_id"], command.get("response_url"))
    if sub in ("", "new"):
        metadata = FormMetadata(channel=asker.channel, response_url=asker.response_url)
        view = flow.new_form(shipbot, asker.user, metadata)
        ack()  # then open the modal: the ack never waits on Slack's views.open
        modal.open_soon(shipbot, command["trigger_id"], view, asker)
    elif sub == "again":
        view = prefill.ship_again_command(shipbot, clean_argument(sub, argument), asker)
        ack()
        modal.open_soon(shipbot, command["trigger_id"], view, asker)
    elif sub == "return":
        answer = returns.return_command(shipbot, clean_argument(sub, argument), asker)
        if isinstance(answer, Message):  # not ours: looked up at Sorted PRO
            ack(text=answer.text, blocks=answer.blocks)
            return
        ack()
        modal.open_soon(shipbot, command["trigger_id"], answer, asker)
    elif sub == "report":
        message = report.report(shipbot, asker.user, argument.strip().lower() or "today")
        ack(text=message.text, blocks=message.blocks)
    elif sub == "manifest":
        manifest.request_manifest(shipbot, asker)
        ack(text="⏳ Manifesting the allocated consignments… the channel will say when it's done.")
    elif sub == "help":
        message = help_blocks.help_message()
        ack(text=message.text, blocks=message.blocks)
    elif sub in SUBCOMMANDS:
        started = time.monotonic()
        message = SUBCOMMANDS[sub](shipbot, clean_argument(sub, argument), asker)
        ack(text=message.text, blocks=message.blocks)
        log_operation(sub, None, "answered", started)
    elif (initial := prefill.postcode_initial(text)) is not None:
        view = prefill.postcode_form(shipbot, initial, asker)
        ack()
        modal.open_soon(shipbot, command["trigger_id"], view, asker)
    else:
        shown = sub if len(sub) <= 30 and sub.isprintable() else "that"
        message = help_blocks.help_message(unknown=shown)
        ack(text=message.text, blocks=message.blocks)
