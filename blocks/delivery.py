"""What the delivery watcher says: the state line, a change in the thread, an exception's
own message with its next steps, the exceptions channel's list and the daily late list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from blocks import Block, Message, actions, button, context, escape, section
from blocks.consignment import slack_time
from blocks.ids import ActionId
from blocks.payloads import CarrierReferenceValue, ConsignmentValue
from blocks.states import state_words
from blocks.thread_buttons import status_button
from bot.carrier_states import ConsignmentState, LateConsignment, StateChange
from bot.models import ConsignmentRecord

# Slack: 50 blocks a message; a header, a context and one section per consignment.
ITEMS_PER_MESSAGE = 40


def mention(target: str) -> str:
    """A user (U…/W…) or a user group (S…)."""
    return f"<!subteam^{target}>" if target.startswith("S") else f"<@{target}>"


def change_line(
    c: ConsignmentRecord, change: StateChange, at: datetime, signed_by: str | None
) -> Message:
    """One line in the thread for a change that needs nobody. A return's lines are in its
    original's thread: they say whose journey it is ("📬 Delivered" is then: back with us)."""
    words = state_words(change.state, change.raw_state, signed_by)
    text = f"{_whose(c)}{words} · Sorted PRO, {slack_time(at)}"
    return Message(text=f"{c.reference}: {words}", blocks=[section(text)])


def _whose(c: ConsignmentRecord) -> str:
    if not c.is_return:
        return ""
    original = escape(c.returns_reference or "a consignment")
    return f"↩️ Return *{escape(c.reference)}* (of {original}) · "


def exception_notice(
    c: ConsignmentRecord, change: StateChange, at: datetime, notify: Sequence[str]
) -> Message:
    """The exception's own message: who should look, and the next steps as buttons."""
    words = state_words(change.state, change.raw_state)
    who = " ".join(mention(t) for t in notify) or mention(c.created_by)
    order = f" (order {escape(c.request.order_number)})" if c.request.order_number else ""
    if c.is_return:  # on its way back: nothing to replace, the customer needs telling
        text = (
            f"{_whose(c)}{words} · Sorted PRO, {slack_time(at)}\n{who}: the customer's return"
            f"{order} from {escape(c.request.recipient.town)} needs you. Check the carrier's "
            "scans and tell the customer, then mark it handled."
        )
        return _exception_message(c, words, text, replacement=False)
    text = (
        f"{words} · Sorted PRO, {slack_time(at)}\n{who}: *{escape(c.reference)}*{order} to "
        f"{escape(c.request.recipient.town)} needs you. Ship a replacement, check the "
        "carrier's scans, or mark it handled once the customer knows."
    )
    return _exception_message(c, words, text)


def handled_notice(
    c: ConsignmentRecord, state: ConsignmentState, raw: str, user: str, at: datetime
) -> Message:
    """The exception's message once handled: the record of who, and no Handled button."""
    words = state_words(state, raw)
    text = f"{words} · ✔️ handled by <@{user}> at {slack_time(at)}"
    return _exception_message(c, "handled", text, handled=False)


def _exception_message(
    c: ConsignmentRecord, summary: str, text: str, *, replacement: bool = True, handled: bool = True
) -> Message:
    """An exception's message: `text` over its buttons, under one block id for every version."""
    value = ConsignmentValue(c.id).encode()
    buttons = [
        *([button("Ship a replacement", ActionId.SHIP_AGAIN, value)] if replacement else []),
        status_button(c),
        *([button("Handled", ActionId.DELIVERY_HANDLED, value)] if handled else []),
    ]
    return Message(
        text=f"{c.reference}: {summary}",
        blocks=[section(text), actions(*buttons, block_id=f"exception-{c.id}")],
    )


def _take_over(reference: str) -> Block:
    return button("Take over", ActionId.TAKE_OVER, CarrierReferenceValue(reference).encode())


def exception_row(
    change: StateChange, destination: str | None, ours: ConsignmentRecord | None
) -> Block:
    words = state_words(change.state, change.raw_state)
    bits = [f"*{escape(change.reference)}*"]
    if change.order_number:
        bits.append(f"order {escape(change.order_number)}")
    if destination:
        bits.append(f"to {escape(destination)}")
    bits.append(words)
    if ours is not None and ours.message_ts:
        bits.append(f"shipped by <@{ours.created_by}> in <#{ours.channel_id}>")
    return section(" · ".join(bits), accessory=_take_over(change.reference))


def exceptions_message(rows: Sequence[Block], at: datetime) -> Message:
    """Grouped: the exceptions seen in one look, one message (ITEMS_PER_MESSAGE at most)."""
    count = len(rows)
    title = (
        f"⚠️ {count} delivery exception{'s' if count != 1 else ''} · Sorted PRO, {slack_time(at)}"
    )
    return Message(text=title, blocks=[section(title), *rows[:ITEMS_PER_MESSAGE]])


def late_message(late: Sequence[LateConsignment], day: str) -> Message:
    """The daily late list: one message, each with its Take over button."""
    count = len(late)
    title = f"⏰ {count} late consignment{'s' if count != 1 else ''} · {escape(day)}"
    blocks: list[Block] = [section(f"*{title}*")]
    for item in late[:ITEMS_PER_MESSAGE]:
        bits = [f"*{escape(item.reference)}*"]
        if item.order_number:
            bits.append(f"order {escape(item.order_number)}")
        if item.destination:
            bits.append(f"to {escape(item.destination)}")
        if item.due:
            bits.append(f"due {slack_time(item.due, '{date_short}')}")
        if item.raw_state:
            bits.append(state_words(item.state, item.raw_state))
        blocks.append(section(" · ".join(bits), accessory=_take_over(item.reference)))
    if count > ITEMS_PER_MESSAGE:
        blocks.append(
            context(f"…and {count - ITEMS_PER_MESSAGE} more: `/ship list open` shows ours.")
        )
    return Message(text=title, blocks=blocks)
