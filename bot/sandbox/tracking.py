"""Tracking: the carrier's scans, timed by the sandbox clock, on both documented routes.

VERIFIED shapes (Sorted's tracking help page and the SDK's Tracking view models):
`GET /tracking/{ref}` nests events per journey leg:

    {ConsignmentReferenceForAllLegsAssignedByMpd, TrackedPackages: [
      {PackageReferenceForAllLegsAssignedByMpd, Legs: [
        {CarrierServiceName, Events: [{TimeStamp, Code, Description, SignedBy, Location}]}]}]}

`GET /tracking/flattened/{ref}` puts the events straight under each package, each naming
its `CarrierServiceName`. A parcel gets a scan when it is allocated and when it is
manifested, then one per tracking step, in step with the states Get Consignment reports
(InTransit, OutForDelivery, Delivered).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sandbox.render import precise
from bot.sandbox.state import ConsignmentView


def _event(at: datetime, code: str, description: str, location: str | None) -> dict[str, Any]:
    return {
        "TimeStamp": precise(at),
        "Code": code,
        "Description": description,
        "SignedBy": None,
        "Location": location,
    }


def events(view: ConsignmentView) -> list[dict[str, Any]]:
    """What the carrier has scanned so far, oldest first (none before allocation)."""
    allocation = view.allocation
    if allocation is None:
        return []
    carrier = allocation.carrier.name
    origin = view.request.origin.text("Town") or None
    destination = view.request.destination.text("Town")
    depot = f"{destination} delivery office" if destination else None
    found = [
        _event(
            allocation.allocated_at,
            "LABEL_CREATED",
            f"{carrier} has been told the parcel is coming",
            None,
        )
    ]
    if view.manifested_at is not None:
        found.append(
            _event(
                view.manifested_at,
                "MANIFESTED",
                f"Ready for collection by {carrier}",
                origin,
            )
        )
    if view.collected_at is not None:
        found.append(_event(view.collected_at, "COLLECTED", f"Collected by {carrier}", origin))
    if view.out_for_delivery_at is not None:
        found.append(
            _event(view.out_for_delivery_at, "OUT_FOR_DELIVERY", "Out for delivery", depot)
        )
    if view.delivered_at is not None:
        found.append(_event(view.delivered_at, "DELIVERED", "Delivered", depot))
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
