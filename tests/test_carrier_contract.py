"""Contract: CarrierClient against recorded replies in Sorted's documented shapes.

Each body in `tests/recorded/` uses the SDK's field names (one per endpoint we call); the
loopback `WireServer` serves it over real HTTP, so headers, statuses and bodies all go
through the client as they would with Sorted PRO.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.carrier import CarrierClient
from bot.carrier.customs import CustomsProfile
from bot.carrier.errors import CarrierUnavailable, UnexpectedResponse
from bot.carrier_states import ConsignmentState
from bot.models import Customs, DocumentKind, ExportReason, Money, Price, Recipient, ShipmentRequest
from tests.factories import client_at, parcel
from tests.wire_server import Reply, WireServer

RECORDED = Path(__file__).parent / "recorded"
REF = "EC-000-05B-MMA"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n%%EOF\n"


def recorded(name: str) -> Any:
    return json.loads((RECORDED / f"{name}.json").read_text())


@pytest.fixture
def client(server: WireServer) -> Iterator[CarrierClient]:
    profile = CustomsProfile.build(
        shippers_vat_number="GB123456789",
        shippers_eori="GB987654312000",
        designated_person_responsible="Pat Shipper",
    )
    with client_at(
        server.url, "key", read_timeout=2.0, clock=lambda: NOW, backoff=0.001, customs=profile
    ) as carrier:
        yield carrier


def _abroad(reason: ExportReason = ExportReason.SALE) -> ShipmentRequest:
    return ShipmentRequest(
        shipper_reference="SHIP-1",
        recipient=Recipient(
            name="Jean Dupont", line1="1 Rue de Rivoli", town="Paris", postcode="75001",
            country="FR",
        ),
        parcel=parcel("0.5", 10, 10, 10),
        value=Money(amount=Decimal("40")),
        contents="Books",
        customs=Customs(
            contents="Printed books", hs_code="490199", origin_country="GB",
            item_value=Money(amount=Decimal("40")), reason=reason,
        ),
    )  # fmt: skip


# -- Create Consignment ----------------------------------------------------------------------


def test_create_abroad_sends_sale_of_goods_and_the_brexit_fields(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply("POST", "/consignments", Reply(201, recorded("create_consignment")))

    assert client.create_consignment(_abroad(), "EDC5_Electio") == REF

    sent = server.requests[0].json()
    assert sent["CustomsDocumentation"] == {
        "ReasonForExport": "Sale",
        "CategoryType": "SaleOfGoods",  # "Sale" is not a documented value
        "DeclarationDate": "2026-11-25T00:00:00+00:00",
        "InvoiceDate": "2026-11-25T00:00:00+00:00",
        "ShippingTerms": "DAP",
        "ShippersVatNumber": "GB123456789",
        "DesignatedPersonResponsible": "Pat Shipper",
    }
    assert sent["MetaData"] == [{"KeyValue": "ShippersEORI", "StringValue": "GB987654312000"}]
    [item] = sent["Packages"][0]["Items"]
    assert item["CountryOfOrigin"] == {"IsoCode": {"TwoLetterCode": "GB"}}
    assert (item["HarmonisationCode"], item["Quantity"]) == ("490199", 1)
    assert item["Value"] == {"Amount": 40.0, "Currency": {"IsoCode": "GBP"}}


# -- Quotes ----------------------------------------------------------------------------------


def test_quotes(server: WireServer, client: CarrierClient) -> None:
    server.reply("GET", f"/quotes/consignment/{REF}", Reply(201, recorded("quotes")))

    quotes = client.get_quotes(REF)

    [quote] = quotes.quotes
    assert (quote.carrier_code, quote.carrier_name) == ("ROYAL_MAIL", "Royal Mail")
    assert (quote.service_code, quote.service_name) == (
        "MPD_RMDTPS48HNAST",
        "Tracked 48 Signed For",
    )
    assert quote.price == Price(net=Decimal(10), vat=Decimal(2), gross=Decimal(12))
    assert [u.carrier_code for u in quotes.unqualified] == ["DPD"]


# -- Allocate With Quote: an array, or one object (CONFLICT) ---------------------------------


@pytest.mark.parametrize("shape", ["array", "object"])
@pytest.mark.parametrize("status", [200, 202])
def test_allocate_reply_as_an_array_or_one_object(
    server: WireServer, client: CarrierClient, shape: str, status: int
) -> None:
    server.reply("GET", f"/quotes/consignment/{REF}", Reply(201, recorded("quotes")))
    quote = client.get_quotes(REF).quotes[0]
    body = recorded("allocate_with_quote")
    path = f"/allocation/{REF}/allocatewithquote/{quote.reference}"
    server.reply("PUT", path, Reply(status, body if shape == "array" else body[0]))

    allocation = client.allocate_with_quote(quote)

    assert (allocation.carrier_code, allocation.carrier_name) == ("ROYAL_MAIL", "Royal Mail")
    assert allocation.service_name == "Tracked 48 Signed For"
    assert allocation.tracking_numbers == ("TT123456785GB",)


# -- Labels and customs documents ------------------------------------------------------------


def test_label(server: WireServer, client: CarrierClient) -> None:
    server.reply("GET", f"/labels/{REF}/pdf", Reply(200, recorded("label_pdf")))

    label = client.get_label(REF)

    assert (label.kind, label.content_type, label.data) == (
        DocumentKind.LABEL,
        "application/pdf",
        PDF,
    )


def test_customs_documents_with_a_null_list_and_cn23(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply("GET", f"/consignments/docs/{REF}", Reply(200, recorded("customs_documents")))

    documents = client.get_customs_documents(REF)

    assert [(d.kind, d.name) for d in documents] == [
        (DocumentKind.CN23, f"{REF}-cn23.pdf"),
        (DocumentKind.COMMERCIAL_INVOICE, f"{REF}-commercial-invoice.pdf"),
    ]
    assert all(d.data == PDF for d in documents)


# -- Manifest --------------------------------------------------------------------------------


def test_manifest_from_query(server: WireServer, client: CarrierClient) -> None:
    body = recorded("manifest_from_query")
    server.reply("POST", "/consignments/manifestFromQuery", Reply(200, body))

    result = client.manifest_from_query(["EDC5_Electio"])

    assert result.message.startswith("Query found 3 consignment(s).")
    assert result.failed == ("EC-000-05D-EKV",)


# -- Get Consignment: the SDK's Allocation, carrier and tracking from the legs ---------------


def test_get_consignment_reads_the_sdk_allocation(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply("GET", f"/consignments/{REF}", Reply(200, recorded("consignment_allocated")))

    status = client.get_consignment(REF)

    assert status.state is ConsignmentState.ALLOCATED
    assert (status.carrier_code, status.carrier_name) == ("ROYAL_MAIL", "Royal Mail")
    assert (status.service_code, status.service_name) == (
        "MPD_RMDTPS48HNAST",
        "Tracked 48 Signed For",
    )
    assert status.allocated_at == datetime(2026, 11, 25, 12, 1, 2, 123456, tzinfo=UTC)
    assert status.price == Price(net=Decimal(10), vat=Decimal(2), gross=Decimal(12))
    assert status.tracking_numbers == ("TT123456785GB",)
    assert status.shipper_reference == "SHIP-1"


def test_get_consignment_accepts_allocate_date_and_a_partial_price(
    server: WireServer, client: CarrierClient
) -> None:
    body = recorded("consignment_allocated")
    allocation = body["Allocation"]
    allocation["AllocateDate"] = allocation.pop("AllocationDate")  # the PHP client's spelling
    allocation["Price"] = {"Net": 10.0, "VatAmount": 2.0, "Currency": {"IsoCode": "GBP"}}
    server.reply("GET", f"/consignments/{REF}", Reply(200, body))

    status = client.get_consignment(REF)

    assert status.allocated_at == datetime(2026, 11, 25, 12, 1, 2, 123456, tzinfo=UTC)
    assert status.price == Price(net=Decimal(10), vat=Decimal(2), gross=Decimal(12))


def test_get_consignment_before_allocation(server: WireServer, client: CarrierClient) -> None:
    body = recorded("consignment_allocated")
    body.update(ConsignmentState="Unallocated", Allocation=None, ConsignmentLegs=[])
    body["Packages"][0]["ConsignmentLegs"] = []
    server.reply("GET", f"/consignments/{REF}", Reply(200, body))

    status = client.get_consignment(REF)

    assert status.state is ConsignmentState.UNALLOCATED
    assert (status.service_name, status.service_code, status.price) == (None, None, None)
    assert (status.carrier_code, status.allocated_at, status.tracking_numbers) == (None, None, ())


# -- Cancel and Deallocate: 200 with no body -------------------------------------------------


@pytest.mark.parametrize("action", ["cancel", "deallocate"])
@pytest.mark.parametrize(
    "reply",
    [Reply(200), Reply(201), Reply(204), Reply(200, {"IsSuccess": True, "Message": "ok"})],
    ids=["200-no-body", "201-no-body", "204", "200-with-body"],
)
def test_cancel_and_deallocate_take_any_2xx(
    server: WireServer, client: CarrierClient, action: str, reply: Reply
) -> None:
    server.reply("PUT", f"/consignments/{REF}/{action}", reply)

    assert getattr(client, action)(REF) is None
    assert len(server.requests) == 1


# -- Tracking: both routes -------------------------------------------------------------------

FLATTENED = f"/tracking/flattened/{REF}"
PER_LEG = f"/tracking/{REF}"
EXPECTED = [
    ("Collected by Royal Mail", "Manchester"),
    ("Delivered", "Paris"),
]


def test_tracking_prefers_the_flattened_route(server: WireServer, client: CarrierClient) -> None:
    server.reply("GET", FLATTENED, Reply(200, recorded("tracking_flattened")))

    events = client.get_tracking(REF)

    assert [(e.description, e.location) for e in events] == EXPECTED
    assert [r.path for r in server.requests] == [FLATTENED]


@pytest.mark.parametrize("missing", [404, 403])
def test_tracking_falls_back_to_the_per_leg_route_and_stays_there(
    server: WireServer, client: CarrierClient, missing: int
) -> None:
    server.reply("GET", FLATTENED, Reply(missing, {"statusCode": missing, "message": "no"}))
    server.reply("GET", PER_LEG, Reply(200, recorded("tracking")))

    first = client.get_tracking(REF)
    second = client.get_tracking(REF)

    assert (
        [(e.description, e.location) for e in first]
        == EXPECTED
        == [(e.description, e.location) for e in second]
    )
    assert first[1].at == datetime(2026, 11, 28, 9, 14, 0, 139857, tzinfo=UTC)
    assert [r.path for r in server.requests] == [FLATTENED, PER_LEG, PER_LEG]


def test_either_shape_is_read_from_either_route(server: WireServer, client: CarrierClient) -> None:
    server.reply("GET", FLATTENED, Reply(200, recorded("tracking")))  # legs where flat expected

    assert [(e.description, e.location) for e in client.get_tracking(REF)] == EXPECTED


@pytest.mark.parametrize("status", [404, 403])
def test_tracking_not_available_is_no_events_not_an_error(
    server: WireServer, client: CarrierClient, status: int
) -> None:
    server.reply("GET", FLATTENED, Reply(status))
    server.reply("GET", PER_LEG, Reply(status, {"Code": "NotFound", "Message": "no tracking"}))

    assert client.get_tracking(REF) == ()


def test_packages_with_neither_events_nor_legs_are_unexpected(
    server: WireServer, client: CarrierClient
) -> None:
    body = copy.deepcopy(recorded("tracking_flattened"))
    del body["TrackedPackages"][0]["Events"]
    body["TrackedPackages"][0]["Scans"] = []  # a shape we do not know
    server.reply("GET", FLATTENED, Reply(200, body))

    with pytest.raises(UnexpectedResponse, match="neither Events nor Legs"):
        client.get_tracking(REF)


def test_no_packages_yet_is_simply_no_events(server: WireServer, client: CarrierClient) -> None:
    body = {"ConsignmentReferenceForAllLegsAssignedByMpd": REF, "TrackedPackages": []}
    server.reply("GET", FLATTENED, Reply(200, body))

    assert client.get_tracking(REF) == ()


def test_a_failing_tracking_route_is_not_taken_for_a_missing_one(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply("GET", FLATTENED, Reply(500, {"Code": "Boom", "Message": "down"}))

    with pytest.raises(CarrierUnavailable):
        client.get_tracking(REF)
    assert {r.path for r in server.requests} == {FLATTENED}
