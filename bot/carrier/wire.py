"""Sorted PRO's JSON, field for field (reference: docs/electio-api.md).

PascalCase on the wire, snake_case here. Everything is optional and unknown fields are
ignored: the docs' examples are hand-written and the live API serialises nulls explicitly,
so the models accept what comes and the `mapping_*.py` modules decide what is really required.
Request-side lists default to None (so `exclude_none` leaves them out); response-only lists
turn a null into an empty list.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
)
from pydantic.alias_generators import to_pascal

T = TypeVar("T")

# -- scalar types ----------------------------------------------------------------------

_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_wire_datetime(value: object) -> datetime | None:
    """Dates as the docs show them: with or without an offset, with 7-digit fractions.

    .NET writes 7 fractional digits ("2019-04-30T14:10:26.8551633+00:00"). Python 3.11's
    fromisoformat happens to accept them, but we trim to 6 so nothing depends on that.
    GUESS: a date with no offset ("2019-05-01T00:00:00", used for Collection/Earliest/
    LatestDeliveryDate) is taken as UTC; the docs don't say which zone it is in.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    text = _LONG_FRACTION.sub(r"\1", text, count=1)
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)  # ValueError -> pydantic ValidationError
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _format_wire_datetime(value: datetime | None) -> str | None:
    # isoformat keeps "+00:00" (pydantic's default would write "Z"), as in the docs.
    return None if value is None else value.isoformat()


def _decimal_as_number(value: Decimal | None) -> float | None:
    # The API takes JSON numbers; pydantic would write a Decimal as a string.
    return None if value is None else float(value)


def _none_as_empty(value: object) -> object:
    return [] if value is None else value


WireDateTime = Annotated[
    datetime | None,
    BeforeValidator(parse_wire_datetime),
    PlainSerializer(_format_wire_datetime, when_used="json"),
]
WireDecimal = Annotated[
    Decimal | None, PlainSerializer(_decimal_as_number, return_type=float | None, when_used="json")
]
# A response list that may come back as null.
NullableList = Annotated[list[T], BeforeValidator(_none_as_empty)]


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="ignore")

    def to_wire(self) -> bytes:
        """The request body: PascalCase, numbers for decimals, no nulls."""
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()


# -- shared pieces -----------------------------------------------------------------------


class IsoCode(WireModel):
    two_letter_code: str | None = None
    three_letter_code: str | None = None
    numeric_code: str | None = None


class Country(WireModel):
    name: str | None = None
    iso_code: IsoCode | None = None


class Currency(WireModel):
    name: str | None = None
    iso_code: str | None = None


class WireMoney(WireModel):
    amount: WireDecimal = None
    currency: Currency | None = None


class Weight(WireModel):
    value: WireDecimal = None
    unit: str | None = None


class Dimensions(WireModel):
    unit: str | None = None
    width: WireDecimal = None
    length: WireDecimal = None
    height: WireDecimal = None


class Barcode(WireModel):
    code: str | None = None
    barcode_type: str | None = None


class MetaDataEntry(WireModel):
    """`{"KeyValue": ..., "<Type>Value": ...}`; Decimal/Bool from the third-party spec."""

    key_value: str | None = None
    string_value: str | None = None
    int_value: int | None = None
    decimal_value: WireDecimal = None
    bool_value: bool | None = None
    date_time_value: WireDateTime = None


class LatLong(WireModel):
    latitude: WireDecimal = None
    longitude: WireDecimal = None


class Contact(WireModel):
    reference: str | None = None
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    position: str | None = None
    telephone: str | None = None
    mobile: str | None = None
    land_line: str | None = None
    email: str | None = None


class Address(WireModel):
    """A consignment or quote address; the origin may be only a ShippingLocationReference."""

    address_type: str | None = None
    shipping_location_reference: str | None = None
    shop_location_reference: str | None = None
    contact: Contact | None = None
    company_name: str | None = None
    customer_name: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_line3: str | None = None
    town: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: Country | None = None
    region_code: str | None = None
    special_instructions: str | None = None
    lat_long: LatLong | None = None
    is_cached: bool | None = None


class ApiLink(WireModel):
    rel: str | None = None
    href: str | None = None


class ConsignmentLeg(WireModel):
    leg: int | None = None
    tracking_references: NullableList[str] = Field(default_factory=list)
    carrier_reference: str | None = None
    carrier_service_reference: str | None = None
    carrier_name: str | None = None


# -- 1. Create Consignment: POST /consignments ----------------------------------------------


class Item(WireModel):
    sku: str | None = None
    item_model: str | None = Field(default=None, alias="Model")
    description: str | None = None
    country_of_origin: Country | None = None
    harmonisation_code: str | None = None
    weight: Weight | None = None
    dimensions: Dimensions | None = None
    value: WireMoney | None = None
    item_reference_provided_by_customer: str | None = None
    barcode: Barcode | None = None
    meta_data: list[MetaDataEntry] | None = None
    quantity: int | None = None
    unit: str | None = None
    harmonisation_key_words: list[str] | None = None
    content_classification: str | None = None
    content_classification_details: str | None = None


class Package(WireModel):
    reference: str | None = None  # "EP-...", assigned by the API
    items: list[Item] | None = None
    package_reference_provided_by_customer: str | None = None
    weight: Weight | None = None
    dimensions: Dimensions | None = None
    description: str | None = None
    value: WireMoney | None = None
    package_size_reference: str | None = None
    barcode: Barcode | None = None
    meta_data: list[MetaDataEntry] | None = None
    consignment_legs: list[ConsignmentLeg] | None = None  # Get Consignment only


class CustomsDocumentation(WireModel):
    designated_person_responsible: str | None = None
    importers_vat_number: str | None = None
    category_type: str | None = None
    shipper_customs_reference: str | None = None
    importers_tax_code: str | None = None
    importers_telephone: str | None = None
    importers_fax: str | None = None
    importers_email: str | None = None
    cn23_comments: str | None = Field(default=None, alias="CN23Comments")
    references_of_attached_invoices: list[str] | None = None
    references_of_attached_certificates: list[str] | None = None
    references_of_attached_licences: list[str] | None = None
    category_type_explanation: str | None = None
    declaration_date: WireDateTime = None
    office_of_posting: str | None = None
    reason_for_export: str | None = None
    shipping_terms: str | None = None
    shippers_vat_number: str | None = None
    receivers_tax_code: str | None = None
    receivers_vat_number: str | None = None
    invoice_date: WireDateTime = None


class CreateConsignmentRequest(WireModel):
    consignment_reference_provided_by_customer: str | None = None
    source: str | None = None
    shipping_date: WireDateTime = None
    meta_data: list[MetaDataEntry] | None = None
    packages: list[Package] | None = None
    customs_documentation: CustomsDocumentation | None = None
    addresses: list[Address] | None = None
    direction: str | None = None
    tags: list[str] | None = None


def _one_or_many(value: object) -> object:
    # Tolerant: documented as an array of links; a single link object is accepted too.
    return [value] if isinstance(value, dict) else value


# 201 with an array of links; the consignment reference is the last path segment of Href.
CreateConsignmentResponse: TypeAdapter[list[ApiLink]] = TypeAdapter(
    Annotated[list[ApiLink], BeforeValidator(_one_or_many)]
)


# -- 2. Get Quotes by Consignment Reference: GET /quotes/consignment/{ref} ---------------------


class VatRate(WireModel):
    reference: str | None = None
    country_iso_code: str | None = None
    type: str | None = None
    rate: WireDecimal = None


class Rate(WireModel):
    net: WireDecimal = None
    gross: WireDecimal = None
    # CONFLICT: the wire examples (docs and the third-party spec) say VatRate, Sorted's SDK
    # class says TaxRate. We accept either and write VatRate.
    vat_rate: VatRate | None = Field(
        default=None,
        validation_alias=AliasChoices("VatRate", "TaxRate", "vat_rate"),
        serialization_alias="VatRate",
    )
    vat_amount: WireDecimal = None
    currency: Currency | None = None


class CarrierService(WireModel):
    reference: str | None = None
    name: str | None = None
    carrier_reference: str | None = None
    carrier_name: str | None = None
    is_drop_off: bool | None = None
    is_pick_up: bool | None = None
    is_timed: bool | None = None
    # The docs' quotes example has it here too ("Outbound", "Inbound, Outbound").
    service_direction: int | str | None = None


class QuoteLeg(WireModel):
    journey_stage: int | None = None
    carrier_service: CarrierService | None = None
    carrier_account_reference: str | None = None
    collection_type: str | None = None


class Surcharge(WireModel):
    reference: str | None = None
    currency_iso_code: str | None = None
    amount: WireDecimal = None
    type: str | None = None


class WireQuote(WireModel):
    quote_reference: str | None = None
    requestor: str | None = None
    creation_date: WireDateTime = None
    expiry_date: WireDateTime = None
    consignment_reference: str | None = None
    consignment_reference_provided_by_customer: str | None = None
    mpd_carrier_service_reference: str | None = None
    # An enum, yet the docs' example shows the number 2: take either.
    mpd_carrier_service_source: int | str | None = None
    mpd_carrier_service: str | None = None
    # In the SDK's Quote class but absent from the docs' example JSON: use it when present.
    carrier_reference: str | None = None
    origin_address: Address | None = None
    destination_address: Address | None = None
    collection_date: WireDateTime = None
    earliest_delivery_date: WireDateTime = None
    latest_delivery_date: WireDateTime = None
    base_price: Rate | None = None
    price: Rate | None = None
    surcharges: NullableList[Surcharge] = Field(default_factory=list)
    legs: NullableList[QuoteLeg] = Field(default_factory=list)
    carrier_account_owner: str | None = None
    is_electio_service: bool | None = None
    service_direction: int | str | None = None


class WireUnqualifiedService(WireModel):
    available: bool | None = None
    rates: bool | None = None
    mpd_carrier_service: str | None = None
    carrier_reference: str | None = None
    mpd_carrier_service_reference: str | None = None
    exclusion_reason: str | None = None


class QuotesResponse(WireModel):
    quote_request_reference: str | None = None
    quotes: NullableList[WireQuote] = Field(default_factory=list)
    message: str | None = None
    unqualified_services: NullableList[WireUnqualifiedService] = Field(default_factory=list)


# -- 3. Allocate With Quote: PUT /allocation/{ref}/allocatewithquote/{quoteRef} (no body) -------


class AllocationSummary(WireModel):
    status_code: int | None = None
    api_links: NullableList[ApiLink] = Field(default_factory=list)
    description: str | None = None
    consignment_legs: NullableList[ConsignmentLeg] = Field(default_factory=list)
    carrier_reference: str | None = None
    carrier_name: str | None = None
    carrier_service_reference: str | None = None
    carrier_service_name: str | None = None


# CONFLICT: the include and the SDK give an array of AllocationSummary; the allocating help
# page says "either singularly or ... in an array", and the PHP client reads one object.
# Both are accepted (200 and 202 are both documented statuses).
AllocateWithQuoteResponse: TypeAdapter[list[AllocationSummary]] = TypeAdapter(
    Annotated[list[AllocationSummary], BeforeValidator(_one_or_many)]
)


# -- 4. Get Labels in Format: GET /labels/{ref}/{format} -------------------------------------


class LabelResponse(WireModel):
    file: str | None = None  # base64
    # CONFLICT: Sorted's docs and SDK say "ContentType"; the third-party spec maps the key
    # "Content-Type". Accept both.
    content_type: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ContentType", "Content-Type", "content_type"),
        serialization_alias="ContentType",
    )


# -- 4b. Get Customs Documents: GET /consignments/docs/{ref} ----------------------------------


class KeyedDocument(WireModel):
    key: str | None = None
    value: str | None = None  # base64 PDF


class CustomsDocumentsResponse(WireModel):
    commercial_invoice_documents: NullableList[KeyedDocument] = Field(default_factory=list)
    cn22_documents: NullableList[KeyedDocument] = Field(default_factory=list, alias="CN22Documents")
    # Only in the third-party spec; the docs' example leaves CN23 out.
    cn23_documents: NullableList[KeyedDocument] = Field(default_factory=list, alias="CN23Documents")


# -- 5. Manifest Consignments From Query: POST (or PUT) /consignments/manifestFromQuery ---------


class ShippingDateRange(WireModel):
    start_date: WireDateTime = None
    end_date: WireDateTime = None


class ManifestFromQueryRequest(WireModel):
    shipping_location_references: list[str] | None = None
    states: list[str] | None = None  # required by the SDK
    carriers: list[str] | None = None
    labels_printed: bool | None = None
    shipping_date: WireDateTime = None
    # A single object despite the plural name (SDK).
    shipping_date_ranges: ShippingDateRange | None = None


class ManifestFromQueryResponse(WireModel):
    message: str | None = None
    # Named in the older docs' text and the SDK; the docs' example shows only Message.
    failed_consignments: NullableList[str] = Field(default_factory=list)


# -- Get Consignment: GET /consignments/{ref} -------------------------------------------------


def _object_or_none(value: object) -> object:
    return value if isinstance(value, dict) else None


class ConsignmentAllocation(WireModel):
    """Get Consignment's `Allocation` as the SDK defines it (VERIFIED); null until allocated.

    It names the *service* only: the carrier and tracking numbers are in `ConsignmentLegs`.
    The PHP client spells the date `AllocateDate`; both spellings are read.
    """

    carrier_service_group_reference: str | None = None
    mpd_carrier_service_group_name: str | None = None
    mpd_carrier_service_reference: str | None = None
    mpd_carrier_service_name: str | None = None
    allocation_date: WireDateTime = Field(
        default=None,
        validation_alias=AliasChoices("AllocationDate", "AllocateDate", "allocation_date"),
        serialization_alias="AllocationDate",
    )
    price: Rate | None = None
    # Tolerated, not documented: an earlier guess of ours (the AllocationSummary names).
    # Only read when the SDK's names are missing.
    carrier_service_name: str | None = None
    mpd_carrier_service: str | None = None


class FailedAllocation(WireModel):
    mpd_carrier_service_name: str | None = None
    attempted_allocation_date: WireDateTime = None
    message: str | None = None


class ConsignmentResponse(WireModel):
    reference: str | None = None
    # A string on the wire; the SDK enum's number is accepted too.
    consignment_state: str | int | None = None
    date_created: WireDateTime = None
    source: str | int | None = None
    direction: str | int | None = None
    label_count: int | None = None
    labels_printed: bool | None = None
    date_labels_were_first_printed: WireDateTime = None
    customer_reference: str | None = None
    weight: Weight | None = None
    value: WireMoney | None = None
    consignment_legs: NullableList[ConsignmentLeg] = Field(default_factory=list)
    allocation: Annotated[ConsignmentAllocation | None, BeforeValidator(_object_or_none)] = None
    collection_date: WireDateTime = None
    shipping_date: WireDateTime = None
    earliest_delivery_date: WireDateTime = None
    latest_delivery_date: WireDateTime = None
    date_shipped: WireDateTime = None
    date_delivered: WireDateTime = None
    consignment_reference_provided_by_customer: str | None = None
    addresses: NullableList[Address] = Field(default_factory=list)
    packages: NullableList[Package] = Field(default_factory=list)
    meta_data: NullableList[MetaDataEntry] = Field(default_factory=list)
    tags: NullableList[str] = Field(default_factory=list)
    failed_allocation: Annotated[FailedAllocation | None, BeforeValidator(_object_or_none)] = None


# -- Search Consignments: GET /consignments/{take}/{skip}?filters ---------------------------


def _weight_object(value: object) -> object:
    # CONFLICT: `{"Value": 1.0, "Unit": "Kg"}` (docs, Sorted SDK) or a bare decimal (2016 SDK).
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return {"Value": value, "Unit": "Kg"}
    return value


class ConsignmentSummary(WireModel):
    """One row: `State` (not `ConsignmentState`), no tracking numbers, no origin."""

    reference: str | None = None
    consignment_reference_provided_by_customer: str | None = None
    date_created: WireDateTime = None
    state: str | int | None = None
    source: str | int | None = None
    mpd_carrier_service_name: str | None = None
    mpd_carrier_service_reference: str | None = None
    destination_address_town: str | None = None
    destination_address_postcode: str | None = None
    destination_address_country: str | None = None
    failed_allocation_message: str | None = None
    allocation_date: WireDateTime = None
    weight: Annotated[Weight | None, BeforeValidator(_weight_object)] = None


class MatchingConsignmentsResponse(WireModel):
    count: int | None = None
    consignment_summaries: NullableList[ConsignmentSummary] = Field(default_factory=list)


def _unwrap_one(value: object) -> object:
    # CONFLICT (weak): the PHP client declares an array of wrappers; Sorted says one object.
    if isinstance(value, list):
        return value[0] if value else {}
    return value


SearchResponse: TypeAdapter[MatchingConsignmentsResponse] = TypeAdapter(
    Annotated[MatchingConsignmentsResponse, BeforeValidator(_unwrap_one)]
)


class WithMessage(WireModel):
    """`{IsSuccess, Message, Data, ApiLinks}`: Set (Not) Ready To Ship's per-item result."""

    is_success: bool | None = None
    message: str | None = None
    data: str | None = None


WithMessageList: TypeAdapter[list[WithMessage]] = TypeAdapter(
    Annotated[list[WithMessage], BeforeValidator(_one_or_many)]
)


# -- Errors ----------------------------------------------------------------------------------


class ApiErrorDetail(WireModel):
    code: str | None = Field(default=None, validation_alias=AliasChoices("Code", "code"))
    target: str | None = Field(default=None, validation_alias=AliasChoices("Target", "target"))
    message: str | None = Field(default=None, validation_alias=AliasChoices("Message", "message"))


class ApiErrorBody(WireModel):
    """PRO's `{Code, Message, CorrelationId, Details[]}`, or the gateway's `{statusCode, message}`.

    The gateway (Azure API Management) answers 401 and 429 itself, in camelCase (GUESS, the
    usual APIM body), so both spellings are read into one model.
    """

    code: str | int | None = Field(default=None, validation_alias=AliasChoices("Code", "code"))
    message: str | None = Field(default=None, validation_alias=AliasChoices("Message", "message"))
    correlation_id: str | None = Field(
        default=None, validation_alias=AliasChoices("CorrelationId", "correlationId")
    )
    details: NullableList[ApiErrorDetail] = Field(
        default_factory=list, validation_alias=AliasChoices("Details", "details")
    )
    status_code: int | None = Field(
        default=None, validation_alias=AliasChoices("statusCode", "StatusCode")
    )
