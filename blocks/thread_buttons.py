"""The buttons agents use on a consignment: slash commands can't be typed in threads.

One builder for each button, so the thread, the status card and `/ship cancel` show the
same dialog; the ids are in `blocks/ids.py` and the values in `blocks/payloads.py`.
"""

from __future__ import annotations

from typing import Any

from blocks import Block, actions, button, escape, mrkdwn, plain
from blocks.ids import ActionId
from blocks.payloads import ConsignmentValue
from bot.models import ConsignmentRecord, Step


def _on(c: ConsignmentRecord, label: str, action: ActionId, **style_confirm: Any) -> Block:
    """A button about this consignment: its value names it (ConsignmentValue)."""
    return button(label, action, ConsignmentValue(c.id).encode(), **style_confirm)


def _asks(title: str, text: str, yes: str, **style: str) -> Block:
    """Slack's own confirm dialog on a button (its text is cut to Slack's 300)."""
    return {
        "title": plain(title),
        "text": mrkdwn(text[:300]),
        "confirm": plain(yes),
        "deny": plain("Keep it"),
        **style,
    }


def status_button(c: ConsignmentRecord, label: str = "Status") -> Block:
    return _on(c, label, ActionId.STATUS)


def reprint_button(c: ConsignmentRecord) -> Block:
    return _on(c, "Reprint label", ActionId.REPRINT)


def cancel_button(c: ConsignmentRecord, label: str = "Cancel", bought: str | None = None) -> Block:
    """Danger style, behind Slack's own confirm dialog: one stray click cancels nothing."""
    if bought is None:
        bought = (
            "The label becomes void: don't send the parcel."
            if c.allocation
            else "Nothing was bought yet; the consignment is closed."
        )
    confirm = _asks(
        "Cancel this consignment?",
        f"*{escape(c.reference)}* is cancelled with Sorted PRO. {bought}",
        "Yes, cancel it",
        style="danger",
    )
    return _on(c, label, ActionId.CANCEL, style="danger", confirm=confirm)


def ship_again_button(c: ConsignmentRecord) -> Block:
    """A replacement or a repeat order: the form filled in from this consignment."""
    return _on(c, "Ship again", ActionId.SHIP_AGAIN)


def return_button(c: ConsignmentRecord) -> Block:
    """The customer sends it back: the return form filled in from this consignment."""
    return _on(c, "Return label", ActionId.RETURN_LABEL)


def reship_button(c: ConsignmentRecord) -> Block:
    """Quotes for the other services; a manifested one asks first (the carrier has it)."""
    confirm = None
    if c.step is Step.MANIFESTED or c.manifested_at:
        confirm = _asks(
            "Ship with another service?",
            f"*{escape(c.reference)}* is manifested: the carrier already has its data. "
            "Choosing another service releases this booking; tell the carrier not to "
            "collect it.",
            "Show other services",
        )
    return _on(c, "Ship with another service", ActionId.RESHIP, confirm=confirm)


def thread_actions(c: ConsignmentRecord, *, bought: str | None = None) -> Block:
    """Under the allocation in the thread: what agents do there most (6 of Slack's 25).
    No Cancel once the carrier manifested it (Sorted PRO cancels only before)."""
    # The same buttons whatever the step otherwise (the feature says when one can't be
    # used), so the click's edit and the allocation's are identical and cost one chat.update.
    if c.is_return:
        # A return's own buttons sit in its original's thread: it is not shipped again,
        # returned or re-booked from there (those belong to the original).
        buttons = [status_button(c), reprint_button(c)]
    else:
        buttons = [
            status_button(c),
            reprint_button(c),
            ship_again_button(c),
            return_button(c),
            reship_button(c),
        ]
    if c.manifested_at is None:
        buttons.append(cancel_button(c, bought=bought))
    return actions(*buttons, block_id=f"ops-{c.id}")
