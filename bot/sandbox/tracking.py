"""Tracking: the carrier's scans, timed by the sandbox clock, on both documented routes.

VERIFIED shapes (Sorted's tracking help page and the SDK's Tracking view models):
`GET /tracking/{ref}` nests events per journey leg:

    {ConsignmentReferenceForAllLegsAssignedByMpd, TrackedPackages: [
      {PackageReferenceForAllLegsAssignedByMpd, Legs: [
        {CarrierServiceName, Events: [{TimeStamp, Code, Description, SignedBy, Location}]}]}]}

`GET /tracking/flattened/{ref}` puts the events straight under each package, each naming
its `CarrierServiceName`. A parcel gets a scan when it is allocated and when it is
manifested, then one per tracking step, in step with the states Get Consignment reports
(InTransit, OutForDelivery, Delivered; or a journey that goes wrong: Delayed, card left,
Lost...). The delivery scan carries `SignedBy`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sandbox.render import precise
from bot.sandbox.state import ConsignmentView


def _event(
    at: datetime,
    code: str,
    description: str,
    location: str | None,
    signed_by: str | None = None,
) -> dict[str, Any]:
    return {
        "TimeStamp": precise(at),
        "Code": code,
        "Description": description,
        "SignedBy": signed_by,
        "Location": location,
    }


# What the carrier scans when a parcel enters a state after its manifest: (code, words, where).
_SCANS: dict[str, tuple[str, str, str]] = {
    "InTransit": ("COLLECTED", "Collected by {carrier}", "origin"),
    "Dispatched": ("DISPATCHED", "Dispatched by {carrier}", "origin"),
    "Collected": ("COLLECTED", "Collected by {carrier}", "origin"),
    "OutForDelivery": ("OUT_FOR_DELIVERY", "Out for delivery", "depot"),
    "Delivered": ("DELIVERED", "Delivered", "depot"),
    "Delayed": ("DELAYED", "Delayed in the {carrier} network", "hub"),
    "HeldByCarrier": ("HELD", "Held by {carrier}: address query", "hub"),
    "DeliveryFailedCardLeft": ("CARD_LEFT", "Delivery attempted: card left", "depot"),
    "DeliveryFailed": ("DELIVERY_FAILED", "Delivery attempted: nobody in", "depot"),
    "Lost": ("LOST", "Parcel lost in the {carrier} network", "hub"),
    "Missing": ("MISSING", "Parcel missing at the depot", "depot"),
    "Damaged": ("DAMAGED", "Parcel damaged in transit", "hub"),
    "ReturnToSender": ("RETURN_TO_SENDER", "Returning to sender", "hub"),
    "AtCustoms": ("AT_CUSTOMS", "At customs", "hub"),
    "ActionRequired": ("ACTION_REQUIRED", "Action required: contact {carrier}", "hub"),
    "CollectionFailed": ("COLLECTION_FAILED", "Collection failed", "origin"),
}


def signed_by(view: ConsignmentView) -> str:
    """ "Rita Customer" signs as "R. Customer" (what carriers usually record)."""
    parts = view.request.destination.person.split()
    if len(parts) < 2:
        return parts[0] if parts else "Recipient"
    return f"{parts[0][0]}. {' '.join(parts[1:])}"


def events(view: ConsignmentView) -> list[dict[str, Any]]:
    """What the carrier has scanned so far, oldest first (none before allocation)."""
    allocation = view.allocation
    if allocation is None:
        return []
    carrier = allocation.carrier.name
    origin = view.request.origin.text("Town") or None
    destination = view.request.destination.text("Town")
    places = {
        "origin": origin,
        "depot": f"{destination} delivery office" if destination else None,
        "hub": f"{carrier} hub",
    }
    found = [
        _event(
            allocation.allocated_at,
            "LABEL_CREATED",
            f"{carrier} has been told the parcel is coming",
            None,
        )
    ]
    for state, began in view.journey:
        if state == "Manifested":
            found.append(_event(began, "MANIFESTED", f"Ready for collection by {carrier}", origin))
            continue
        code, words, where = _SCANS.get(state, (state.upper(), state, "hub"))
        signer = signed_by(view) if state == "Delivered" else None
        found.append(_event(began, code, words.format(carrier=carrier), places[where], signer))
    return found


def _service(view: ConsignmentView) -> str | None:
    return view.allocation.service.name if view.allocation else None


def tracking_response(view: ConsignmentView) -> dict[str, Any]:
    """Get Tracking Events. Every package travels together here, so each has the same scans,
    on one leg (the sandbox's services are single-leg)."""
    scans = events(view)
    return {
        "ConsignmentReferenceForAllLegsAssignedByMpd": view.reference,
        "TrackedPackages": [
            {
                "PackageReferenceForAllLegsAssignedByMpd": package,
                "Legs": [{"CarrierServiceName": _service(view), "Events": list(scans)}]
                if view.allocation
                else [],
            }
            for package in view.package_references
        ],
    }


def flattened_response(view: ConsignmentView) -> dict[str, Any]:
    """Get Events Per Package: no legs; each event names its carrier service."""
    scans = [{**scan, "CarrierServiceName": _service(view)} for scan in events(view)]
    return {
        "ConsignmentReferenceForAllLegsAssignedByMpd": view.reference,
        "TrackedPackages": [
            {"PackageReferenceForAllLegsAssignedByMpd": package, "Events": list(scans)}
            for package in view.package_references
        ],
    }
