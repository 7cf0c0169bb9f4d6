"""The state events query and Get Late Consignments, as the sandbox renders them.

Shapes per Sorted's SDK (no example JSON exists anywhere): the state events query answers a
bare array of `ConsignmentPayload`; the late list `{TotalNumberOfLateConsignments,
ConsignmentSummaries}` with Search Consignments' rows (`State`, not `ConsignmentState`).
`Packages[].TrackingDetails` are left empty, as the SDK's serialisation suggests (GUESS):
clients must read tracking numbers from `ConsignmentLegs`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

from bot.sandbox.errors import ApiProblem, Detail
from bot.sandbox.render import _consignment_leg, precise
from bot.sandbox.state import ConsignmentView

_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_wire_time(value: object) -> datetime | None:
    """An ISO date-time, 7 fractional digits allowed; no offset is UTC (as the docs show)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _LONG_FRACTION.sub(r"\1", value.strip(), count=1).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _latest(view: ConsignmentView) -> str | None:
    day = view.latest_delivery
    return precise(datetime.combine(day, time(23, 59), tzinfo=view.created.tzinfo)) if day else None


def state_payload(view: ConsignmentView, state: str) -> dict[str, Any]:
    allocation = view.allocation
    legs = [_consignment_leg(allocation, list(allocation.tracking))] if allocation else []
    return {
        "ConsignmentReference": view.reference,
        "ConsignmentReferenceProvidedByCustomer": view.request.customer_reference or None,
        "ConsignmentTrackingReference": allocation.tracking[0]
        if allocation and allocation.tracking
        else None,
        "ConsignmentState": state,
        "Packages": [{} for _ in view.package_references],
        "ConsignmentLegs": legs,
        "CarrierServiceReference": allocation.service.reference if allocation else None,
        "CarrierServiceName": allocation.service.name if allocation else None,
        "EarliestDeliveryDate": None,
        "LatestDeliveryDate": _latest(view),
        "DateDelivered": precise(view.delivered_at) if view.delivered_at else None,
        "PickupCode": None,
    }


def late_row(view: ConsignmentView) -> dict[str, Any]:
    destination = view.request.destination
    allocation = view.allocation
    return {
        "Reference": view.reference,
        "ConsignmentReferenceProvidedByCustomer": view.request.customer_reference or None,
        "DateCreated": precise(view.created),
        "State": view.state,
        "Source": view.request.source,
        "MpdCarrierServiceName": allocation.service.name if allocation else None,
        "DestinationAddressLine1": destination.text("AddressLine1") or None,
        "DestinationAddressTown": destination.text("Town") or None,
        "DestinationAddressPostcode": destination.postcode or None,
        "DestinationAddressCountry": destination.country,
        "EstimatedDeliveryDate": _latest(view),
        "DeliveryDate": None,
        "IsLate": True,
    }


def parse_state_query(body: dict[str, Any]) -> tuple[frozenset[str], datetime, datetime]:
    """`{ConsignmentStates, Start, End}`, all required (SDK)."""
    problems = []
    states = body.get("ConsignmentStates")
    if not isinstance(states, list) or not all(isinstance(s, str) for s in states):
        problems.append(Detail("Required", "ConsignmentStates", "ConsignmentStates is required."))
    bounds: list[datetime] = []
    for name in ("Start", "End"):
        moment = parse_wire_time(body.get(name))
        if moment is None:
            problems.append(Detail("Required", name, f"{name} must be an ISO date-time."))
        else:
            bounds.append(moment)
    if problems:
        raise ApiProblem(400, "ValidationError", "The state events query is invalid.", problems)
    assert isinstance(states, list)
    return frozenset(states), bounds[0], bounds[1]
