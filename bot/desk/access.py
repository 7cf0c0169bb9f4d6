"""The look-ups every desk feature shares, so features never import each other for them.

Which consignment a request names and whether the asker may see it (a consignment of another
channel is "not found": saying more would leak it), who asked (from a job's payload), where a
consignment's thread is, and a free shipper reference for a new one.
"""

from __future__ import annotations

import secrets

from blocks import Message, section
from bot.core import Asker, Refused, Shipbot
from bot.desk import messages
from bot.intake.arguments import shown
from bot.models import ConsignmentRecord
from bot.store.job_payloads import Asked


def visible(bot: Shipbot, text: str, asker: Asker) -> ConsignmentRecord | None:
    """By carrier reference, shipper reference or order number, if the asker may see it."""
    c = bot.store.find_by_reference(text)
    return c if c is not None and bot.permissions.may_see(asker.user, asker.channel, c) else None


def consignment_for(bot: Shipbot, text: str, asker: Asker) -> ConsignmentRecord:
    """`visible`, or Refused. One that exists in another channel is "not found": saying
    more would leak it."""
    c = visible(bot, text, asker)
    if c is None:
        raise Refused(messages.NOT_FOUND.format(ref=shown(text)), "not found")
    return c


def clicked_consignment(bot: Shipbot, cid: int, asker: Asker) -> ConsignmentRecord:
    """The consignment a button names, if the clicker may see it; otherwise Refused."""
    c = bot.store.get(cid)
    if c is None or not bot.permissions.may_see(asker.user, asker.channel, c):
        raise Refused(messages.UNKNOWN_CONSIGNMENT, "unknown consignment")
    return c


def asker_of(payload: Asked) -> Asker:
    """Who asked, as a job's payload carries it (user, channel, response_url)."""
    return Asker.of(payload)


def permalink(bot: Shipbot, c: ConsignmentRecord) -> str | None:
    """The consignment's thread, or None before its channel message is posted."""
    return bot.slack.permalink(c.channel_id, c.message_ts) if c.message_ts else None


def with_link(bot: Shipbot, text: str, c: ConsignmentRecord) -> Message:
    """`text` with a link to the consignment's thread (when it has one)."""
    link = permalink(bot, c)
    full = f"{text} <{link}|Open the thread>" if link else text
    return Message(text=text, blocks=[section(full)])


def new_shipper_reference(bot: Shipbot) -> str:
    """SHIP-<today>-<6 hex>, one no consignment has yet."""
    today = bot.now().astimezone(bot.settings.timezone).strftime("%Y%m%d")
    while True:
        ref = f"SHIP-{today}-{secrets.token_hex(3).upper()}"
        if not bot.store.shipper_reference_taken(ref):
            return ref
