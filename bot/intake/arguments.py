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

# What each command needs, with an example, for "you forgot the argument".
USAGE: dict[str, tuple[str, str]] = {
    "status": ("a reference, order number or shipper reference", "/ship status EC-000-05B-MMA"),
    "find": ("something to look for", "/ship find SW1A"),
    "label": ("a reference", "/ship label EC-000-05B-MMA zpl"),
    "reprint": ("a reference", "/ship label EC-000-05B-MMA"),
    "cancel": ("a reference", "/ship cancel EC-000-05B-MMA"),
    "audit": ("a reference", "/ship audit EC-000-05B-MMA"),
    "again": ("a reference or order number", "/ship again EC-000-05B-MMA"),
    "return": ("a reference or order number", "/ship return EC-000-05B-MMA"),
}


def clean_argument(sub: str, raw: str) -> str:
    """The text after the subcommand, or Refused: missing, too long, or not text at all."""
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
    text = " ".join(text.split())
    if sub in USAGE and not text:
        what, example = USAGE[sub]
        text_ = messages.ARGUMENT_MISSING.format(command=sub, what=what, example=example)
        raise Refused(text_, "no argument")
    return text


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
