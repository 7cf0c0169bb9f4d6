"""Get Tracking (`GET /tracking/{ref}`): the carrier's scans, timed by the sandbox clock.

GUESS: only a third-party spec describes this call (TrackingResponse -> TrackedPackages ->
Events with TimeStamp, Code, Description, SignedBy, Location, CarrierServiceName); the
sandbox answers in that shape so the client can be exercised. A parcel gets a scan when it
is allocated and when it is manifested, then one per tracking step, in step with the
states Get Consignment reports (InTransit, OutForDelivery, Delivered).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sandbox.render import precise
from bot.sandbox.state import ConsignmentView


def _event(
    at: datetime, code: str, description: str, location: str | None, service: str
) -> dict[str, Any]:
    return {
        "TimeStamp": precise(at),
        "Code": code,
        "Description": description,
        "SignedBy": None,
        "Location": location,
        "CarrierServiceName": service,
    }


def events(view: ConsignmentView) -> list[dict[str, Any]]:
    """What the carrier has scanned so far, oldest first (none before allocation)."""
    allocation = view.allocation
    if allocation is None:
        return []
    carrier = allocation.carrier.name
    service = allocation.service.name
    origin = view.request.origin.text("Town") or None
    destination = view.request.destination.text("Town")
    depot = f"{destination} delivery office" if destination else None
    found = [
        _event(
            allocation.allocated_at,
            "LABEL_CREATED",
            f"{carrier} has been told the parcel is coming",
            None,
            service,
        )
    ]
    if view.manifested_at is not None:
        found.append(
            _event(
                view.manifested_at,
                "MANIFESTED",
                f"Ready for collection by {carrier}",
                origin,
                service,
            )
        )
    if view.collected_at is not None:
        found.append(
            _event(view.collected_at, "COLLECTED", f"Collected by {carrier}", origin, service)
        )
    if view.out_for_delivery_at is not None:
        found.append(
            _event(view.out_for_delivery_at, "OUT_FOR_DELIVERY", "Out for delivery", depot, service)
        )
    if view.delivered_at is not None:
        found.append(_event(view.delivered_at, "DELIVERED", "Delivered", depot, service))
    return found


def tracking_response(view: ConsignmentView) -> dict[str, Any]:
    """Every package travels together here, so each carries the same scans."""
    scans = events(view)
    return {
        "Reference": view.reference,
        "TrackedPackages": [
            {"Reference": package, "Events": list(scans)} for package in view.package_references
        ],
    }
