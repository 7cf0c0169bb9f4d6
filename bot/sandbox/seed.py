"""Consignments "made by the webshop": what a retailer's PRO account holds before shipbot.

`shipbot sandbox --seed-orders N` (and the demo) start with N of them, in the states the
delivery desk rescues: allocated, ready to ship, failed allocation, unallocated, manifested,
already with the carrier, one order re-made after a cancel, one order made twice. They are
made through the same state calls as the API's, so they look exactly like ours on the wire
except for their order numbers (ConsignmentReferenceProvidedByCustomer) and their dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.sandbox.catalogue import SANDBOX_SHIPPING_LOCATION
from bot.sandbox.state import (
    ALLOCATION_FAILED,
    CANCELLED,
    MANIFESTED,
    READY_TO_SHIP,
    UNALLOCATED,
    SandboxState,
)
from bot.sandbox.validation import parse_create

FIRST_ORDER = 100234
FAILED_MESSAGE = "Could not be booked with courier."

_PEOPLE = (
    ("Rita", "Customer", "1 High Street", "Leeds", "LS1 6TH", "rita@example.com"),
    ("Tom", "Baker", "22 Mill Lane", "Bristol", "BS1 4DJ", "tom@example.com"),
    ("Asha", "Patel", "5 Station Road", "Manchester", "M1 5WG", "asha@example.com"),
    ("Owen", "Jones", "9 Castle Street", "Cardiff", "CF10 1BW", "owen@example.com"),
    ("Mia", "Clark", "14 Queen Street", "Glasgow", "G1 3DN", "mia@example.com"),
    ("Sam", "Reid", "3 Harbour Way", "Plymouth", "PL1 2AA", "sam@example.com"),
    ("Lena", "Fox", "77 King's Road", "London", "SW3 4NX", "lena@example.com"),
    ("Ian", "Wood", "8 Abbey Road", "York", "YO1 7HH", "ian@example.com"),
)


@dataclass(frozen=True)
class Seeded:
    order_number: str
    reference: str
    state: str


def webshop_consignment(order_number: str, n: int) -> dict[str, Any]:
    """The Create Consignment body a webshop's integration would send."""
    first, last, line1, town, postcode, email = _PEOPLE[n % len(_PEOPLE)]
    return {
        "ConsignmentReferenceProvidedByCustomer": order_number,
        "Source": "Api",
        "Direction": "Outbound",
        "MetaData": [{"KeyValue": "Channel", "StringValue": "webshop"}],
        "Tags": ["webshop"],
        "Addresses": [
            {"AddressType": "Origin", "ShippingLocationReference": SANDBOX_SHIPPING_LOCATION},
            {
                "AddressType": "Destination",
                "Contact": {
                    "FirstName": first,
                    "LastName": last,
                    "Email": email,
                    "Telephone": "07700 900123",
                },
                "AddressLine1": line1,
                "Town": town,
                "Postcode": postcode,
                "Country": {"IsoCode": {"TwoLetterCode": "GB"}},
            },
        ],
        "Packages": [
            {
                "PackageReferenceProvidedByCustomer": f"{order_number}-1",
                "Weight": {"Value": 1.2 + (n % 3) * 0.5, "Unit": "Kg"},
                "Dimensions": {"Unit": "Cm", "Length": 30, "Width": 20, "Height": 10},
                "Description": "Homeware",
                "Value": {"Amount": 25 + n, "Currency": {"IsoCode": "GBP"}},
            }
        ],
    }


def _make(state: SandboxState, order_number: str, n: int, target: str) -> Seeded:
    reference = state.create(parse_create(webshop_consignment(order_number, n)))
    if target == UNALLOCATED:
        pass
    elif target == ALLOCATION_FAILED:
        state.seed_state(reference, state=ALLOCATION_FAILED, failure=FAILED_MESSAGE)
    else:
        quotes = state.quote(reference).quotes
        # The allocation rules' pick: the cheapest service (Royal Mail in the catalogue).
        state.allocate(reference, quotes[0].reference)
        if target == READY_TO_SHIP:
            state.set_ready_to_ship(reference, True)
        elif target == MANIFESTED:
            state.seed_state(reference, state=MANIFESTED, manifested_ago=0)
        elif target == "with-carrier":
            state.seed_state(
                reference,
                state=MANIFESTED,
                manifested_ago=state.tracking_step.total_seconds() * 1.5,
            )
        elif target == CANCELLED:
            state.cancel(reference)
    return Seeded(order_number, reference, state.view(reference).state)


# (what the n-th order is, in order): one of each case the desk handles.
_PLAN: tuple[tuple[str, ...], ...] = (
    ("Allocated",),
    (READY_TO_SHIP,),
    (ALLOCATION_FAILED,),
    (UNALLOCATED,),
    (MANIFESTED,),
    ("with-carrier",),
    (CANCELLED, "Allocated"),  # re-made after a cancel: one live, one cancelled
    ("Allocated", "Allocated"),  # made twice by mistake: two live
)


def seed_orders(state: SandboxState, count: int) -> list[Seeded]:
    """`count` webshop orders, numbered from 100234, cycling through `_PLAN`."""
    made: list[Seeded] = []
    for n in range(count):
        order_number = str(FIRST_ORDER + n)
        for target in _PLAN[n % len(_PLAN)]:
            made.append(_make(state, order_number, n, target))
    return made
