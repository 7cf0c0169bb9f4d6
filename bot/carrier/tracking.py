"""Get Tracking, `GET /tracking/{consignmentReference}`: its wire shape and its mapping.

GUESS: Sorted's own docs only name this route; the shape comes from a third-party spec
(chrishemmings/electio: TrackingResponse, PackageViewModel, EventViewModel), which was used
against the live API but is not Sorted's word:

    {"Reference": "EC-…", "TrackedPackages": [{"Reference": "EP-…", "Events": [
        {"TimeStamp": "…", "Code": "…", "Description": "…", "SignedBy": "…",
         "Location": "…", "CarrierServiceName": "…"}]}]}

Kept apart from `wire.py`/`mapping.py` because it is the one call the flow does not need:
`/ship status` works without it (Get Consignment alone) if it turns out to differ.
"""

from __future__ import annotations

from pydantic import Field, TypeAdapter

from bot.carrier.wire import NullableList, WireDateTime, WireModel
from bot.models import TrackingEvent


class WireTrackingEvent(WireModel):
    time_stamp: WireDateTime = None
    code: str | None = None
    description: str | None = None
    # Read but never kept: a recipient's name is not something we log or store.
    signed_by: str | None = None
    location: str | None = None
    carrier_service_name: str | None = None


class WireTrackedPackage(WireModel):
    reference: str | None = None
    events: NullableList[WireTrackingEvent] = Field(default_factory=list)


class TrackingResponse(WireModel):
    reference: str | None = None
    tracked_packages: NullableList[WireTrackedPackage] = Field(default_factory=list)


TRACKING = TypeAdapter(TrackingResponse)


def tracking_events(response: TrackingResponse) -> tuple[TrackingEvent, ...]:
    """Every package's events as one timeline, oldest first.

    A consignment's packages usually travel together, so the same scan shows up once per
    package: it is kept once. Events without a time or a description say nothing an agent
    can pass on, and are dropped.
    """
    seen: dict[tuple[object, str, str | None], TrackingEvent] = {}
    for package in response.tracked_packages:
        for event in package.events:
            description = (event.description or event.code or "").strip()
            if event.time_stamp is None or not description:
                continue
            location = (event.location or "").strip() or None
            key = (event.time_stamp, description, location)
            seen.setdefault(
                key, TrackingEvent(at=event.time_stamp, description=description, location=location)
            )
    return tuple(sorted(seen.values(), key=lambda e: e.at))
