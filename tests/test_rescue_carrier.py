"""Consignments made elsewhere, client against sandbox over HTTP: search (filters, paging,
the wrapper), the full record, set not ready to ship, deallocate, and the update that is a
full replace (nothing but the destination changes)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.carrier import errors
from bot.carrier.client import CarrierClient
from bot.carrier_states import ConsignmentState
from bot.models import Recipient
from bot.sandbox.seed import FAILED_MESSAGE
from bot.sandbox.server import RunningSandbox
from tests.factories import carrier_clients

KEY = "rescue-key"


SANDBOX_SEED = 11  # for conftest's module-wide `shared_sandbox`
SANDBOX_SEED_ORDERS = 8


@pytest.fixture
def sandbox(fresh_sandbox: RunningSandbox) -> RunningSandbox:
    return fresh_sandbox  # the seeds are made again on reset


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[CarrierClient]:
    with carrier_clients(sandbox.url, KEY, read_timeout=2.0, backoff=0.01) as make:
        yield make()


def raw(sandbox: RunningSandbox, path: str) -> httpx.Response:
    return httpx.get(sandbox.url + path, headers={"ocp-apim-subscription-key": KEY})


def test_search_by_order_number_is_exact_and_lists_every_state(client: CarrierClient) -> None:
    found = client.search_consignments({"referenceProvidedByCustomer": "100240"})
    assert sorted(f.state for f in found) == [
        ConsignmentState.ALLOCATED,
        ConsignmentState.CANCELLED,
    ]
    assert {f.order_number for f in found} == {"100240"}
    assert all(f.source == "Api" and f.town and f.postcode and f.created_at for f in found)
    assert client.search_consignments({"referenceProvidedByCustomer": "10024"}) == ()
    failed = client.search_consignments({"referenceProvidedByCustomer": "100236"})
    assert [(f.state, f.failure) for f in failed] == [
        (ConsignmentState.ALLOCATION_FAILED, FAILED_MESSAGE)
    ]


def test_search_wire_shape_filters_and_paging(
    sandbox: RunningSandbox, client: CarrierClient
) -> None:
    body = raw(sandbox, "/consignments/2/0?State=Allocated").json()
    assert set(body) == {"Count", "ConsignmentSummaries"}
    assert body["Count"] == 4 and len(body["ConsignmentSummaries"]) == 2
    row = body["ConsignmentSummaries"][0]
    assert row["State"] == "Allocated" and "ConsignmentState" not in row
    assert "TrackingReferences" not in row and row["ApiLink"]["Rel"] == "detail"
    second = raw(sandbox, "/consignments/2/2?state=Allocated").json()["ConsignmentSummaries"]
    assert {r["Reference"] for r in second}.isdisjoint(
        r["Reference"] for r in body["ConsignmentSummaries"]
    )
    # Paging through the client: pages of 50 until a short one.
    assert len(client.search_consignments({"State": "Allocated"}, limit=3)) == 3
    by_postcode = client.search_consignments({"postCode": "ls16th"})
    assert by_postcode and all(f.postcode == "LS1 6TH" for f in by_postcode)


def test_search_by_reference_and_tracking_number(client: CarrierClient) -> None:
    (first,) = client.search_consignments({"referenceProvidedByCustomer": "100234"})
    detail = client.get_consignment_detail(first.reference)
    assert detail.tracking_numbers
    by_tracking = client.search_consignments({"trackingReference": detail.tracking_numbers[0]})
    assert [f.reference for f in by_tracking] == [first.reference]
    assert [f.reference for f in client.search_consignments({"reference": first.reference})] == [
        first.reference
    ]


def test_full_record_for_the_card(client: CarrierClient) -> None:
    (found,) = client.search_consignments({"referenceProvidedByCustomer": "100234"})
    detail = client.get_consignment_detail(found.reference)
    assert detail.state is ConsignmentState.ALLOCATED and detail.source == "Api"
    assert detail.recipient is not None and detail.recipient.name == "Rita Customer"
    assert detail.request is not None and detail.request.order_number == "100234"
    assert detail.request.parcel_count == 1 and detail.service_name and detail.price


def test_ready_to_ship_must_be_set_back_before_deallocating(client: CarrierClient) -> None:
    (found,) = client.search_consignments({"referenceProvidedByCustomer": "100235"})
    assert found.state is ConsignmentState.READY_TO_SHIP
    with pytest.raises(errors.InvalidRequest):
        client.deallocate(found.reference)
    client.set_not_ready_to_ship(found.reference)
    assert client.get_consignment(found.reference).state is ConsignmentState.ALLOCATED
    with pytest.raises(errors.InvalidRequest, match="only ReadyToShip"):
        client.set_not_ready_to_ship(found.reference)  # IsSuccess false is a refusal
    client.deallocate(found.reference)
    after = client.get_consignment_detail(found.reference)
    assert after.state is ConsignmentState.UNALLOCATED and not after.tracking_numbers


def test_quotes_while_allocated_stay_good_after_deallocation(client: CarrierClient) -> None:
    (found,) = client.search_consignments({"referenceProvidedByCustomer": "100234"})
    before = client.get_consignment_detail(found.reference)
    quotes = client.get_quotes(found.reference).quotes
    other = next(q for q in quotes if q.service_name != before.service_name)
    with pytest.raises(errors.InvalidRequest):
        client.allocate_with_quote(other)  # still allocated: deallocate first
    client.deallocate(found.reference)
    allocation = client.allocate_with_quote(other)
    assert allocation.service_name == other.service_name
    assert set(allocation.tracking_numbers).isdisjoint(before.tracking_numbers)


def test_update_is_a_full_replace_that_keeps_every_other_field(
    sandbox: RunningSandbox, client: CarrierClient
) -> None:
    (found,) = client.search_consignments({"referenceProvidedByCustomer": "100237"})
    before = raw(sandbox, f"/consignments/{found.reference}").json()
    fixed = Recipient(
        name="Owen Jones",
        email="owen@example.com",
        phone="07700 900123",
        line1="10 Castle Street",
        town="Cardiff",
        postcode="CF10 1BX",
        country="GB",
    )
    client.update_destination(found.reference, fixed)
    after = raw(sandbox, f"/consignments/{found.reference}").json()
    destination = next(a for a in after["Addresses"] if a["AddressType"] == "Destination")
    assert (destination["AddressLine1"], destination["Postcode"]) == (
        "10 Castle Street",
        "CF10 1BX",
    )
    for kept in ("ConsignmentReferenceProvidedByCustomer", "MetaData", "Tags", "Source"):
        assert after[kept] == before[kept], kept
    assert [p["Reference"] for p in after["Packages"]] == [
        p["Reference"] for p in before["Packages"]
    ]
    assert after["Addresses"][0] == before["Addresses"][0]  # the origin


def test_update_refused_once_allocated_and_single_address_route(
    sandbox: RunningSandbox, client: CarrierClient
) -> None:
    (allocated,) = client.search_consignments({"referenceProvidedByCustomer": "100234"})
    detail = client.get_consignment_detail(allocated.reference)
    assert detail.recipient is not None
    with pytest.raises(errors.InvalidRequest, match="deallocate it first"):
        client.update_destination(allocated.reference, detail.recipient)
    (unallocated,) = client.search_consignments({"referenceProvidedByCustomer": "100237"})
    moved = detail.recipient.model_copy(update={"postcode": "LS2 7EY"})
    client.update_address(unallocated.reference, moved)
    assert client.get_consignment_detail(unallocated.reference).postcode == "LS2 7EY"


def test_a_lost_deallocate_reply_is_settled_by_reading(
    sandbox: RunningSandbox, client: CarrierClient
) -> None:
    (found,) = client.search_consignments({"referenceProvidedByCustomer": "100234"})
    sandbox.arm_fault("/deallocate$", "timeout", seconds=2)
    with (
        carrier_clients(sandbox.url, KEY, read_timeout=0.3) as make,
        pytest.raises(errors.OutcomeUnknown),
    ):
        make().deallocate(found.reference)
    assert client.get_consignment(found.reference).state is ConsignmentState.UNALLOCATED
