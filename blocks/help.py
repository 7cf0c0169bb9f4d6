"""`/ship help`: every command with an example (the rows of bot/desk/commands.py's table)."""

from __future__ import annotations

from collections.abc import Sequence

from blocks import Block, Message, actions, button, context, section
from blocks.ids import MANIFEST


def help_message(commands: Sequence[tuple[str, str]]) -> Message:
    """`commands`: (example, one line of help) per command, in the table's order."""
    lines = "\n".join(f"• `{example}` — {what}" for example, what in commands)
    blocks: list[Block] = [section(f"*shipbot commands*\n{lines}")]
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
        text="shipbot commands: " + ", ".join(example for example, _ in commands),
        blocks=blocks,
    )
