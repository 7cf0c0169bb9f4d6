"""The vendor's own example JSON, verbatim, through our wire models and mappings.

The examples are copied exactly from Sorted's docs (see docs/electio-api.md): if a
model or mapping drifts from the documented shapes, these fail.
"""

# ruff: noqa: E501  (the vendor's examples are kept verbatim, long lines included)

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.carrier import mapping_create, mapping_documents, mapping_lookup, mapping_quotes, wire
from bot.carrier.errors import InvalidRequest, UnexpectedResponse
from bot.carrier_states import ConsignmentState
from bot.models import DocumentKind

# -- verbatim from the docs ------------------------------------------------------------------

CREATE_REQUEST = r"""{
  "ConsignmentReferenceProvidedByCustomer": "MYCONS-098998",
  "Source": "Api",
  "MetaData": [ { "KeyValue": "Restock_Date", "DateTimeValue": "2019-06-18T00:00:00+00:00" } ],
  "Packages": [
    {
      "Items": [
        {
          "Sku": "SKU093434", "Model": "ITM-002", "Description": "Striped Bamboo Red/White",
          "CountryOfOrigin": { "IsoCode": { "TwoLetterCode": "GB" } },
          "HarmonisationCode": "Harmonisation_Code",
          "Weight": { "Value": 0.5, "Unit": "Kg" },
          "Dimensions": { "Unit": "Cm", "Width": 10.0, "Length": 10.0, "Height": 10.0 },
          "Value": { "Amount": 5.99, "Currency": { "IsoCode": "GBP" } },
          "ItemReferenceProvidedByCustomer": "ITEMREF-098",
          "Barcode": { "Code": "09887-091221", "BarcodeType": "Code39" },
          "MetaData": [ { "KeyValue": "Picker", "StringValue": "David Thomas" } ],
          "Quantity": 1, "Unit": "Box",
          "HarmonisationKeyWords": [ "Keyword1" ],
          "ContentClassification": "Unrestricted",
          "ContentClassificationDetails": "NotSpecified"
        }
      ],
      "PackageReferenceProvidedByCustomer": "MYPACK-00923",
      "Weight": { "Value": 0.5, "Unit": "Kg" },
      "Dimensions": { "Unit": "Cm", "Width": 10.0, "Length": 10.0, "Height": 10.0 },
      "Description": "Socks",
      "Value": { "Amount": 5.99, "Currency": { "IsoCode": "GBP" } },
      "Barcode": { "Code": "09887-091221", "BarcodeType": "Code39" },
      "MetaData": [ { "KeyValue": "WMS-REF", "IntValue": 77656555 } ]
    }
  ],
  "CustomsDocumentation": {
    "DesignatedPersonResponsible": "Peter McPetersson", "ImportersVatNumber": "02345555",
    "CategoryType": "Other", "ShipperCustomsReference": "CREF0001", "ImportersTaxCode": "TC001",
    "ImportersTelephone": "0161123456", "ImportersFax": "01611124547",
    "ImportersEmail": "peter.mcpetersson@test.com", "CN23Comments": "Comments",
    "ReferencesOfAttachedInvoices": ["INV001"], "ReferencesOfAttachedCertificates": ["CERT001"],
    "ReferencesOfAttachedLicences": ["LIC001"], "CategoryTypeExplanation": "Explanation",
    "DeclarationDate": "2019-06-14T00:00:00+00:00", "OfficeOfPosting": "Manchester",
    "ReasonForExport": "Sale", "ShippingTerms": "CFR", "ShippersVatNumber": "874541414",
    "ReceiversTaxCode": "TC5454", "ReceiversVatNumber": "8745474",
    "InvoiceDate": "2019-06-14T00:00:00+00:00"
  },
  "Addresses": [
    { "AddressType": "Origin", "ShippingLocationReference": "EDC5_Electio", "IsCached": false },
    {
      "AddressType": "Destination",
      "Contact": { "Title": "Mr", "FirstName": "Peter", "LastName": "McPetersson",
                   "Telephone": "07702123456", "Mobile": "07702123456", "LandLine": "0161544123",
                   "Email": "peter.mcpetersson@test.com" },
      "CompanyName": "Test Company (UK) Ltd.",
      "AddressLine1": "13 Porter Street", "AddressLine2": "Pressington", "AddressLine3": "Carlsby",
      "Town": "Manchester", "Region": "Greater Manchester", "Postcode": "M1 5WG",
      "Country": { "Name": "Great Britain", "IsoCode": { "TwoLetterCode": "GB" } },
      "SpecialInstructions": "Gate code: 4454",
      "LatLong": { "Latitude": 53.474220, "Longitude": -2.246049 },
      "IsCached": false
    }
  ],
  "Direction": "Outbound"
}
"""

CREATE_RESPONSE = r"""[ { "Rel": "Link", "Href": "https://api.electioapp.com/consignments/EC-000-05B-MMA" } ]
"""

QUOTES_RESPONSE = r"""{
  "QuoteRequestReference": "6f9c7ee5-a97e-4df9-bc07-aa3f00e99316",
  "Quotes": [
    {
      "MpdCarrierServiceSource": 2,
      "MpdCarrierService": "1st and 2nd Class Account Mail (1st Parcel)",
      "OriginAddress": {
        "ShippingLocationReference": "EDC5_Electio",
        "AddressLine1": "Third Floor", "AddressLine2": "Merchant Exchange", "AddressLine3": "Whitworth Street West",
        "Town": "Manchester", "Region": "", "Postcode": "M1 5WG",
        "Country": { "Name": "United Kingdom",
                     "IsoCode": { "TwoLetterCode": "GB", "ThreeLetterCode": "GBR", "NumericCode": "826" } },
        "RegionCode": "", "SpecialInstructions": "", "IsCached": false
      },
      "DestinationAddress": {
        "AddressLine1": "13 Porter Street", "AddressLine2": "Pressington", "AddressLine3": "Carlsby",
        "Town": "Manchester", "Region": "Greater Manchester", "Postcode": "M1 5WG",
        "Country": { "Name": "United Kingdom",
                     "IsoCode": { "TwoLetterCode": "GB", "ThreeLetterCode": "GBR", "NumericCode": "826" } },
        "SpecialInstructions": "Gate code: 4454", "IsCached": false
      },
      "CollectionDate": "2019-05-01T00:00:00",
      "EarliestDeliveryDate": "2019-05-02T00:00:00",
      "LatestDeliveryDate": "2019-05-02T23:59:00",
      "BasePrice": {
        "Net": 27.69, "Gross": 33.23,
        "VatRate": { "Reference": "GB-0.2000", "CountryIsoCode": "GB", "Type": "Standard", "Rate": 0.2 },
        "VatAmount": 5.54,
        "Currency": { "Name": "Pound Sterling", "IsoCode": "GBP" }
      },
      "Price": {
        "Net": 27.69, "Gross": 33.23,
        "VatRate": { "Reference": "GB-0.2000", "CountryIsoCode": "GB", "Type": "Standard", "Rate": 0.2 },
        "VatAmount": 5.54,
        "Currency": { "Name": "Pound Sterling", "IsoCode": "GBP" }
      },
      "Surcharges": [],
      "Legs": [
        {
          "JourneyStage": 1,
          "CarrierService": {
            "Reference": "RMDBPR1STPSU",
            "Name": "1st and 2nd Class Account Mail (1st Parcel)",
            "CarrierReference": "ROYAL_MAIL",
            "CarrierName": null,
            "IsDropOff": false, "IsPickUp": false, "IsTimed": false
          },
          "CarrierAccountReference": "RM1",
          "DeliveryHub": null, "CostItems": null, "VolumetricParcelWeight": null,
          "CollectionType": "NotApplicable"
        }
      ],
      "CarrierAccountOwner": null,
      "IsElectioService": false,
      "QuoteReference": "f6374a18-a6b5-48c1-841c-aa3f00e9951a",
      "CreationDate": "2019-04-30T14:10:26.8551633+00:00",
      "ExpiryDate": "2019-05-01T00:00:00+01:00",
      "Requestor": "Andy Walton",
      "ConsignmentReference": "EC-000-05B-1CM",
      "ConsignmentReferenceProvidedByCustomer": "",
      "MpdCarrierServiceReference": "MPD_RMDBPR1STPSU"
    }
  ],
  "Message": null,
  "UnqualifiedServices": [
    { "Available": true,  "Rates": false, "MpdCarrierService": "acceptanceTestCarrier_825d",
      "MpdCarrierServiceReference": "acceptanceTestCarrier_f8fe",
      "ExclusionReason": "No cost and/or pricing data configured" },
    { "Available": false, "Rates": false, "MpdCarrierService": "Express With Signature Parcel",
      "MpdCarrierServiceReference": "MPD_ANPOS-00001",
      "ExclusionReason": "This service is not available for the selected collection/delivery dates." },
    { "Available": false, "Rates": true, "MpdCarrierService": "Next Day Monday - Saturday",
      "MpdCarrierServiceReference": "MPD_MNZIS-00001",
      "ExclusionReason": "This service is not available between the selected addresses." }
  ]
}
"""

ALLOCATION_SUMMARY = r"""[
  {
    "StatusCode": 200,
    "ApiLinks": [
      { "Rel": "detail", "Href": "https://apisandbox.electioapp.com/consignments/EC-000-05B-N40" },
      { "Rel": "label",  "Href": "https://apisandbox.electioapp.com/labels/EC-000-05B-N40" }
    ],
    "Description": "Consignment EC-000-05B-N40 has been successfully allocated with UPS STANDARD (Delivery Confirmation Signature Required) for shipping on 18/06/2019 17:00:00 +00:00",
    "ConsignmentLegs": [
      { "Leg": 1, "TrackingReferences": [ "1Z9A80W5DK96293164" ],
        "CarrierReference": "UPS", "CarrierServiceReference": null, "CarrierName": "UPS" }
    ],
    "CarrierReference": "UPS",
    "CarrierName": "UPS",
    "CarrierServiceReference": "EDC5_UPSHSTDCS",
    "CarrierServiceName": "UPS STANDARD (Delivery Confirmation Signature Required)"
  }
]
"""

LABEL_RESPONSE = r"""{ "File": "SlZCRVJpMHhMalFLSmRQcjZ ... TVRrNU9ERUtKU1ZGVDBZPQ==", "ContentType": "application/pdf" }
"""

CUSTOMS_DOCUMENTS = r"""{
  "CommercialInvoiceDocuments": [ { "Key": "INV_Example", "Value": "(document data)" } ],
  "CN22Documents": [ { "Key": "CN22_Example", "Value": "(document data)" } ]
}
"""

MANIFEST_REQUEST = r"""{ "ShippingLocationReferences": ["Location1"], "States": ["Allocated"], "Carriers": ["CARRIER_X"], "LabelsPrinted": true }
"""

MANIFEST_RESPONSE = r"""{ "Message": "Query found 10 consignment(s). 10 successfully queued to manifest. 0 failed to be added to the queue" }
"""

ERROR_404 = r"""{ "Code": "SampleErrorCode", "Message": "Item {reference} not found", "CorrelationId": "f94c7dbc-c542-40b9-b6da-bd98aa110939" }
"""


# -- 1. Create Consignment -------------------------------------------------------------------


def test_create_request_example_round_trips_through_the_wire_model() -> None:
    model = wire.CreateConsignmentRequest.model_validate_json(CREATE_REQUEST)

    assert model.consignment_reference_provided_by_customer == "MYCONS-098998"
    assert model.packages is not None and model.addresses is not None
    package = model.packages[0]
    assert package.items is not None
    assert package.items[0].item_model == "ITM-002"
    assert package.items[0].value == wire.WireMoney(
        amount=Decimal("5.99"), currency=wire.Currency(iso_code="GBP")
    )
    assert model.customs_documentation is not None
    assert model.customs_documentation.cn23_comments == "Comments"
    assert model.addresses[1].contact is not None
    assert model.addresses[1].contact.land_line == "0161544123"
    # Every documented field is modelled: writing it back gives the example, key for key.
    assert json.loads(model.to_wire()) == json.loads(CREATE_REQUEST)


def test_create_response_gives_the_reference_from_the_link() -> None:
    links = wire.CreateConsignmentResponse.validate_json(CREATE_RESPONSE)

    assert mapping_create.consignment_reference_from_links(links) == "EC-000-05B-MMA"


def test_create_response_without_a_link_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse):
        mapping_create.consignment_reference_from_links(
            wire.CreateConsignmentResponse.validate_json("[]")
        )


# -- 2. Quotes -------------------------------------------------------------------------------


def test_quotes_example_maps_to_a_quote_set() -> None:
    response = wire.QuotesResponse.model_validate_json(QUOTES_RESPONSE)
    quotes = mapping_quotes.quote_set_from_wire(response, "EC-000-05B-1CM")

    assert quotes.request_reference == "6f9c7ee5-a97e-4df9-bc07-aa3f00e99316"
    assert quotes.message is None
    [quote] = quotes.quotes
    assert quote.reference == "f6374a18-a6b5-48c1-841c-aa3f00e9951a"
    assert quote.consignment_reference == "EC-000-05B-1CM"
    assert quote.carrier_code == "ROYAL_MAIL"
    assert quote.carrier_name == "Royal Mail"  # CarrierName is null: humanised
    assert quote.service_code == "MPD_RMDBPR1STPSU"
    assert quote.service_name == "1st and 2nd Class Account Mail (1st Parcel)"
    assert quote.price.gross == Decimal("33.23")
    assert quote.price.net == Decimal("27.69")
    assert quote.price.vat == Decimal("5.54")
    assert quote.price.currency == "GBP"
    # "+01:00" kept; no offset read as UTC; 7-digit fraction trimmed.
    assert quote.expires_at == datetime(2019, 5, 1, tzinfo=timezone(timedelta(hours=1)))
    assert quote.expires_at.utcoffset() == timedelta(hours=1)
    assert quote.collection_date == datetime(2019, 5, 1, tzinfo=UTC)
    assert quote.earliest_delivery == datetime(2019, 5, 2, tzinfo=UTC)
    assert quote.latest_delivery == datetime(2019, 5, 2, 23, 59, tzinfo=UTC)
    assert quote.created_at == datetime(2019, 4, 30, 14, 10, 26, 855163, tzinfo=UTC)
    assert [u.service_name for u in quotes.unqualified] == [
        "acceptanceTestCarrier_825d",
        "Express With Signature Parcel",
        "Next Day Monday - Saturday",
    ]
    assert (
        quotes.unqualified[2].reason
        == "This service is not available between the selected addresses."
    )


def test_quote_price_accepts_the_sdk_spelling_tax_rate() -> None:
    payload = QUOTES_RESPONSE.replace('"VatRate"', '"TaxRate"')
    assert '"VatRate"' not in payload
    response = wire.QuotesResponse.model_validate_json(payload)

    price = response.quotes[0].price
    assert price is not None and price.vat_rate is not None
    assert price.vat_rate.rate == Decimal("0.2")
    assert mapping_quotes.quote_set_from_wire(response, "EC-000-05B-1CM").quotes[
        0
    ].price.gross == Decimal("33.23")


def test_top_level_carrier_reference_wins_over_the_leg() -> None:
    data = json.loads(QUOTES_RESPONSE)
    data["Quotes"][0]["CarrierReference"] = "PARCELFORCE"
    response = wire.QuotesResponse.model_validate(data)

    quote = mapping_quotes.quote_set_from_wire(response, "EC-000-05B-1CM").quotes[0]
    assert quote.carrier_code == "PARCELFORCE"
    assert quote.carrier_name == "Parcelforce"


def test_leg_carrier_name_is_used_when_present() -> None:
    data = json.loads(QUOTES_RESPONSE)
    data["Quotes"][0]["Legs"][0]["CarrierService"]["CarrierName"] = "Royal Mail Group"
    quote = mapping_quotes.quote_set_from_wire(
        wire.QuotesResponse.model_validate(data), "EC-1"
    ).quotes[0]

    assert quote.carrier_name == "Royal Mail Group"


def test_quote_without_expiry_is_unexpected() -> None:
    data = json.loads(QUOTES_RESPONSE)
    data["Quotes"][0]["ExpiryDate"] = None
    with pytest.raises(UnexpectedResponse, match="ExpiryDate"):
        mapping_quotes.quote_set_from_wire(
            wire.QuotesResponse.model_validate(data), "EC-000-05B-1CM"
        )


def test_null_lists_in_a_quotes_response_are_empty() -> None:
    response = wire.QuotesResponse.model_validate_json(
        '{"QuoteRequestReference": "r", "Quotes": null, "Message": "none", "UnqualifiedServices": null}'
    )
    quotes = mapping_quotes.quote_set_from_wire(response, "EC-1")

    assert quotes.quotes == () and quotes.unqualified == () and quotes.message == "none"


# -- 3. Allocation ---------------------------------------------------------------------------


def test_allocation_summary_example_maps_to_an_allocation() -> None:
    summaries = wire.AllocateWithQuoteResponse.validate_json(ALLOCATION_SUMMARY)
    allocation = mapping_quotes.allocation_from_wire(summaries, "EC-000-05B-N40")

    assert allocation.consignment_reference == "EC-000-05B-N40"
    assert allocation.carrier_code == "UPS"
    assert allocation.carrier_name == "UPS"
    assert allocation.service_code == "EDC5_UPSHSTDCS"
    assert allocation.service_name == "UPS STANDARD (Delivery Confirmation Signature Required)"
    assert allocation.tracking_numbers == ("1Z9A80W5DK96293164",)
    assert allocation.description is not None
    assert allocation.description.startswith("Consignment EC-000-05B-N40 has been successfully")


def test_allocation_summary_with_an_error_status_is_refused() -> None:
    data = json.loads(ALLOCATION_SUMMARY)
    data[0]["StatusCode"] = 400
    data[0]["Description"] = "Quote has expired"
    summaries = wire.AllocateWithQuoteResponse.validate_python(data)

    with pytest.raises(InvalidRequest, match="Quote has expired") as caught:
        mapping_quotes.allocation_from_wire(summaries, "EC-000-05B-N40")
    assert caught.value.status == 400


def test_empty_allocation_summary_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse):
        mapping_quotes.allocation_from_wire([], "EC-000-05B-N40")


# -- 4. Labels -------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n%\xd3\xeb\xe9\xe1\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def test_label_example_parses_but_its_elided_file_is_refused() -> None:
    label = wire.LabelResponse.model_validate_json(LABEL_RESPONSE)

    assert label.content_type == "application/pdf"
    assert label.file is not None and label.file.startswith("SlZCRVJpMHhMalFL")
    # The docs shortened the file with " ... ": it is not base64, and we say so cleanly.
    with pytest.raises(UnexpectedResponse, match="base64"):
        mapping_documents.label_document(label, "EC-000-05B-MMA", "PDF")


def test_label_maps_to_a_document() -> None:
    label = wire.LabelResponse(file=base64.b64encode(PDF).decode(), content_type="application/pdf")
    document = mapping_documents.label_document(label, "EC-000-05B-MMA", "PDF")

    assert document.kind is DocumentKind.LABEL
    assert document.name == "EC-000-05B-MMA.pdf"
    assert document.content_type == "application/pdf"
    assert document.data == PDF


def test_label_wrapped_in_base64_twice_like_the_docs_example_is_unwrapped() -> None:
    # The example's File decodes to "JVBERi0xLjQK...": base64 of a PDF inside base64.
    assert base64.b64decode("SlZCRVJpMHhMalFL") == b"JVBERi0xLjQK"
    twice = base64.b64encode(base64.b64encode(PDF)).decode()
    document = mapping_documents.label_document(wire.LabelResponse(file=twice), "EC-1", "PDF")

    assert document.data == PDF


def test_label_content_type_key_with_a_hyphen_is_accepted() -> None:
    payload = json.dumps({"File": base64.b64encode(b"^XA^XZ").decode(), "Content-Type": "text/zpl"})
    document = mapping_documents.label_document(
        wire.LabelResponse.model_validate_json(payload), "EC-1", "ZPLII"
    )

    assert document.content_type == "text/zpl"
    assert document.name == "EC-1.zpl"
    assert document.data == b"^XA^XZ"


def test_label_without_content_type_gets_one_from_the_format() -> None:
    label = wire.LabelResponse(file=base64.b64encode(b"^XA^XZ").decode())
    document = mapping_documents.label_document(label, "EC-1", "zpl")

    assert (document.name, document.content_type) == ("EC-1.zpl", "text/plain")


def test_png_is_not_a_label_format_any_more() -> None:
    label = wire.LabelResponse(file=base64.b64encode(b"\x89PNG\r\n").decode())
    with pytest.raises(ValueError, match="png"):
        mapping_documents.label_document(label, "EC-1", "png")


# -- 4b. Customs documents -------------------------------------------------------------------


def test_customs_example_parses_but_placeholder_data_is_refused() -> None:
    docs = wire.CustomsDocumentsResponse.model_validate_json(CUSTOMS_DOCUMENTS)

    assert [d.key for d in docs.commercial_invoice_documents] == ["INV_Example"]
    assert [d.key for d in docs.cn22_documents] == ["CN22_Example"]
    assert docs.cn23_documents == []
    # "(document data)" stands in for the PDF in the docs: refused, not decoded into junk.
    with pytest.raises(UnexpectedResponse, match="base64"):
        mapping_documents.customs_documents(docs, "EC-000-05B-MMA")


def test_customs_documents_map_to_named_pdfs() -> None:
    data = json.loads(CUSTOMS_DOCUMENTS)
    encoded = base64.b64encode(PDF).decode()
    data["CommercialInvoiceDocuments"][0]["Value"] = encoded
    data["CN22Documents"][0]["Value"] = encoded
    data["CN23Documents"] = [{"Key": "a", "Value": encoded}, {"Key": "b", "Value": encoded}]
    documents = mapping_documents.customs_documents(
        wire.CustomsDocumentsResponse.model_validate(data), "EC-000-05B-MMA"
    )

    assert [(d.kind, d.name) for d in documents] == [
        (DocumentKind.CN22, "EC-000-05B-MMA-cn22.pdf"),
        (DocumentKind.CN23, "EC-000-05B-MMA-cn23-1.pdf"),
        (DocumentKind.CN23, "EC-000-05B-MMA-cn23-2.pdf"),
        (DocumentKind.COMMERCIAL_INVOICE, "EC-000-05B-MMA-commercial-invoice.pdf"),
    ]
    assert all(d.data == PDF and d.content_type == "application/pdf" for d in documents)


# -- 5. Manifest -----------------------------------------------------------------------------


def test_manifest_request_example_round_trips() -> None:
    request = wire.ManifestFromQueryRequest.model_validate_json(MANIFEST_REQUEST)

    assert request.carriers == ["CARRIER_X"] and request.labels_printed is True
    assert json.loads(request.to_wire()) == json.loads(MANIFEST_REQUEST)


def test_manifest_response_example_maps_to_a_result() -> None:
    response = wire.ManifestFromQueryResponse.model_validate_json(MANIFEST_RESPONSE)
    result = mapping_documents.manifest_result(response)

    assert result.message == (
        "Query found 10 consignment(s). 10 successfully queued to manifest. "
        "0 failed to be added to the queue"
    )
    assert result.failed == ()


def test_manifest_response_lists_failed_consignments() -> None:
    response = wire.ManifestFromQueryResponse.model_validate_json(
        '{"Message": "Query found 2 consignment(s).", "FailedConsignments": ["EC-000-05B-MMA"]}'
    )

    assert mapping_documents.manifest_result(response).failed == ("EC-000-05B-MMA",)


# -- Errors ----------------------------------------------------------------------------------


def test_404_error_example_parses() -> None:
    error = wire.ApiErrorBody.model_validate_json(ERROR_404)

    assert error.code == "SampleErrorCode"
    assert error.message == "Item {reference} not found"
    assert error.correlation_id == "f94c7dbc-c542-40b9-b6da-bd98aa110939"
    assert error.details == []


def test_validation_error_with_details_parses() -> None:
    error = wire.ApiErrorBody.model_validate_json(
        '{"Code":"ValidationError","Message":"Invalid","CorrelationId":"c-1",'
        '"Details":[{"Code":"Required","Target":"Packages[0].Weight","Message":"Weight is required"}]}'
    )

    [detail] = error.details
    assert (detail.code, detail.target, detail.message) == (
        "Required",
        "Packages[0].Weight",
        "Weight is required",
    )


def test_gateway_error_body_parses() -> None:
    error = wire.ApiErrorBody.model_validate_json(
        '{"statusCode": 401, "message": "Access denied due to missing subscription key."}'
    )

    assert error.status_code == 401
    assert error.message == "Access denied due to missing subscription key."


# -- Get Consignment (no verbatim example in the docs: built from its field list) -----------


def test_unallocated_consignment_maps_to_a_status() -> None:
    payload = {
        "Reference": "EC-000-05C-ZB4",
        "ConsignmentState": "Unallocated",
        "DateCreated": "2020-02-10T11:21:07.8156519+00:00",
        "Source": "Api",
        "Direction": "Outbound",
        "LabelCount": 0,
        "LabelsPrinted": False,
        "Weight": {"Value": 0.50000, "Unit": "Kg"},
        "ConsignmentLegs": [],
        "Allocation": None,
        "ShippingDate": None,
        "ConsignmentReferenceProvidedByCustomer": "",
        "Packages": [{"Reference": "EP-000-05E-YRQ", "ConsignmentLegs": None, "Items": None}],
        "Tags": None,
        "SomethingNew": {"x": 1},
    }
    status = mapping_lookup.consignment_status(
        wire.ConsignmentResponse.model_validate(payload), "EC-000-05C-ZB4"
    )

    assert status.reference == "EC-000-05C-ZB4"
    assert status.state is ConsignmentState.UNALLOCATED
    assert status.raw_state == "Unallocated"
    assert status.shipper_reference is None
    assert status.carrier_code is None and status.tracking_numbers == ()


def test_allocated_consignment_takes_carrier_and_tracking_from_its_legs() -> None:
    payload = {
        "Reference": "EC-000-05B-N40",
        "ConsignmentState": "Allocated",
        "ConsignmentReferenceProvidedByCustomer": "SHIP-1",
        "ConsignmentLegs": [
            {"Leg": 1, "TrackingReferences": ["1Z9A80W5DK96293164"], "CarrierReference": "UPS"}
        ],
        "Packages": [
            {"ConsignmentLegs": [{"Leg": 1, "TrackingReferences": ["1Z9A80W5DK96293165"]}]}
        ],
        "ShippingDate": "2019-06-18T17:00:00+01:00",
        "EarliestDeliveryDate": "2019-06-19T00:00:00",
    }
    status = mapping_lookup.consignment_status(
        wire.ConsignmentResponse.model_validate(payload), "x"
    )

    assert status.state is ConsignmentState.ALLOCATED
    assert status.shipper_reference == "SHIP-1"
    assert status.carrier_code == "UPS" and status.carrier_name == "UPS"
    assert status.tracking_numbers == ("1Z9A80W5DK96293164", "1Z9A80W5DK96293165")
    assert status.shipping_date is not None and status.shipping_date.isoformat() == "2019-06-18"
    assert status.earliest_delivery == datetime(2019, 6, 19, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "state", "raw_state"),
    [
        ("Manifest Failed", ConsignmentState.MANIFEST_FAILED, "Manifest Failed"),
        (3, ConsignmentState.ALLOCATED, "Allocated"),
        (40, ConsignmentState.READY_TO_SHIP, "ReadyToShip"),
        ("AtCustoms", ConsignmentState.AT_CUSTOMS, "AtCustoms"),
        ("Return to Sender", ConsignmentState.RETURN_TO_SENDER, "Return to Sender"),
        (
            "Delivery Failed Card Left",
            ConsignmentState.DELIVERY_FAILED_CARD_LEFT,
            "Delivery Failed Card Left",
        ),
        ("SomethingNew", ConsignmentState.OTHER, "SomethingNew"),
        (None, ConsignmentState.OTHER, ""),
    ],
)
def test_consignment_state_spellings(raw: object, state: ConsignmentState, raw_state: str) -> None:
    response = wire.ConsignmentResponse.model_validate({"ConsignmentState": raw})
    status = mapping_lookup.consignment_status(response, "EC-1")

    assert (status.state, status.raw_state, status.reference) == (state, raw_state, "EC-1")


# -- Dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-05-01T00:00:00", datetime(2019, 5, 1, tzinfo=UTC)),
        (
            "2019-04-30T14:10:26.8551633+00:00",
            datetime(2019, 4, 30, 14, 10, 26, 855163, tzinfo=UTC),
        ),
        ("2019-05-01T00:00:00+01:00", datetime(2019, 4, 30, 23, tzinfo=UTC)),
        ("2019-05-01T00:00:00.1234567Z", datetime(2019, 5, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("", None),
    ],
)
def test_wire_dates(text: str, expected: datetime | None) -> None:
    parsed = wire.parse_wire_datetime(text)

    assert parsed == expected
    assert parsed is None or parsed.tzinfo is not None


def test_a_date_that_is_not_a_date_is_a_validation_error() -> None:
    with pytest.raises(ValueError):
        wire.WireQuote.model_validate({"ExpiryDate": "tomorrow"})
