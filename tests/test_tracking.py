"""Get Tracking: the client against the sandbox over HTTP, and the words built from it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from blocks.tracking import customer_update, tracking_url
from bot.carrier.client import CarrierClient
from bot.carrier.tracking import TRACKING, tracking_events
from bot.carrier_states import ConsignmentState, TrackingEvent
from bot.models import Money, Recipient, ShipmentRequest
from bot.sandbox.server import SANDBOX_SHIPPING_LOCATION, RunningSandbox
from tests.factories import client_at, parcel

STEP = 600.0  # the sandbox's default tracking step, in seconds
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[CarrierClient]:
    with client_at(sandbox.url, "test-key", read_timeout=2.0) as carrier:
        yield carrier


def _request() -> ShipmentRequest:
    return ShipmentRequest(
        shipper_reference="TRACK-1",
        recipient=Recipient(
            name="Ann Other", line1="1 High Street", town="Leeds", postcode="LS1 4AP", country="GB"
        ),
        parcel=parcel(1, 20, 10, 5),
        parcel_count=2,
        value=Money(amount=Decimal(20)),
        contents="Socks",
    )


def test_scans_follow_the_sandbox_clock_in_step_with_get_consignment(
    client: CarrierClient, sandbox: RunningSandbox
) -> None:
    reference = client.create_consignment(_request(), SANDBOX_SHIPPING_LOCATION)
    assert client.get_tracking(reference) == ()  # nothing to scan before allocation
    quote = client.get_quotes(reference).quotes[0]
    carrier = quote.carrier_name
    client.allocate_with_quote(quote)
    [booked] = client.get_tracking(reference)  # two packages, one timeline
    assert carrier in booked.description
    client.manifest_from_query([SANDBOX_SHIPPING_LOCATION])
    expected = {
        0: ("Manifested", f"Ready for collection by {carrier}"),
        1: ("InTransit", f"Collected by {carrier}"),
        2: ("OutForDelivery", "Out for delivery"),
        3: ("Delivered", "Delivered"),
    }
    for steps, (state, latest) in expected.items():
        if steps:
            sandbox.advance_clock(STEP)
        events = client.get_tracking(reference)
        assert client.get_consignment(reference).raw_state == state
        assert len(events) == 2 + steps and events[-1].description == latest
        assert [e.at for e in events] == sorted(e.at for e in events)
    assert events[-1].location == "Leeds delivery office"
    # The flattened route is preferred, and the sandbox has it: the per-leg one is not needed.
    assert sandbox.count("GET", rf"^/tracking/flattened/{reference}$") == 6
    assert sandbox.count("GET", rf"^/tracking/{reference}$") == 0


def test_unknown_consignment_is_tracking_not_available(
    client: CarrierClient, sandbox: RunningSandbox
) -> None:
    assert client.get_tracking("EC-000-000-000") == ()  # 404 on both routes: not an error
    assert sandbox.count("GET", r"^/tracking/flattened/EC-000-000-000$") == 1
    assert sandbox.count("GET", r"^/tracking/EC-000-000-000$") == 1


def test_the_wire_tolerates_nulls_and_drops_empty_scans() -> None:
    body = b"""{"ConsignmentReferenceForAllLegsAssignedByMpd": "EC-1", "TrackedPackages": [
        {"PackageReferenceForAllLegsAssignedByMpd": "EP-1", "Events": null},
        {"Reference": "EP-2", "Events": [
            {"TimeStamp": "2026-11-26T09:00:00.1234567+00:00", "Description": "Collected",
             "SignedBy": "A. PERSON", "Location": " "},
            {"TimeStamp": null, "Description": "No time"},
            {"TimeStamp": "2026-11-26T08:00:00", "Code": "MANIFESTED", "Description": ""}]}]}"""
    events = tracking_events(TRACKING.validate_json(body))
    assert [(e.description, e.location) for e in events] == [
        ("MANIFESTED", None),
        ("Collected", None),
    ]
    assert events[0].at.tzinfo is not None


def test_tracking_links_per_carrier() -> None:
    assert tracking_url("ROYAL_MAIL", "TT123456785GB") == (
        "https://www.royalmail.com/track-your-item#/tracking-results/TT123456785GB"
    )
    assert tracking_url("DPD", "15501234567890") == "https://track.dpd.co.uk/parcels/15501234567890"
    assert tracking_url("HERMES", "H1") == tracking_url("EVRI", "H1")
    assert tracking_url("DHL_EXPRESS", "123") and "tracking-id=123" in (
        tracking_url("DHL_EXPRESS", "123") or ""
    )
    assert tracking_url("DPD", "a/b?c") == "https://track.dpd.co.uk/parcels/a%2Fb%3Fc"
    assert tracking_url("PIGEON_POST", "1") is None
    assert tracking_url(None, "1") is None


def test_the_customer_sentence_says_what_happened_last_and_where_to_track() -> None:
    scan = TrackingEvent(at=datetime(2026, 11, 26, 13, 5, tzinfo=UTC), description="Delivered")
    words = {
        "numbers": ("15501234567890",),
        "carrier_code": "DPD",
        "carrier": "DPD",
        "expected": "Thu 27 Nov",
        "tz": LONDON,
    }
    delivered = customer_update(
        state=ConsignmentState.DELIVERED, booked=True, events=[scan], **words
    )
    assert delivered == (
        "Your parcel was delivered on Thu 26 Nov at 13:05. "
        "Track it at https://track.dpd.co.uk/parcels/15501234567890"
    )
    booked = customer_update(state=None, booked=True, events=[], **words)
    assert booked.startswith("Your parcel is booked with DPD") and "expected Thu 27 Nov" in booked
    preparing = customer_update(
        state=ConsignmentState.UNALLOCATED, booked=False, events=[], **words
    )
    assert "tracking details follow" in preparing
    unknown_carrier = customer_update(
        **{**words, "carrier_code": "PIGEON_POST", "carrier": "Pigeons"},
        state=ConsignmentState.IN_TRANSIT,
        booked=True,
        events=[scan],
    )
    assert "collected by Pigeons" in unknown_carrier
    assert unknown_carrier.endswith("Tracking number: 15501234567890.")
