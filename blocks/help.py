"""`/ship help`: every command with an example."""

from __future__ import annotations

from blocks import Block, Message, actions, button, context, escape, section
from blocks.ids import MANIFEST

COMMANDS: tuple[tuple[str, str], ...] = (
    ("/ship", "Open the form to ship a parcel: quotes appear in the thread, pick one."),
    ("/ship SW1A 2AA", "The form with that postcode filled in."),
    (
        "/ship again EC-000-05B-MMA",
        "The form filled in from that consignment: recipient, parcels, customs. "
        "Or *Ship again* in its thread.",
    ),
    (
        "/ship return EC-000-05B-MMA",
        "A return label: the form filled in from that consignment, the customer as sender. "
        "Or *Return label* in its thread.",
    ),
    ("/ship manifest", "Hand every allocated parcel to the carriers for collection."),
    (
        "/ship status EC-000-05B-MMA",
        "State, tracking links, a line for the customer, who did what. "
        "Also takes an order number or shipper reference.",
    ),
    ("/ship find rosa", "Search order numbers, references, recipient names and postcodes."),
    ("/ship list today", "This channel's consignments: `open` (the default), `today` or `all`."),
    ("/ship label EC-000-05B-MMA zpl", "Put the label in the thread again (`pdf` or `zpl`)."),
    ("/ship cancel EC-000-05B-MMA", "Cancel with the carrier, after you confirm."),
    ("/ship audit EC-000-05B-MMA", "Every step: who, what, when and how it went."),
    ("/ship report week", "Spend by agent and by carrier (`today` or `week`); a CSV to your DM."),
    ("/ship help", "This list."),
)


def help_message(unknown: str | None = None) -> Message:
    lines = "\n".join(f"• `{cmd}` — {what}" for cmd, what in COMMANDS)
    blocks: list[Block] = []
    if unknown:
        blocks.append(section(f"⚠️ I don't know `{escape(unknown)}`. Here is what I can do:"))
    blocks.append(section(f"*shipbot commands*\n{lines}"))
    blocks.append(
        actions(
            button(
                "Manifest allocated parcels",
                MANIFEST,
                "manifest",
                confirm={
                    "title": {"type": "plain_text", "text": "Manifest now?"},
                    "text": {
                        "type": "mrkdwn",
                        "text": "Every allocated parcel is handed to its carrier for collection.",
                    },
                    "confirm": {"type": "plain_text", "text": "Manifest"},
                    "deny": {"type": "plain_text", "text": "Not yet"},
                },
            )
        )
    )
    blocks.append(
        context(
            "Slash commands can't be typed in threads: use the buttons there. "
            "On a customer's message, ⋯ → *Ship to this address* opens the form filled in."
        )
    )
    return Message(
        text=(
            "shipbot commands: /ship, /ship POSTCODE, again, manifest, status, find, list, "
            "label, cancel, audit, report, help"
        ),
        blocks=blocks,
    )
