"""What a return says in the original's thread: its label's message, and the sentence an
agent pastes to the customer (how to send it back, where to track it)."""

from __future__ import annotations

import re

from blocks import escape
from blocks.consignment import price_text, service_label
from blocks.tracking import tracking_url
from bot.models import ConsignmentRecord

# Where a customer hands in a pre-paid return, by carrier code (letters and digits only,
# matched by prefix as for tracking links). Unknown carriers: the label says.
HAND_IN: dict[str, str] = {
    "ROYALMAIL": "hand it in at any Post Office",
    "PARCELFORCE": "hand it in at any Post Office",
    "EVRI": "drop it at an Evri ParcelShop or locker",
    "HERMES": "drop it at an Evri ParcelShop or locker",
    "DPD": "drop it at a DPD Pickup shop",
    "DHL": "drop it at a DHL ServicePoint or book a DHL collection",
    "UPS": "drop it at a UPS Access Point",
}
_NOT_CODE = re.compile(r"[^A-Z0-9]")


def hand_in(carrier_code: str | None) -> str:
    code = _NOT_CODE.sub("", (carrier_code or "").upper())
    for key in sorted(HAND_IN, key=len, reverse=True):
        if code.startswith(key):
            return HAND_IN[key]
    return "hand it to the carrier as the label says"


def customer_sentence(c: ConsignmentRecord) -> str:
    """Plain text (pasted into an email or chat): print, stick, hand in, track."""
    a = c.allocation
    order = f" for order {c.request.order_number}" if c.request.order_number else ""
    carrier = a.carrier_name if a else "the carrier"
    sentence = (
        f"Your {carrier} return label{order} is attached. Print it, stick it on the parcel "
        f"over the old label and {hand_in(a.carrier_code if a else None)}: "
        "it is pre-paid, no stamp needed."
    )
    if c.request.customs is not None:  # from abroad: the customs forms go with it
        sentence += (
            " Print the customs forms too and put them in a clear pouch on the outside of "
            "the parcel."
        )
    numbers = a.tracking_numbers if a else ()
    urls = [tracking_url(a.carrier_code if a else None, n) for n in numbers]
    if numbers and all(urls):
        sentence += " You can follow it at " + " and ".join(u for u in urls if u)
    elif numbers:
        sentence += f" Its tracking number: {', '.join(numbers)}."
    return sentence


def label_comment(c: ConsignmentRecord) -> str:
    """The return label's upload message in the original's thread: who made it, which
    service, tracking, and the sentence for the customer."""
    a = c.allocation
    quote = c.chosen_quote
    service = escape(service_label(a.carrier_name, a.service_name)) if a else "the carrier"
    price = f" · {price_text(quote.price)}" if quote else ""
    tracking = escape(", ".join(a.tracking_numbers)) if a and a.tracking_numbers else "not given"
    who = f" by <@{c.claimed_by}>" if c.claimed_by else ""
    original = escape(c.returns_reference or "this consignment")
    return (
        f"↩️ Return label made{who} · *{escape(c.reference)}*, the return of {original} · "
        f"{service}{price} · tracking {tracking}\n"
        f"*For the customer* (copy and paste):\n>{escape(customer_sentence(c))}"
    )


def marker(c: ConsignmentRecord) -> str:
    """ "↩️ Return of EC-…", for every line that names a return."""
    return f"↩️ Return of {escape(c.returns_reference or 'a consignment')}"
