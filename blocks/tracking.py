"""Tracking links per carrier, and the one sentence an agent pastes to a customer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.carrier_states import ConsignmentState, TrackingEvent

# The carriers' public tracking pages. Keys are carrier codes with everything but letters
# and digits removed (ROYAL_MAIL -> ROYALMAIL); a code is matched by its longest known
# prefix, so "DHL_EXPRESS" finds DHL. A carrier that moves its page only loses the link:
# the number is always shown.
TRACKING_URLS: dict[str, str] = {
    "ROYALMAIL": "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
    "PARCELFORCE": "https://www.parcelforce.com/track-trace?trackNumber={number}",
    "DPDLOCAL": "https://track.dpdlocal.co.uk/parcels/{number}",
    "DPD": "https://track.dpd.co.uk/parcels/{number}",
    "EVRI": "https://www.evri.com/track/parcel/{number}/details",
    "HERMES": "https://www.evri.com/track/parcel/{number}/details",
    "DHL": "https://www.dhl.com/gb-en/home/tracking/tracking-express.html?submit=1&tracking-id={number}",
    "UPS": "https://www.ups.com/track?loc=en_GB&tracknum={number}",
    "FEDEX": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "YODEL": "https://www.yodel.co.uk/tracking/{number}",
}
_NOT_CODE = re.compile(r"[^A-Z0-9]")


def tracking_url(carrier_code: str | None, number: str) -> str | None:
    """The carrier's page for `number`, or None for a carrier we have no page for."""
    if not carrier_code or not number.strip():
        return None
    code = _NOT_CODE.sub("", carrier_code.upper())
    for key in sorted(TRACKING_URLS, key=len, reverse=True):
        if code.startswith(key):
            return TRACKING_URLS[key].format(number=quote(number.strip(), safe=""))
    return None


def when(moment: datetime, tz: ZoneInfo) -> str:
    """ "on Thu 27 Nov at 14:05", in the business's time zone: pasted text has no <!date>."""
    local = moment.astimezone(tz)
    return f"on {local:%a} {local.day} {local:%b} at {local:%H:%M}"


def window(first: datetime | None, last: datetime | None) -> str | None:
    """ "Thu 27 Nov" or "Thu 27–Fri 28 Nov"; None when the carrier gave no dates."""
    first = first or last
    last = last or first
    if first is None or last is None:
        return None
    if first.date() == last.date():
        return f"{first:%a} {first.day} {first:%b}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%a} {first.day}–{last:%a} {last.day} {last:%b}"
    return f"{first:%a} {first.day} {first:%b}–{last:%a} {last.day} {last:%b}"


_ON_ITS_WAY = frozenset(
    {
        ConsignmentState.DISPATCHED,
        ConsignmentState.COLLECTED,
        ConsignmentState.IN_TRANSIT,
    }
)
_BOOKED = frozenset(
    {
        ConsignmentState.ALLOCATED,
        ConsignmentState.READY_TO_SHIP,
        ConsignmentState.MANIFESTING,
        ConsignmentState.MANIFESTED,
        ConsignmentState.MANIFEST_FAILED,
    }
)


def customer_update(
    *,
    carrier: str,
    state: ConsignmentState | None,
    booked: bool,
    events: Sequence[TrackingEvent],
    numbers: Sequence[str],
    carrier_code: str | None,
    expected: str | None,
    tz: ZoneInfo,
) -> str:
    """Plain text (no mrkdwn, no mentions): what happened last, then where to track it.

    `state` is the carrier's state when we could ask; else `booked` says whether a label
    was bought, which is all our own records can tell.
    """
    latest = events[-1] if events else None
    by = carrier or "the carrier"
    due = f", expected {expected}" if expected else ""
    if state is ConsignmentState.CANCELLED:
        return "This shipment was cancelled before it left us."
    if state is ConsignmentState.DELIVERED:
        at = f" {when(latest.at, tz)}" if latest else ""
        return f"Your parcel was delivered{at}." + _track(numbers, carrier_code)
    if state is ConsignmentState.OUT_FOR_DELIVERY:
        sentence = f"Your parcel is out for delivery with {by}"
        sentence += f" (since {when(latest.at, tz)[3:]})." if latest else "."
    elif state is ConsignmentState.DELIVERY_FAILED:
        at = f" {when(latest.at, tz)}" if latest else ""
        sentence = f"{by} couldn't deliver your parcel{at}; they will try again or leave a card."
    elif state in _ON_ITS_WAY:
        at = f" {when(latest.at, tz)}" if latest else ""
        sentence = f"Your parcel was collected by {by}{at} and is on its way{due}."
    elif state in _BOOKED or (state is None and booked):
        sentence = f"Your parcel is booked with {by} and will be collected soon{due}."
    elif state is None or state in (ConsignmentState.UNALLOCATED, ConsignmentState.ALLOCATING):
        return "We're preparing your shipment; tracking details follow once it's booked."
    elif latest is not None:
        sentence = f"Latest from {by}: {latest.description} {when(latest.at, tz)}."
    else:
        sentence = f"Your parcel is with {by}{due}."
    return sentence + _track(numbers, carrier_code)


def _track(numbers: Sequence[str], carrier_code: str | None) -> str:
    if not numbers:
        return ""
    urls = [tracking_url(carrier_code, n) for n in numbers]
    if all(urls):
        if len(urls) == 1:
            return f" Track it at {urls[0]}"
        return " Track them at " + " and ".join(u for u in urls if u)
    noun = "Tracking number" if len(numbers) == 1 else "Tracking numbers"
    return f" {noun}: {', '.join(numbers)}."
