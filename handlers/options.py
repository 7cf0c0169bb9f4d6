"""Options for external selects: the form's country pickers, filtered as the agent types."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from blocks.form_fields import country_options
from bot.intake.field_reader import ACTION
from bot.intake.forms import ADDRESS_COUNTRY, CUSTOMS_ORIGIN

COUNTRY_BLOCKS = frozenset({ADDRESS_COUNTRY, CUSTOMS_ORIGIN})


def register(app: App) -> None:
    app.options(ACTION)(suggest)


def suggest(ack: Ack, body: dict[str, Any]) -> None:
    """Answered from memory in well under Slack's 3 s; anything else gets no options."""
    if body.get("block_id") in COUNTRY_BLOCKS:
        ack(**country_options(str(body.get("value") or "")))
    else:
        ack(options=[])
