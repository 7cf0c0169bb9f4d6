"""The text after `/ship <subcommand>`: cleaned once, quoted back safely, and one log line
per agent operation (ids and states only, never the recipient's details)."""

from __future__ import annotations

import logging
import time
import unicodedata

from blocks import escape
from bot.carrier.errors import CarrierError
from bot.core import Refused
from bot.desk import messages
from bot.models import ConsignmentRecord

log = logging.getLogger("shipbot.operations")

MAX_ARGUMENT = 200
_NOT_TEXT = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
# Joiners and selectors inside emoji sequences (👨‍👩‍👧, ❤️) are text, not tricks.
_EMOJI_JOINERS = frozenset({"\u200d", "\ufe0f", "\ufe0e"})


def clean_argument(raw: str) -> str:
    """The text after the subcommand, or Refused: too long, or not text at all (what each
    subcommand requires is its row's in bot/desk/commands.py)."""
    # Slack escapes these three in command text; agents typed the characters.
    text = raw.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()
    if len(text) > MAX_ARGUMENT:
        raise Refused(
            messages.ARGUMENT_TOO_LONG.format(length=len(text), limit=MAX_ARGUMENT), "too long"
        )
    if any(
        (unicodedata.category(ch) in _NOT_TEXT and ch not in _EMOJI_JOINERS) or ch == "\ufffd"
        for ch in text
    ):
        raise Refused(messages.ARGUMENT_NOT_TEXT, "not text")
    return " ".join(text.split())


def shown(text: str, limit: int = 40) -> str:
    """User text quoted back: escaped, and short."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape(text).replace("`", "'")


def log_operation(
    op: str,
    c: ConsignmentRecord | None,
    outcome: str,
    started: float,
    correlation: CarrierError | str | None = None,
) -> None:
    """One line per operation; ids and states only, never the recipient's details."""
    if isinstance(correlation, CarrierError):
        correlation = correlation.correlation_id
    log.info(
        "operation op=%s consignment=%s ref=%s outcome=%s duration_ms=%.0f correlation=%s",
        op,
        c.id if c else "-",
        (c.carrier_reference if c else None) or "-",
        "-".join(outcome.split()),  # one token, so key=value parsers read it whole
        (time.monotonic() - started) * 1000,
        correlation or "-",
    )
