"""Tracking: both documented routes' shapes, and their mapping to our events.

VERIFIED (Sorted's tracking help page and the SDK's Tracking view models):

- `GET /tracking/flattened/{ref}` ("Get Events Per Package"), the one we prefer:
      {"ConsignmentReferenceForAllLegsAssignedByMpd": "EC-…", "TrackedPackages": [
        {"PackageReferenceForAllLegsAssignedByMpd": "EP-…", "Events": [
          {"TimeStamp", "Code", "Description", "SignedBy", "Location", "CarrierServiceName"}]}]}
- `GET /tracking/{ref}` ("Get Tracking Events"): the same packages, with the events one
  level down, per journey leg: `TrackedPackages[].Legs[] {CarrierServiceName, Events[]}`.

Tolerant: a package may come in either shape from either route, and the third-party PHP
client's older names (`Reference`, events straight under a package at `/tracking/{ref}`)
are read too. What we refuse is a reply with packages where none carries `Events` or `Legs`:
that is a shape we do not know, and showing "no events" for it would be a lie.

Kept apart from `wire.py`/`mapping_*.py` because it is the one call the flow does not need:
`/ship status` works without it (Get Consignment alone).
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, TypeAdapter

from bot.carrier.errors import UnexpectedResponse
from bot.carrier.wire import NullableList, WireDateTime, WireModel
from bot.carrier_states import TrackingEvent


def _all_legs_reference(what: str, name: str) -> Any:
    """`{what}ReferenceForAllLegsAssignedByMpd`, or the PHP client's older `Reference`."""
    return Field(
        default=None,
        validation_alias=AliasChoices(f"{what}ReferenceForAllLegsAssignedByMpd", "Reference", name),
    )


class WireTrackingEvent(WireModel):
    time_stamp: WireDateTime = None  # ISO with offset, 6 or 7 fractional digits
    code: str | None = None
    description: str | None = None
    # Shown in the thread ("Delivered · signed by P. Smith"); never logged.
    signed_by: str | None = None
    location: str | None = None
    carrier_service_name: str | None = None  # flattened route only


class WireTrackedLeg(WireModel):
    carrier_service_name: str | None = None
    events: NullableList[WireTrackingEvent] = Field(default_factory=list)


class WireTrackedPackage(WireModel):
    package_reference: str | None = _all_legs_reference("Package", "package_reference")
    events: NullableList[WireTrackingEvent] = Field(default_factory=list)
    legs: NullableList[WireTrackedLeg] = Field(default_factory=list)

    @property
    def has_timeline(self) -> bool:
        """True when the reply named `Events` or `Legs` (null counts: nothing scanned yet)."""
        return bool({"events", "legs"} & self.model_fields_set)


class TrackingResponse(WireModel):
    consignment_reference: str | None = _all_legs_reference("Consignment", "consignment_reference")
    tracked_packages: NullableList[WireTrackedPackage] = Field(default_factory=list)


TRACKING = TypeAdapter(TrackingResponse)


def tracking_events(response: TrackingResponse) -> tuple[TrackingEvent, ...]:
    """Every package's events (every leg's, too) as one timeline, oldest first.

    A consignment's packages usually travel together, so the same scan shows up once per
    package: it is kept once. Events without a time or a description say nothing an agent
    can pass on, and are dropped. Packages with neither `Events` nor `Legs` are an
    `UnexpectedResponse`.
    """
    packages = response.tracked_packages
    if packages and not any(package.has_timeline for package in packages):
        raise UnexpectedResponse(
            f"tracking came back with {len(packages)} package(s) but neither Events nor Legs"
        )
    seen: dict[tuple[object, str, str | None], TrackingEvent] = {}
    for package in packages:
        scans = list(package.events)
        for leg in package.legs:
            scans.extend(leg.events)
        for event in scans:
            description = (event.description or event.code or "").strip()
            if event.time_stamp is None or not description:
                continue
            location = (event.location or "").strip() or None
            key = (event.time_stamp, description, location)
            seen.setdefault(
                key,
                TrackingEvent(
                    at=event.time_stamp,
                    description=description,
                    location=location,
                    signed_by=(event.signed_by or "").strip() or None,
                ),
            )
    return tuple(sorted(seen.values(), key=lambda e: e.at))
