"""The sandbox carrier over real HTTP with plain httpx: the wire, refusals, documents, faults."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from bot.sandbox import ERROR_CODES, SANDBOX_SHIPPING_LOCATION, SandboxConfig, start_sandbox
from bot.sandbox.server import RunningSandbox

KEY_NAME = "ocp-apim-subscription-key"
KEY = {KEY_NAME: "test-key", "electio-api-version": "1.1"}
CONSIGNMENT_REF = re.compile(r"^EC-[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}$")
PACKAGE_REF = re.compile(r"^EP-[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}$")
DAY = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00$")
PRECISE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$")
PENNY = Decimal("0.01")
OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
# A form's reason -> the documented CategoryType (a sale is SaleOfGoods).
CATEGORY_TYPES = {"Sale": "SaleOfGoods", "Sample": "CommercialSample", "Return": "ReturnedGoods"}


SANDBOX_SEED = 1  # for conftest's module-wide `shared_sandbox`


@pytest.fixture
def sandbox(fresh_sandbox: RunningSandbox) -> RunningSandbox:
    return fresh_sandbox


@pytest.fixture
def client(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers=KEY, timeout=10) as http:
        yield http


def package(
    weight: float = 1.2,
    dims: tuple[float, float, float] = (30, 20, 10),
    *,
    value: float | None = 40,
    weight_unit: str = "Kg",
    dims_unit: str = "Cm",
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Weight": {"Value": weight, "Unit": weight_unit},
        "Dimensions": {"Unit": dims_unit, "Length": dims[0], "Width": dims[1], "Height": dims[2]},
        "Description": "Socks",
    }
    if value is not None:
        body["Value"] = {"Amount": value, "Currency": {"IsoCode": "GBP"}}
    if items is not None:
        body["Items"] = items
    return body


def consignment(
    *,
    country: str = "GB",
    postcode: str = "M1 1AA",
    packages: list[dict[str, Any]] | None = None,
    reason: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ConsignmentReferenceProvidedByCustomer": "ORDER-1001",
        "Source": "Api",
        "Direction": "Outbound",
        "Packages": packages if packages is not None else [package()],
        "Addresses": [
            {"AddressType": "Origin", "ShippingLocationReference": SANDBOX_SHIPPING_LOCATION},
            {
                "AddressType": "Destination",
                "Contact": {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"},
                "AddressLine1": "12 Analytical Row",
                "Town": "Elsewhere",
                "Postcode": postcode,
                "Country": {"IsoCode": {"TwoLetterCode": country}},
            },
        ],
        **extra,
    }
    if reason is not None:
        body["CustomsDocumentation"] = {
            "ReasonForExport": reason,
            "CategoryType": CATEGORY_TYPES.get(reason, reason),
            "DesignatedPersonResponsible": "Grace Hopper",
        }
    return body


def create(client: httpx.Client, body: dict[str, Any] | None = None) -> str:
    response = client.post("/consignments", json=body or consignment())
    assert response.status_code == 201, response.text
    return str(response.json()[0]["Href"].rsplit("/", 1)[1])


def quotes(client: httpx.Client, reference: str) -> dict[str, Any]:
    response = client.get(f"/quotes/consignment/{reference}")
    assert response.status_code == 201, response.text
    return dict(json.loads(response.text, parse_float=Decimal))


def allocate(client: httpx.Client, reference: str, quote: str | None = None) -> httpx.Response:
    quote = quote or quotes(client, reference)["Quotes"][0]["QuoteReference"]
    return client.put(f"/allocation/{reference}/allocatewithquote/{quote}")


def allocated(client: httpx.Client, body: dict[str, Any] | None = None) -> tuple[str, list[str]]:
    reference = create(client, body)
    response = allocate(client, reference)
    assert response.status_code == 200, response.text
    return reference, response.json()[0]["ConsignmentLegs"][0]["TrackingReferences"]


def state_of(client: httpx.Client, reference: str) -> str:
    response = client.get(f"/consignments/{reference}")
    assert response.status_code == 200, response.text
    return str(response.json()["ConsignmentState"])


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["Code"] == code, body
    assert code in ERROR_CODES
    assert set(body) == {"Code", "Message", "CorrelationId", "Details"}
    assert uuid.UUID(body["CorrelationId"])
    assert body["Message"]
    return dict(body)


def pdf_pages(data: str) -> list[str]:
    raw = base64.b64decode(data)
    assert raw.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(raw)).pages]


def manifest(client: httpx.Client, method: str = "POST", **query: Any) -> httpx.Response:
    body = {"ShippingLocationReferences": [SANDBOX_SHIPPING_LOCATION], "States": ["Allocated"]}
    return client.request(method, "/consignments/manifestFromQuery", json=body | query)


# -- the five steps on the wire ---------------------------------------------------------------


def test_five_steps_and_get_consignment(client: httpx.Client, sandbox: RunningSandbox) -> None:
    body = consignment(packages=[package(), package(weight=2.5)])
    created = client.post("/consignments", json=body)
    assert created.status_code == 201
    [link] = created.json()
    assert link["Rel"] == "Link"
    reference = link["Href"].rsplit("/", 1)[1]
    assert link["Href"] == f"{sandbox.url}/consignments/{reference}"
    assert CONSIGNMENT_REF.match(reference)
    assert state_of(client, reference) == "Unallocated"

    offer = quotes(client, reference)
    assert set(offer) == {"QuoteRequestReference", "Quotes", "Message", "UnqualifiedServices"}
    assert uuid.UUID(offer["QuoteRequestReference"])
    quote = offer["Quotes"][0]

    allocation = client.put(f"/allocation/{reference}/allocatewithquote/{quote['QuoteReference']}")
    assert allocation.status_code == 200
    [summary] = allocation.json()
    assert summary["StatusCode"] == 200
    assert summary["ApiLinks"] == [
        {"Rel": "detail", "Href": f"{sandbox.url}/consignments/{reference}"},
        {"Rel": "label", "Href": f"{sandbox.url}/labels/{reference}"},
    ]
    assert summary["Description"].startswith(f"Consignment {reference} has been successfully")
    assert summary["CarrierReference"] == quote["CarrierReference"]
    assert summary["CarrierServiceReference"] == quote["MpdCarrierServiceReference"]
    assert summary["CarrierServiceName"] == quote["MpdCarrierService"]
    [leg] = summary["ConsignmentLegs"]
    assert set(leg) == {
        "Leg",
        "TrackingReferences",
        "CarrierReference",
        "CarrierServiceReference",
        "CarrierName",
    }
    tracking = leg["TrackingReferences"]
    assert len(tracking) == 2 and len(set(tracking)) == 2

    label = client.get(f"/labels/{reference}/PDF")
    assert label.status_code == 200
    assert label.json()["ContentType"] == "application/pdf"
    pages = pdf_pages(label.json()["File"])
    assert len(pages) == 2
    for number, text in zip(tracking, pages, strict=True):
        assert number in text
        assert "Ada Lovelace" in text and "M1 1AA" in text and "Shipbot Sandbox DC" in text
        assert quote["MpdCarrierService"] in text

    docs = client.get(f"/consignments/docs/{reference}")
    assert docs.status_code == 200
    assert docs.json() == {
        "CommercialInvoiceDocuments": [],
        "CN22Documents": [],
        "CN23Documents": [],
    }

    manifested = manifest(client)
    assert manifested.status_code == 200
    assert manifested.json() == {
        "Message": "Query found 1 consignment(s). 1 successfully queued to manifest. "
        "0 failed to be added to the queue",
        "FailedConsignments": [],
    }

    record = client.get(f"/consignments/{reference}").json()
    assert record["Reference"] == reference
    assert record["ConsignmentState"] == "Manifested"
    assert PRECISE.match(record["DateCreated"])
    assert record["Source"] == "Api" and record["Direction"] == "Outbound"
    assert record["LabelCount"] == 2 and record["LabelsPrinted"] is True
    assert record["Weight"] == {"Value": 3.7, "Unit": "Kg"}
    assert record["Value"]["Amount"] == 80
    assert record["ConsignmentLegs"][0]["TrackingReferences"] == tracking
    # The SDK's Allocation: the service, when and at what price; no carrier fields.
    assert record["Allocation"] == {
        "CarrierServiceGroupReference": None,
        "MpdCarrierServiceGroupName": None,
        "MpdCarrierServiceReference": quote["MpdCarrierServiceReference"],
        "MpdCarrierServiceName": quote["MpdCarrierService"],
        "AllocationDate": record["Allocation"]["AllocationDate"],
        "Price": json.loads(json.dumps(quote["Price"], default=float)),
    }
    assert PRECISE.match(record["Allocation"]["AllocationDate"])
    assert record["ConsignmentReferenceProvidedByCustomer"] == "ORDER-1001"
    assert [a["AddressType"] for a in record["Addresses"]] == ["Origin", "Destination"]
    assert record["Addresses"][0]["Postcode"] == "M1 5WG"
    assert [PACKAGE_REF.match(p["Reference"]) is not None for p in record["Packages"]] == [True] * 2
    assert record["Packages"][1]["ConsignmentLegs"][0]["TrackingReferences"] == [tracking[1]]
    assert record["ShippingDate"] == quote["CollectionDate"]
    assert record["EarliestDeliveryDate"] == quote["EarliestDeliveryDate"]
    assert record["LatestDeliveryDate"] == quote["LatestDeliveryDate"]
    # nulls are explicit, not omitted
    for name in ("DateDelivered", "FailedAllocation", "DateReturned", "RequestedDeliveryDate"):
        assert name in record and record[name] is None


def test_unallocated_consignment_has_explicit_nulls(client: httpx.Client) -> None:
    record = client.get(f"/consignments/{create(client)}").json()
    assert record["ConsignmentState"] == "Unallocated"
    assert record["Allocation"] is None
    assert record["ConsignmentLegs"] == []
    assert record["LabelCount"] == 0 and record["LabelsPrinted"] is False
    assert record["EarliestDeliveryDate"] is None and record["LatestDeliveryDate"] is None
    assert record["Packages"][0]["ConsignmentLegs"] == []


def test_manifest_accepts_put_as_well_as_post(client: httpx.Client) -> None:
    first, _ = allocated(client)
    second, _ = allocated(client)
    assert (
        manifest(client, "PUT", States=["allocated"])
        .json()["Message"]
        .startswith("Query found 2 consignment(s). 2 successfully")
    )
    assert state_of(client, first) == state_of(client, second) == "Manifested"
    assert manifest(client).json()["Message"].startswith("Query found 0 consignment(s).")


def test_quote_has_the_documented_shape(client: httpx.Client) -> None:
    reference = create(client)
    offer = quotes(client, reference)
    quote = offer["Quotes"][0]
    assert set(quote) >= {
        "MpdCarrierServiceSource", "MpdCarrierService", "MpdCarrierServiceReference",
        "CarrierReference", "OriginAddress", "DestinationAddress", "CollectionDate",
        "EarliestDeliveryDate", "LatestDeliveryDate", "BasePrice", "Price", "Surcharges",
        "Legs", "CarrierAccountOwner", "IsElectioService", "QuoteReference", "CreationDate",
        "ExpiryDate", "Requestor", "ConsignmentReference",
        "ConsignmentReferenceProvidedByCustomer",
    }  # fmt: skip
    assert uuid.UUID(quote["QuoteReference"])
    assert quote["ConsignmentReference"] == reference
    assert quote["ConsignmentReferenceProvidedByCustomer"] == "ORDER-1001"
    assert (
        quote["MpdCarrierServiceReference"]
        == f"MPD_{quote['Legs'][0]['CarrierService']['Reference']}"
    )
    assert DAY.match(quote["CollectionDate"]) and DAY.match(quote["EarliestDeliveryDate"])
    assert quote["LatestDeliveryDate"].endswith("T23:59:00")
    assert PRECISE.match(quote["CreationDate"]) and OFFSET.match(quote["ExpiryDate"])
    expiry = datetime.fromisoformat(quote["ExpiryDate"])
    created = datetime.fromisoformat(quote["CreationDate"][:26] + "+00:00")
    assert timedelta(minutes=14) < expiry - created <= timedelta(minutes=15)
    price = quote["Price"]
    assert set(price) == {"Net", "Gross", "VatRate", "VatAmount", "Currency"}
    assert price["VatRate"] == {
        "Reference": "GB-0.2000",
        "CountryIsoCode": "GB",
        "Type": "Standard",
        "Rate": Decimal("0.2"),
    }
    assert price["Currency"] == {"Name": "Pound Sterling", "IsoCode": "GBP"}
    [leg] = quote["Legs"]
    assert leg["JourneyStage"] == 1
    assert set(leg["CarrierService"]) >= {"Reference", "Name", "CarrierReference", "CarrierName"}
    assert leg["CarrierService"]["CarrierReference"] == quote["CarrierReference"]
    assert leg["CarrierAccountReference"]
    assert quote["OriginAddress"]["ShippingLocationReference"] == SANDBOX_SHIPPING_LOCATION
    assert quote["OriginAddress"]["Country"]["IsoCode"]["ThreeLetterCode"] == "GBR"
    assert quote["DestinationAddress"]["Postcode"] == "M1 1AA"
    for unqualified in offer["UnqualifiedServices"]:
        assert set(unqualified) == {
            "Available", "Rates", "MpdCarrierService", "MpdCarrierServiceReference",
            "CarrierReference", "ExclusionReason",
        }  # fmt: skip
    services = {q["MpdCarrierService"] for q in offer["Quotes"]}
    assert {"Royal Mail Tracked 24", "Royal Mail Tracked 48", "DPD Next Day"} <= services
    assert {"DPD Classic", "Evri Standard"} <= services
    assert len({q["CarrierReference"] for q in offer["Quotes"]}) >= 3


# -- carriers and prices ------------------------------------------------------------------------


def _by_service(offer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["MpdCarrierService"]: q for q in offer["Quotes"]}


def _reasons(offer: dict[str, Any]) -> dict[str, str]:
    return {u["MpdCarrierService"]: u["ExclusionReason"] for u in offer["UnqualifiedServices"]}


def test_vat_adds_up_exactly_to_two_places(client: httpx.Client) -> None:
    for weight in (0.3, 1.01, 4.7, 13.33):
        offer = quotes(client, create(client, consignment(packages=[package(weight)])))
        for quote in offer["Quotes"]:
            for rate in (quote["Price"], quote["BasePrice"]):
                assert rate["Net"] + rate["VatAmount"] == rate["Gross"]
                vat = (rate["Net"] * Decimal("0.2")).quantize(PENNY, rounding=ROUND_HALF_UP)
                assert rate["VatAmount"] == vat
                for figure in (rate["Net"], rate["VatAmount"], rate["Gross"]):
                    assert figure == figure.quantize(PENNY)


def test_volumetric_weight_sets_the_price_of_a_bulky_parcel(client: httpx.Client) -> None:
    small = _by_service(
        quotes(client, create(client, consignment(packages=[package(2, (20, 20, 10))])))
    )
    # 60x50x40 cm is 24 kg volumetric, though it weighs 2 kg
    bulky = _by_service(
        quotes(client, create(client, consignment(packages=[package(2, (60, 50, 40))])))
    )
    heavy = _by_service(
        quotes(client, create(client, consignment(packages=[package(24, (20, 20, 10))])))
    )
    assert bulky["DPD Classic"]["Price"]["Net"] > small["DPD Classic"]["Price"]["Net"]
    assert bulky["DPD Classic"]["Price"] == heavy["DPD Classic"]["Price"]


def test_two_parcels_cost_twice_one(client: httpx.Client) -> None:
    one = _by_service(quotes(client, create(client, consignment(packages=[package()]))))
    two = _by_service(quotes(client, create(client, consignment(packages=[package(), package()]))))
    for name, quote in one.items():
        assert two[name]["Price"]["Net"] == 2 * quote["Price"]["Net"]


def test_highlands_and_islands(client: httpx.Client) -> None:
    mainland = _by_service(quotes(client, create(client, consignment(postcode="M1 1AA"))))
    offer = quotes(client, create(client, consignment(postcode="IV2 3AB")))
    remote = _by_service(offer)
    assert "DPD Next Day" not in remote
    assert "highlands and islands" in _reasons(offer)["DPD Next Day"]
    evri = remote["Evri Standard"]
    assert evri["BasePrice"] == mainland["Evri Standard"]["BasePrice"]
    assert evri["Price"]["Net"] > evri["BasePrice"]["Net"]
    [surcharge] = evri["Surcharges"]
    assert evri["Price"]["Net"] == evri["BasePrice"]["Net"] + surcharge["Amount"]
    # Royal Mail charges the same everywhere in the UK
    assert remote["Royal Mail Tracked 48"]["Price"] == mainland["Royal Mail Tracked 48"]["Price"]
    assert quotes(client, create(client, consignment(postcode="PA20 0AA")))["Quotes"]
    assert "DPD Next Day" in _by_service(
        quotes(client, create(client, consignment(postcode="PA1 1AA")))
    )


def test_zones_choose_the_services(client: httpx.Client) -> None:
    eu = quotes(client, create(client, consignment(country="FR", postcode="75001")))
    world = quotes(client, create(client, consignment(country="US", postcode="10001")))
    assert set(_by_service(eu)) == {
        "DPD Classic",
        "DHL Express Worldwide",
        "Royal Mail International Tracked",
    }
    assert set(_by_service(world)) == {"DHL Express Worldwide", "Royal Mail International Tracked"}
    assert (
        "not available between the selected addresses (GB to US)"
        in _reasons(world)["Evri Standard"]
    )
    assert all(u["Available"] is False for u in world["UnqualifiedServices"])
    assert (
        _by_service(world)["DHL Express Worldwide"]["Price"]["Net"]
        > _by_service(eu)["DHL Express Worldwide"]["Price"]["Net"]
    )
    domestic = _by_service(quotes(client, create(client)))
    assert "DHL Express Worldwide" not in domestic
    assert "Royal Mail International Tracked" not in domestic


def test_too_heavy_and_too_large_are_unqualified_with_reasons(client: httpx.Client) -> None:
    heavy = quotes(
        client, create(client, consignment(packages=[package(), package(25, (40, 30, 30))]))
    )
    assert set(_by_service(heavy)) == {"DPD Next Day", "DPD Classic"}
    reason = _reasons(heavy)["Royal Mail Tracked 24"]
    assert "Package 2 weighs 25 kg" in reason and "at most 20 kg" in reason
    large = quotes(client, create(client, consignment(packages=[package(5, (110, 20, 20))])))
    assert set(_by_service(large)) == {"Evri Standard"}
    assert "110 cm" in _reasons(large)["DPD Classic"]
    nothing = quotes(client, create(client, consignment(packages=[package(80, (150, 50, 50))])))
    assert nothing["Quotes"] == [] and nothing["Message"]


def test_units_are_case_insensitive_and_converted(client: httpx.Client) -> None:
    metric = quotes(client, create(client, consignment(packages=[package(2, (50.8, 25.4, 12.7))])))
    imperial_body = consignment(
        packages=[package(2 / 0.45359237, (20, 10, 5), weight_unit="LBS", dims_unit="In")]
    )
    imperial = quotes(client, create(client, imperial_body))
    assert [q["Price"] for q in imperial["Quotes"]] == [q["Price"] for q in metric["Quotes"]]
    grams = consignment(packages=[package(2000, (508, 254, 127), weight_unit="G", dims_unit="MM")])
    assert [q["Price"] for q in quotes(client, create(client, grams))["Quotes"]] == [
        q["Price"] for q in metric["Quotes"]
    ]
    shouting = consignment(
        packages=[package(2, (50.8, 25.4, 12.7), weight_unit="kG", dims_unit="CM")]
    )
    assert [q["Price"] for q in quotes(client, create(client, shouting))["Quotes"]] == [
        q["Price"] for q in metric["Quotes"]
    ]
    body = refused(
        client.post("/consignments", json=consignment(packages=[package(weight_unit="stone")])),
        400,
        "ValidationError",
    )
    assert [d["Target"] for d in body["Details"]] == ["Packages[0].Weight.Unit"]


def test_delivery_windows_skip_weekends(client: httpx.Client) -> None:
    today = date.today()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 + 7)
    offer = quotes(client, create(client, consignment(ShippingDate=f"{saturday}T09:00:00")))
    monday = saturday + timedelta(days=2)
    tuesday, thursday = monday + timedelta(days=1), monday + timedelta(days=3)
    by_service = _by_service(offer)
    for quote in offer["Quotes"]:
        assert quote["CollectionDate"] == f"{monday}T00:00:00"
        for name in ("EarliestDeliveryDate", "LatestDeliveryDate"):
            assert date.fromisoformat(quote[name][:10]).weekday() < 5
    assert by_service["Royal Mail Tracked 24"]["EarliestDeliveryDate"] == f"{tuesday}T00:00:00"
    assert by_service["Royal Mail Tracked 24"]["LatestDeliveryDate"] == f"{tuesday}T23:59:00"
    assert by_service["Royal Mail Tracked 48"]["LatestDeliveryDate"] == f"{thursday}T23:59:00"
    # a Friday collection with one working day in transit arrives on Monday
    friday = saturday - timedelta(days=1)
    friday_offer = _by_service(
        quotes(client, create(client, consignment(ShippingDate=str(friday))))
    )
    assert friday_offer["DPD Next Day"]["EarliestDeliveryDate"] == f"{monday}T00:00:00"


def test_full_origin_address_is_accepted(client: httpx.Client) -> None:
    body = consignment()
    body["Addresses"][0] = {
        "AddressType": "Origin",
        "CompanyName": "Back Office",
        "AddressLine1": "1 Market St",
        "Town": "Leeds",
        "Postcode": "LS1 1AA",
        "Country": {"IsoCode": {"TwoLetterCode": "GB"}},
    }
    reference = create(client, body)
    assert quotes(client, reference)["Quotes"][0]["OriginAddress"]["Town"] == "Leeds"
    body["Addresses"][0]["Country"] = {"IsoCode": {"TwoLetterCode": "FR"}}
    refused(client.post("/consignments", json=body), 400, "ValidationError")


# -- refusals -----------------------------------------------------------------------------------


def test_create_names_every_bad_field(client: httpx.Client) -> None:
    body = consignment(
        packages=[package(), {"Weight": {"Value": 0}, "Dimensions": {"Length": "x"}}]
    )
    del body["Addresses"][1]["Postcode"]
    body["Addresses"][1]["Country"] = {}
    problem = refused(client.post("/consignments", json=body), 400, "ValidationError")
    targets = {d["Target"] for d in problem["Details"]}
    assert targets == {
        "Packages[1].Weight.Value",
        "Packages[1].Dimensions.Length",
        "Packages[1].Dimensions.Width",
        "Packages[1].Dimensions.Height",
        "Addresses[1].Postcode",
        "Addresses[1].Country.IsoCode.TwoLetterCode",
    }
    assert all(d["Code"] and d["Message"] for d in problem["Details"])
    missing = refused(client.post("/consignments", json={}), 400, "ValidationError")
    assert {d["Target"] for d in missing["Details"]} == {"Packages", "Addresses"}
    no_origin = consignment()
    del no_origin["Addresses"][0]
    refused(client.post("/consignments", json=no_origin), 400, "ValidationError")


def test_create_refuses_unknown_location_and_bad_json(client: httpx.Client) -> None:
    body = consignment()
    body["Addresses"][0]["ShippingLocationReference"] = "NOWHERE"
    problem = refused(client.post("/consignments", json=body), 400, "UnknownShippingLocation")
    assert problem["Details"][0]["Target"] == "Addresses[0].ShippingLocationReference"
    refused(client.post("/consignments", content=b"{nope"), 400, "MalformedBody")
    refused(client.post("/consignments", json=[1, 2]), 400, "MalformedBody")


def test_unknown_consignment_is_404_everywhere(client: httpx.Client) -> None:
    ghost = "EC-000-000-000"
    quote = str(uuid.uuid4())
    for method, path in [
        ("GET", f"/consignments/{ghost}"),
        ("GET", f"/quotes/consignment/{ghost}"),
        ("PUT", f"/allocation/{ghost}/allocatewithquote/{quote}"),
        ("GET", f"/labels/{ghost}"),
        ("GET", f"/labels/{ghost}/ZPL"),
        ("GET", f"/consignments/docs/{ghost}"),
        ("PUT", f"/consignments/{ghost}/cancel"),
        ("PUT", f"/consignments/{ghost}/deallocate"),
    ]:
        body = refused(client.request(method, path), 404, "ConsignmentNotFound")
        assert ghost in body["Message"]


def test_allocate_refusals(client: httpx.Client, sandbox: RunningSandbox) -> None:
    reference = create(client)
    other = create(client)
    foreign = quotes(client, other)["Quotes"][0]["QuoteReference"]
    refused(allocate(client, reference, str(uuid.uuid4())), 404, "QuoteNotFound")
    refused(allocate(client, reference, "not-a-guid"), 400, "ValidationError")
    problem = refused(allocate(client, reference, foreign), 400, "QuoteNotForConsignment")
    assert other in problem["Message"]
    quote = quotes(client, reference)["Quotes"][0]["QuoteReference"]
    assert allocate(client, reference, quote).status_code == 200
    refused(allocate(client, reference, quote), 400, "AlreadyAllocated")
    # GUESS: an allocated consignment is still quoted (to ship it with another service).
    assert client.get(f"/quotes/consignment/{reference}").status_code == 201
    assert state_of(client, other) == "Unallocated"


def test_labels_refusals(client: httpx.Client) -> None:
    reference = create(client)
    refused(client.get(f"/labels/{reference}"), 404, "LabelNotFound")
    refused(client.get(f"/labels/{reference}/pdf"), 404, "LabelNotFound")
    allocate(client, reference)
    problem = refused(client.get(f"/labels/{reference}/PNG"), 400, "UnsupportedLabelFormat")
    assert "does not support PNG" in problem["Message"]
    problem = refused(client.get(f"/labels/{reference}/gif"), 400, "UnsupportedLabelFormat")
    assert "PDF, ZPL or ZPLII" in problem["Message"]
    refused(client.get(f"/labels/package/{reference}/EP-000-000-000"), 404, "PackageNotFound")
    assert client.put(f"/consignments/{reference}/cancel").status_code == 200
    refused(client.get(f"/labels/{reference}/pdf"), 404, "LabelNotFound")


def test_manifest_refusals(client: httpx.Client) -> None:
    reference, _ = allocated(client)
    problem = refused(manifest(client, States=["Allocated", "Unallocated"]), 400, "InvalidState")
    assert [d["Target"] for d in problem["Details"]] == ["States[1]"]
    refused(manifest(client, States=["Delivered"]), 400, "InvalidState")
    refused(manifest(client, States=[]), 400, "ValidationError")
    refused(
        client.post("/consignments/manifestFromQuery", json={"Carriers": ["DPD"]}),
        400,
        "ValidationError",
    )
    refused(
        manifest(client, ShippingLocationReferences=["ELSEWHERE"]), 400, "UnknownShippingLocation"
    )
    assert state_of(client, reference) == "Allocated"


def test_manifest_query_filters(client: httpx.Client) -> None:
    reference, _ = allocated(client)
    record = client.get(f"/consignments/{reference}").json()
    carrier = record["ConsignmentLegs"][0]["CarrierReference"]
    other_carrier = "DHL" if carrier != "DHL" else "DPD"
    assert manifest(client, Carriers=[other_carrier]).json()["Message"].startswith("Query found 0")
    assert manifest(client, LabelsPrinted=True).json()["Message"].startswith("Query found 0")
    client.get(f"/labels/{reference}")
    assert (
        manifest(client, Carriers=[carrier.lower()], LabelsPrinted=True)
        .json()["Message"]
        .startswith("Query found 1")
    )


def test_cancel_and_deallocate(client: httpx.Client) -> None:
    reference, tracking = allocated(client)
    deallocated = client.put(f"/consignments/{reference}/deallocate")
    assert (deallocated.status_code, deallocated.content) == (200, b"")  # no body
    record = client.get(f"/consignments/{reference}").json()
    assert record["ConsignmentState"] == "Unallocated" and record["Allocation"] is None
    refused(client.put(f"/consignments/{reference}/deallocate"), 400, "NotAllocated")
    _, again = allocated(client)  # other consignments are unaffected
    assert set(again).isdisjoint(tracking)
    assert allocate(client, reference).status_code == 200
    cancelled = client.put(f"/consignments/{reference}/cancel")
    assert (cancelled.status_code, cancelled.content) == (200, b"")  # no body
    assert state_of(client, reference) == "Cancelled"
    refused(client.put(f"/consignments/{reference}/cancel"), 400, "InvalidState")
    refused(client.put(f"/consignments/{reference}/deallocate"), 400, "InvalidState")
    refused(client.get(f"/quotes/consignment/{reference}"), 400, "InvalidState")
    unallocated = create(client)
    assert client.put(f"/consignments/{unallocated}/cancel").status_code == 200


def test_no_cancel_after_manifest_but_deallocate_is_allowed(
    client: httpx.Client, sandbox: RunningSandbox
) -> None:
    reference, _ = allocated(client)
    manifest(client)
    refused(client.put(f"/consignments/{reference}/cancel"), 400, "InvalidState")
    refused(allocate(client, reference, str(uuid.uuid4())), 400, "InvalidState")
    # The states page: De-allocate from Allocated, Manifested and Manifest Failed.
    assert client.put(f"/consignments/{reference}/deallocate").status_code == 200
    assert state_of(client, reference) == "Unallocated"
    assert allocate(client, reference).status_code == 200  # and it can be allocated again
    # Once the carrier has it (InTransit onwards), it stays.
    moving, _ = allocated(client)
    manifest(client)
    sandbox.advance_clock(600)
    assert state_of(client, moving) == "InTransit"
    refused(client.put(f"/consignments/{moving}/deallocate"), 400, "InvalidState")


def test_customs_documents_exist_only_once_allocated(client: httpx.Client) -> None:
    body = consignment(country="FR", postcode="75001", reason="Gift")
    reference = create(client, body)
    problem = refused(
        client.get(f"/consignments/docs/{reference}"), 404, "CustomsDocumentsNotFound"
    )
    assert "once it is allocated" in problem["Message"]
    allocate(client, reference)
    assert client.get(f"/consignments/docs/{reference}").json()["CN22Documents"]
    client.put(f"/consignments/{reference}/cancel")
    refused(client.get(f"/consignments/docs/{reference}"), 404, "CustomsDocumentsNotFound")


@pytest.mark.parametrize("category", ["Sale", "Sample", 3, "Return"])
def test_category_type_must_be_a_documented_value(client: httpx.Client, category: Any) -> None:
    body = consignment(country="FR", postcode="75001", reason="Gift")
    body["CustomsDocumentation"]["CategoryType"] = category
    problem = refused(client.post("/consignments", json=body), 400, "ValidationError")
    [detail] = problem["Details"]
    assert detail["Target"] == "CustomsDocumentation.CategoryType"
    assert "SaleOfGoods" in detail["Message"]


@pytest.mark.parametrize("category", ["SaleOfGoods", "saleofgoods", "Personal", "None", "Other"])
def test_documented_category_types_are_taken(client: httpx.Client, category: str) -> None:
    body = consignment(country="FR", postcode="75001", reason="Gift")
    body["CustomsDocumentation"]["CategoryType"] = category
    assert client.post("/consignments", json=body).status_code == 201


def test_ready_to_ship_then_manifest(client: httpx.Client) -> None:
    reference, _ = allocated(client)
    unallocated = create(client)
    marked = client.put("/consignments/setreadytoship", json=[reference, unallocated]).json()
    assert [entry["IsSuccess"] for entry in marked] == [True, False]
    assert state_of(client, reference) == "ReadyToShip"
    assert manifest(client).json()["Message"].startswith("Query found 0")
    assert manifest(client, States=["ReadyToShip"]).json()["Message"].startswith("Query found 1")
    assert state_of(client, reference) == "Manifested"


def test_quotes_again_are_fresh_and_old_ones_stay_valid(client: httpx.Client) -> None:
    reference = create(client)
    first = quotes(client, reference)
    second = quotes(client, reference)
    assert first["QuoteRequestReference"] != second["QuoteRequestReference"]
    first_refs = {q["QuoteReference"] for q in first["Quotes"]}
    assert first_refs.isdisjoint({q["QuoteReference"] for q in second["Quotes"]})
    assert [q["Price"] for q in first["Quotes"]] == [q["Price"] for q in second["Quotes"]]
    assert allocate(client, reference, first["Quotes"][-1]["QuoteReference"]).status_code == 200


# -- auth ---------------------------------------------------------------------------------------


def test_missing_key_is_refused_by_the_gateway(sandbox: RunningSandbox) -> None:
    response = httpx.post(f"{sandbox.url}/consignments", json=consignment())
    assert response.status_code == 401
    assert response.json() == {
        "statusCode": 401,
        "message": "Access denied due to missing subscription key. Make sure to include "
        "subscription key when making requests to an API.",
    }
    blank = httpx.get(f"{sandbox.url}/consignments/EC-000-000-000", headers={KEY_NAME: ""})
    assert blank.status_code == 401
    any_key = httpx.get(f"{sandbox.url}/consignments/EC-000-000-000", headers={KEY_NAME: "x"})
    assert any_key.status_code == 404


def test_configured_key_refuses_others() -> None:
    with start_sandbox(SandboxConfig(api_key="s3cret")) as running:
        wrong = httpx.get(f"{running.url}/consignments/EC-000-000-000", headers={KEY_NAME: "x"})
        assert wrong.status_code == 401
        assert wrong.json() == {
            "statusCode": 401,
            "message": "Access denied due to invalid subscription key. Make sure to provide a "
            "valid key for an active subscription.",
        }
        missing = httpx.get(f"{running.url}/consignments/EC-000-000-000")
        assert "missing subscription key" in missing.json()["message"]
        right = httpx.post(
            f"{running.url}/consignments", json=consignment(), headers={KEY_NAME: "s3cret"}
        )
        assert right.status_code == 201
        assert [e["status"] for e in running.requests()] == [401, 401, 201]


def test_unknown_route_gets_the_gateway_404(client: httpx.Client) -> None:
    for method, path in [("GET", "/nothing/here"), ("DELETE", "/consignments/EC-000-000-000")]:
        response = client.request(method, path)
        assert response.status_code == 404
        assert response.json() == {"statusCode": 404, "message": "Resource not found"}


# -- documents ----------------------------------------------------------------------------------


def test_zpl_labels_one_per_package(client: httpx.Client) -> None:
    reference, tracking = allocated(client, consignment(packages=[package(), package(), package()]))
    for label_format in ("ZPL", "zplii"):
        response = client.get(f"/labels/{reference}/{label_format}")
        assert response.status_code == 200
        assert response.json()["ContentType"] == "application/zpl"
        zpl = base64.b64decode(response.json()["File"]).decode()
        assert zpl.count("^XA") == zpl.count("^XZ") == 3
        for number, block in zip(tracking, zpl.split("^XZ")[:3], strict=True):
            assert f"^BCN,170,N,N,N^FD{number}^FS" in block
            assert "Ada Lovelace" in block


def test_package_label_is_one_page(client: httpx.Client) -> None:
    reference, tracking = allocated(client, consignment(packages=[package(), package()]))
    packages = client.get(f"/consignments/{reference}").json()["Packages"]
    second = packages[1]["Reference"]
    response = client.get(f"/labels/package/{reference}/{second}/pdf")
    [page] = pdf_pages(response.json()["File"])
    assert tracking[1] in page and tracking[0] not in page
    default = client.get(f"/labels/package/{reference}/{second}")
    assert default.json()["ContentType"] == "application/pdf"


def test_default_label_format_is_pdf(client: httpx.Client) -> None:
    reference, tracking = allocated(client)
    response = client.get(f"/labels/{reference}")
    assert response.json()["ContentType"] == "application/pdf"
    [page] = pdf_pages(response.json()["File"])
    assert tracking[0] in page


def _customs(client: httpx.Client, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    reference, tracking = allocated(client, body)
    response = client.get(f"/consignments/docs/{reference}")
    assert response.status_code == 200
    return response.json(), tracking


def test_cn22_up_to_270_pounds(client: httpx.Client) -> None:
    items = [
        {
            "Description": "Wool socks",
            "Quantity": 3,
            "Value": {"Amount": 45, "Currency": {"IsoCode": "GBP"}},
            "HarmonisationCode": "6115950000",
            "CountryOfOrigin": {"IsoCode": {"TwoLetterCode": "GB"}},
        }
    ]
    body = consignment(
        country="FR",
        postcode="75001",
        packages=[package(value=None, items=items), package(value=135)],
        reason="Gift",
    )
    docs, tracking = _customs(client, body)  # 3 x 45 + 135 = 270: still a CN22
    assert docs["CN23Documents"] == [] and docs["CommercialInvoiceDocuments"] == []
    assert len(docs["CN22Documents"]) == 2
    for document, number in zip(docs["CN22Documents"], tracking, strict=True):
        assert document["Key"].startswith("CN22_EP-")
        [text] = pdf_pages(document["Value"])
        assert "CN 22" in text and number in text
    [first] = pdf_pages(docs["CN22Documents"][0]["Value"])
    assert "Wool socks" in first and "6115950000" in first and "[X] Gift" in first


def test_cn23_above_270_pounds_and_invoice_for_a_sale(client: httpx.Client) -> None:
    body = consignment(
        country="US",
        postcode="10001",
        packages=[package(value=270.01)],
        reason="Sale",
        MetaData=[{"KeyValue": "ShippersEORI", "StringValue": "GB987654312000"}],
    )
    body["CustomsDocumentation"].update(
        ShippersVatNumber="GB123456789",
        ShippingTerms="DAP",
        DeclarationDate="2026-11-24T00:00:00+00:00",
        InvoiceDate="2026-11-24T00:00:00+00:00",
    )
    docs, tracking = _customs(client, body)
    assert docs["CN22Documents"] == []
    [cn23] = docs["CN23Documents"]
    [text] = pdf_pages(cn23["Value"])
    assert "CN 23" in text and tracking[0] in text and "Ada Lovelace" in text
    [invoice] = docs["CommercialInvoiceDocuments"]
    assert invoice["Key"].startswith("INV_EC-")
    [invoice_text] = pdf_pages(invoice["Value"])
    assert "COMMERCIAL INVOICE" in invoice_text and "270.01" in invoice_text
    assert "EORI number: GB987654312000" in invoice_text
    assert "VAT number: GB123456789" in invoice_text and "Incoterms): DAP" in invoice_text
    assert "Date: 24/11/2026" in invoice_text and "[X] Sale of goods" in text


def test_same_consignment_same_pdf_bytes(client: httpx.Client) -> None:
    reference, _ = allocated(client)
    first = client.get(f"/labels/{reference}").json()["File"]
    assert client.get(f"/labels/{reference}").json()["File"] == first


# -- time ----------------------------------------------------------------------------------------


def test_clock_advance_expires_quotes(client: httpx.Client, sandbox: RunningSandbox) -> None:
    reference = create(client)
    quote = quotes(client, reference)["Quotes"][0]["QuoteReference"]
    sandbox.advance_clock(899)
    still = quotes(client, create(client))  # quotes made now live another 15 minutes
    response = client.post("/__sandbox/clock", json={"advance_seconds": 1})
    assert response.status_code == 200
    refused(allocate(client, reference, quote), 400, "QuoteExpired")
    assert state_of(client, reference) == "Unallocated"
    fresh = quotes(client, reference)["Quotes"][0]["QuoteReference"]
    assert allocate(client, reference, fresh).status_code == 200
    assert allocate(client, still["Quotes"][0]["ConsignmentReference"]).status_code == 200
    refused(client.post("/__sandbox/clock", json={"advance_seconds": -5}), 400, "ValidationError")


def test_quote_lifetime_is_settable() -> None:
    with (
        start_sandbox(SandboxConfig(quote_ttl_seconds=60)) as running,
        httpx.Client(base_url=running.url, headers=KEY) as http,
    ):
        reference = create(http)
        quote = quotes(http, reference)["Quotes"][0]
        expiry = datetime.fromisoformat(quote["ExpiryDate"])
        created = datetime.fromisoformat(quote["CreationDate"][:26] + "+00:00")
        assert timedelta(seconds=59) < expiry - created <= timedelta(seconds=60)
        running.advance_clock(61)
        refused(allocate(http, reference, quote["QuoteReference"]), 400, "QuoteExpired")


def test_tracking_moves_on_with_the_sandbox_clock(
    client: httpx.Client, sandbox: RunningSandbox
) -> None:
    reference, _ = allocated(client)
    manifest(client)
    seen = [state_of(client, reference)]
    for _ in range(4):
        sandbox.advance_clock(600)
        seen.append(state_of(client, reference))
    assert seen == ["Manifested", "InTransit", "OutForDelivery", "Delivered", "Delivered"]
    record = client.get(f"/consignments/{reference}").json()
    assert PRECISE.match(record["DateDelivered"]) and PRECISE.match(record["DateCollected"])


def test_tracking_on_both_documented_routes(client: httpx.Client) -> None:
    body = consignment(packages=[package(), package()])
    reference = create(client, body)
    before = client.get(f"/tracking/flattened/{reference}").json()
    assert [p["Events"] for p in before["TrackedPackages"]] == [[], []]
    assert [p["Legs"] for p in client.get(f"/tracking/{reference}").json()["TrackedPackages"]] == [
        [],
        [],
    ]
    allocate(client, reference)
    manifest(client)
    packages = client.get(f"/consignments/{reference}").json()["Packages"]
    service = client.get(f"/consignments/{reference}").json()["Allocation"]["MpdCarrierServiceName"]

    legs = client.get(f"/tracking/{reference}").json()
    assert legs["ConsignmentReferenceForAllLegsAssignedByMpd"] == reference
    assert [p["PackageReferenceForAllLegsAssignedByMpd"] for p in legs["TrackedPackages"]] == [
        p["Reference"] for p in packages
    ]
    for tracked in legs["TrackedPackages"]:
        assert set(tracked) == {"PackageReferenceForAllLegsAssignedByMpd", "Legs"}
        [leg] = tracked["Legs"]
        assert leg["CarrierServiceName"] == service
        assert [e["Code"] for e in leg["Events"]] == ["LABEL_CREATED", "MANIFESTED"]
        for event in leg["Events"]:
            assert set(event) == {"TimeStamp", "Code", "Description", "SignedBy", "Location"}
            assert PRECISE.match(event["TimeStamp"])

    flat = client.get(f"/tracking/flattened/{reference}").json()
    assert flat["ConsignmentReferenceForAllLegsAssignedByMpd"] == reference
    for tracked, nested in zip(flat["TrackedPackages"], legs["TrackedPackages"], strict=True):
        assert set(tracked) == {"PackageReferenceForAllLegsAssignedByMpd", "Events"}
        assert tracked["Events"] == [
            {**event, "CarrierServiceName": service} for event in nested["Legs"][0]["Events"]
        ]


# -- faults -------------------------------------------------------------------------------------


def test_status_fault_answers_without_applying(
    client: httpx.Client, sandbox: RunningSandbox
) -> None:
    reference = create(client)
    quote = quotes(client, reference)["Quotes"][0]["QuoteReference"]
    sandbox.arm_fault("^/allocation/", method="PUT", status=503, count=2)
    for _ in range(2):
        refused(allocate(client, reference, quote), 503, "InjectedFault")
    assert state_of(client, reference) == "Unallocated"
    assert allocate(client, reference, quote).status_code == 200
    assert [e["fault"] for e in sandbox.requests() if e["method"] == "PUT"] == ["status"] * 2 + [
        None
    ]


def test_429_carries_retry_after(client: httpx.Client, sandbox: RunningSandbox) -> None:
    reference = create(client)
    sandbox.arm_fault("^/quotes/", status=429, retry_after=1)
    response = client.get(f"/quotes/consignment/{reference}")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json()["statusCode"] == 429
    assert quotes(client, reference)["Quotes"]


def test_fault_matches_method_and_path(client: httpx.Client, sandbox: RunningSandbox) -> None:
    reference = create(client)
    sandbox.arm_fault(r"^/consignments/EC-[^/]+/cancel$", method="PUT", status=500)
    assert client.get(f"/consignments/{reference}").status_code == 200
    assert client.put(f"/consignments/{reference}/cancel").status_code == 500
    assert client.put(f"/consignments/{reference}/cancel").status_code == 200


def test_faults_over_http_and_clearing(client: httpx.Client, sandbox: RunningSandbox) -> None:
    armed = client.post(
        "/__sandbox/faults",
        json={"path": "^/consignments$", "method": "POST", "kind": "status", "status": 503},
    )
    assert armed.status_code == 201
    assert client.get("/__sandbox/faults").json()[0]["count"] == 1
    assert client.delete("/__sandbox/faults").json() == {"cleared": 1}
    create(client)
    bad = client.post("/__sandbox/faults", json={"path": "(", "kind": "status"})
    refused(bad, 400, "ValidationError")
    refused(
        client.post("/__sandbox/faults", json={"path": "x", "kind": "boom"}), 400, "ValidationError"
    )
    sandbox.arm_fault("^/consignments$", count=5)
    sandbox.clear_faults()
    create(client)


def test_latency_fault_delays_only_its_call(client: httpx.Client, sandbox: RunningSandbox) -> None:
    reference = create(client)
    sandbox.arm_fault("^/consignments/EC-", kind="latency", seconds=3, method="GET")
    outcome: list[object] = []

    def slow_call() -> None:
        outcome.append(client.get(f"/consignments/{reference}").status_code)

    slow = threading.Thread(target=slow_call)
    slow.start()
    # while the slow call sleeps, other calls are answered
    for _ in range(3):
        assert quotes(client, reference)["Quotes"]
    assert slow.is_alive() and outcome == []
    slow.join()
    assert outcome == [200]
    # The quotes calls may reach the sandbox first: find the slow call by its path.
    slow_entry = next(
        e for e in sandbox.requests() if e["method"] == "GET" and e["path"].startswith("/consign")
    )
    assert slow_entry["fault"] == "latency"


def test_latency_fault_trips_a_short_client_timeout(
    client: httpx.Client, sandbox: RunningSandbox
) -> None:
    reference = create(client)
    sandbox.arm_fault("^/quotes/", kind="latency", seconds=2)
    with pytest.raises(httpx.ReadTimeout):
        client.get(f"/quotes/consignment/{reference}", timeout=0.2)
    assert quotes(client, reference)["Quotes"]


def test_timeout_fault_applies_the_request_and_loses_the_reply(
    client: httpx.Client, sandbox: RunningSandbox
) -> None:
    reference = create(client)
    quote = quotes(client, reference)["Quotes"][0]["QuoteReference"]
    sandbox.arm_fault("^/allocation/", kind="timeout", method="PUT", seconds=3)
    with pytest.raises(httpx.ReadTimeout):
        client.put(f"/allocation/{reference}/allocatewithquote/{quote}", timeout=0.3)
    assert state_of(client, reference) == "Allocated"
    [entry] = [e for e in sandbox.requests() if e["method"] == "PUT"]
    assert entry["status"] == 200 and entry["fault"] == "timeout"


def test_default_latency_applies_to_api_calls() -> None:
    with start_sandbox(SandboxConfig(latency_seconds=2)) as running:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{running.url}/consignments/EC-000-000-000", headers=KEY, timeout=0.2)
        settings = httpx.get(f"{running.url}/__sandbox/settings", timeout=1).json()
        assert settings["latency_seconds"] == 2


def test_stop_frees_the_thread_even_with_a_reply_held_back() -> None:
    running = start_sandbox()
    running.arm_fault("^/consignments", kind="timeout", seconds=30)

    def call() -> None:
        with pytest.raises(httpx.HTTPError):
            httpx.post(f"{running.url}/consignments", json={}, headers=KEY, timeout=0.2)

    caller = threading.Thread(target=call)
    caller.start()
    caller.join()
    running.stop()
    assert not any(t.name == f"sandbox:{running.port}" for t in threading.enumerate())
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{running.url}/__sandbox/requests")


# -- request log and determinism -------------------------------------------------------------------


def test_request_log(client: httpx.Client, sandbox: RunningSandbox) -> None:
    reference = create(client)
    client.get(f"/consignments/{reference}")
    client.get("/consignments/EC-000-000-000")
    client.get("/__sandbox/faults")
    entries = client.get("/__sandbox/requests").json()
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/consignments", 201),
        ("GET", f"/consignments/{reference}", 200),
        ("GET", "/consignments/EC-000-000-000", 404),
    ]
    assert all(datetime.fromisoformat(e["time"]) for e in entries)
    assert sandbox.requests() == entries
    assert sandbox.count("GET", r"^/consignments/EC-") == 2
    assert sandbox.count("post", r"^/consignments$") == 1
    assert client.delete("/__sandbox/requests").json() == {"cleared": 3}
    assert sandbox.requests() == []


def _script(sandbox: RunningSandbox) -> list[Any]:
    with httpx.Client(base_url=sandbox.url, headers=KEY) as http:
        seen: list[Any] = []
        for body in (consignment(), consignment(country="FR", postcode="75001")):
            reference = create(http, body)
            offer = quotes(http, reference)
            allocation = allocate(http, reference, offer["Quotes"][0]["QuoteReference"]).json()
            record = http.get(f"/consignments/{reference}").json()
            seen += [
                reference,
                offer["QuoteRequestReference"],
                [(q["QuoteReference"], q["Price"]) for q in offer["Quotes"]],
                allocation[0]["ConsignmentLegs"],
                [p["Reference"] for p in record["Packages"]],
                record["CustomerReference"],
            ]
        return seen


def test_same_seed_same_references_and_prices() -> None:
    with start_sandbox(SandboxConfig(seed=42)) as first:
        one = _script(first)
    with start_sandbox(SandboxConfig(seed=42)) as second:
        two = _script(second)
    with start_sandbox(SandboxConfig(seed=43)) as third:
        three = _script(third)
    assert one == two
    assert one[0] != three[0]
    assert [[price for _, price in one[2]]] == [[price for _, price in three[2]]]


def test_sandbox_is_independent_of_the_client_and_models() -> None:
    """The sandbox checks the client only if it does not share the client's code."""
    import ast
    from pathlib import Path

    import bot.sandbox

    package_dir = Path(bot.sandbox.__file__).parent
    imported: set[str] = set()
    for source in package_dir.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name == "bot" or name.startswith("bot.")}
    assert ours and all(name.startswith("bot.sandbox") for name in ours), ours
