"""Approval above a price: the request in the thread, the held quote, the decision."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from blocks import Message, actions, button, context, escape, section
from blocks.consignment import money, price_text, service_label
from blocks.ids import APPROVE, DECLINE
from blocks.payloads import ConsignmentValue
from bot.models import ConsignmentRecord


def _what(c: ConsignmentRecord) -> str:
    quote = c.chosen_quote
    if quote is None:
        return "the chosen quote"
    service = escape(service_label(quote.carrier_name, quote.service_name))
    return f"{service} at {price_text(quote.price)}"


def request(c: ConsignmentRecord, approvers: Sequence[str], limit: Decimal) -> Message:
    quote = c.chosen_quote
    currency = quote.price.currency if quote else "GBP"
    who = " ".join(f"<@{u}>" for u in approvers) or "Any agent"
    text = (
        f"⚠️ <@{c.claimed_by}> chose {_what(c)}, above the {money(limit, currency)} limit. "
        f"{who}: approve it?"
    )
    return Message(
        text=text,
        blocks=[
            section(text),
            actions(
                button("Approve", APPROVE, ConsignmentValue(c.id).encode(), style="primary"),
                button("Decline", DECLINE, ConsignmentValue(c.id).encode(), style="danger"),
            ),
            context("Nothing is bought until an approver says yes."),
        ],
    )


def awaiting(c: ConsignmentRecord) -> Message:
    text = f"⏳ {_what(c)} chosen by <@{c.claimed_by}> · waiting for approval"
    return Message(text=text, blocks=[section(text)])


def decided(c: ConsignmentRecord, by: str, outcome: str) -> Message:
    if outcome == "approved":
        text = f"✅ Approved by <@{by}>: {_what(c)}. Allocating now."
    elif outcome == "declined":
        text = f"❌ Declined by <@{by}>. Nothing was bought; choose another quote in the thread."
    else:
        text = (
            f"⌛ The quote expired before <@{by}> approved it. "
            "Nothing was bought; get fresh quotes."
        )
    return Message(text=text, blocks=[section(text)])
