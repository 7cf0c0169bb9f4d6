"""Pure conversions between the wire models and our domain models (no I/O).

A response that lacks what the domain needs raises `UnexpectedResponse`; the client adds
the HTTP status.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

from bot.carrier import wire
from bot.carrier.customs import DEFAULT_PROFILE, SHIPPERS_EORI_KEY, CustomsProfile
from bot.carrier.errors import InvalidRequest, UnexpectedResponse
from bot.models import (
    Allocation,
    ConsignmentDetail,
    ConsignmentState,
    ConsignmentStatus,
    Direction,
    Document,
    DocumentKind,
    FoundConsignment,
    ManifestResult,
    Money,
    Parcel,
    Price,
    Quote,
    QuoteSet,
    Recipient,
    ShipmentRequest,
    UnqualifiedService,
)

# -- Create Consignment ----------------------------------------------------------------------

_PENNY = Decimal("0.01")


def create_consignment_request(
    request: ShipmentRequest,
    shipping_location: str,
    customs: CustomsProfile = DEFAULT_PROFILE,
    declared_on: date | None = None,
) -> wire.CreateConsignmentRequest:
    """Our shipment as PRO's consignment, shipping from a pre-configured location.

    Abroad, it carries what the Brexit guide lists for CN22/CN23 and invoices, as far as
    the form (`request.customs`) and the shipper's settings (`customs`) can supply it;
    `declared_on` dates the declaration and the invoice (left out when None).
    """
    meta_data = []
    if request.order_number:
        meta_data.append(
            wire.MetaDataEntry(key_value="OrderNumber", string_value=request.order_number)
        )
    if request.customs and customs.shippers_eori:
        # The guide: "Order > Metadata / Consignment > Metadata, KeyValue ShippersEORI".
        meta_data.append(
            wire.MetaDataEntry(key_value=SHIPPERS_EORI_KEY, string_value=customs.shippers_eori)
        )
    if request.direction is Direction.INBOUND:
        # A return (Sorted's glossary: "Inbound — going back to the retailer"): the customer
        # is the Origin, our shipping location the Destination ("a destination for inbound
        # consignments"). GUESS: this exact pair is not shown in any example, but the create
        # rule ("the destination, the origin, or both must include a valid
        # ShippingLocationReference") permits it.
        addresses = [
            _customer_address(request, "Origin"),
            wire.Address(
                address_type="Destination",
                shipping_location_reference=shipping_location,
                is_cached=False,
            ),
        ]
    else:
        addresses = [
            wire.Address(
                address_type="Origin",
                shipping_location_reference=shipping_location,
                is_cached=False,
            ),
            _customer_address(request, "Destination"),
        ]
    return wire.CreateConsignmentRequest(
        consignment_reference_provided_by_customer=request.shipper_reference,
        source="Api",
        direction=request.direction.value,
        meta_data=meta_data or None,
        packages=_packages(request),
        customs_documentation=_customs_documentation(request, customs, declared_on),
        addresses=addresses,
    )


def _customs_documentation(
    request: ShipmentRequest, profile: CustomsProfile, declared_on: date | None
) -> wire.CustomsDocumentation | None:
    customs = request.customs
    if customs is None:
        return None
    # The docs' example writes these dates as midnight with an offset.
    when = datetime.combine(declared_on, time(0), UTC) if declared_on else None
    return wire.CustomsDocumentation(
        # ReasonForExport is free text in the docs' example ("Sale"); CategoryType is the enum.
        reason_for_export=customs.reason.value,
        category_type=profile.category_for(customs.reason),
        declaration_date=when,
        invoice_date=when,
        shipping_terms=profile.shipping_terms,
        shippers_vat_number=profile.shippers_vat_number,
        designated_person_responsible=profile.designated_person_responsible,
    )


def _packages(request: ShipmentRequest) -> list[wire.Package]:
    parcel = request.parcel
    values = split_evenly(request.value.amount, request.parcel_count)
    # One customs line per package (quantity 1): the goods' value is shared like the
    # declared value, so the lines add up to what the agent declared.
    item_values = (
        split_evenly(request.customs.item_value.amount, request.parcel_count)
        if request.customs
        else [None] * request.parcel_count
    )
    packages = []
    pairs = zip(values, item_values, strict=True)
    for number, (amount, item_value) in enumerate(pairs, start=1):
        packages.append(
            wire.Package(
                package_reference_provided_by_customer=f"{request.shipper_reference}-{number}",
                weight=_weight(parcel.weight_kg),
                dimensions=wire.Dimensions(
                    unit="Cm",
                    length=parcel.length_cm,
                    width=parcel.width_cm,
                    height=parcel.height_cm,
                ),
                description=request.contents,
                value=_money(Money(amount=amount, currency=request.value.currency)),
                items=[_customs_item(request, item_value)] if item_value is not None else None,
            )
        )
    return packages


def split_evenly(total: Decimal, parts: int) -> list[Decimal]:
    """Pennies per package; the rounding remainder goes on the first so the sum is exact."""
    if parts < 1:
        raise ValueError(f"parcel_count must be at least 1, got {parts}")
    each = (total / parts).quantize(_PENNY, rounding=ROUND_HALF_UP)
    first = total - each * (parts - 1)
    return [first] + [each] * (parts - 1)


def _customs_item(request: ShipmentRequest, value: Decimal) -> wire.Item:
    customs = request.customs
    assert customs is not None
    return wire.Item(
        description=customs.contents,
        harmonisation_code=customs.hs_code,
        country_of_origin=_country(customs.origin_country),
        value=_money(Money(amount=value, currency=customs.item_value.currency)),
        weight=_weight(request.parcel.weight_kg),
        quantity=1,
    )


def _customer_address(request: ShipmentRequest, address_type: str) -> wire.Address:
    """The customer's address: the Destination of a shipment, the Origin of a return."""
    recipient = request.recipient
    first_name, last_name = split_name(recipient.name)
    return wire.Address(
        address_type=address_type,
        contact=wire.Contact(
            first_name=first_name,
            last_name=last_name,
            telephone=recipient.phone,
            email=recipient.email,
        ),
        company_name=recipient.company,
        address_line1=recipient.line1,
        address_line2=recipient.line2,
        address_line3=recipient.line3,
        town=recipient.town,
        region=recipient.region,
        postcode=recipient.postcode,
        country=_country(recipient.country),
        is_cached=False,
    )


def split_name(name: str) -> tuple[str, str | None]:
    """Split on the last space: "Mary Ann Smith" -> ("Mary Ann", "Smith").

    A single word becomes the first name with no last name (GUESS: PRO's validation of a
    missing LastName is undocumented).
    """
    cleaned = " ".join(name.split())
    first, _, last = cleaned.rpartition(" ")
    if not first:
        return cleaned, None
    return first, last


def _weight(kg: Decimal) -> wire.Weight:
    return wire.Weight(value=kg, unit="Kg")


def _money(money: Money) -> wire.WireMoney:
    return wire.WireMoney(amount=money.amount, currency=wire.Currency(iso_code=money.currency))


def _country(code: str) -> wire.Country:
    return wire.Country(iso_code=wire.IsoCode(two_letter_code=code.upper()))


def consignment_reference_from_links(links: Sequence[wire.ApiLink]) -> str:
    """The reference is the last path segment of the returned link."""
    for link in links:
        if link.href:
            segment = urlsplit(link.href).path.rstrip("/").rpartition("/")[2]
            if segment:
                return segment
    raise UnexpectedResponse("Create Consignment answered without a consignment link")


# -- Quotes ----------------------------------------------------------------------------------


def quote_set_from_wire(response: wire.QuotesResponse, consignment_reference: str) -> QuoteSet:
    return QuoteSet(
        request_reference=response.quote_request_reference or "",
        quotes=tuple(quote_from_wire(quote, consignment_reference) for quote in response.quotes),
        unqualified=tuple(_unqualified(service) for service in response.unqualified_services),
        message=response.message or None,
    )


def quote_from_wire(quote: wire.WireQuote, consignment_reference: str) -> Quote:
    if not quote.quote_reference:
        raise UnexpectedResponse("a quote came back without a QuoteReference")
    if quote.expiry_date is None:
        raise UnexpectedResponse(f"quote {quote.quote_reference} has no ExpiryDate")
    service = _first_service(quote) or wire.CarrierService()
    carrier_code = quote.carrier_reference or service.carrier_reference
    if not carrier_code:
        raise UnexpectedResponse(f"quote {quote.quote_reference} names no carrier")
    carrier_name = service.carrier_name or humanise_carrier(carrier_code)
    service_code = quote.mpd_carrier_service_reference or service.reference or ""
    service_name = quote.mpd_carrier_service or service.name or service_code
    return Quote(
        reference=quote.quote_reference,
        consignment_reference=quote.consignment_reference or consignment_reference,
        carrier_code=carrier_code,
        carrier_name=carrier_name,
        service_code=service_code,
        service_name=service_name,
        price=_price(quote),
        collection_date=quote.collection_date,
        earliest_delivery=quote.earliest_delivery_date,
        latest_delivery=quote.latest_delivery_date,
        expires_at=quote.expiry_date,
        created_at=quote.creation_date,
        inbound=takes_inbound(quote.service_direction or service.service_direction),
    )


def takes_inbound(direction: int | str | None) -> bool | None:
    """ServiceDirection, a flags string ("Outbound", "Inbound, Outbound"; VERIFIED in the
    docs' quotes examples): does the service carry returns? None when not said. GUESS: the
    SDK's numeric values of the flags are undocumented, so a number counts as not said."""
    if not isinstance(direction, str) or not direction.strip():
        return None
    flags = {part.strip().lower() for part in direction.replace("|", ",").split(",")}
    return "inbound" in flags


def _first_service(quote: wire.WireQuote) -> wire.CarrierService | None:
    for leg in quote.legs:
        if leg.carrier_service is not None:
            return leg.carrier_service
    return None


def _price(quote: wire.WireQuote) -> Price:
    """`Price` is the quote's total ("total price for the Quote"); `BasePrice` is a fallback."""
    rate = quote.price if quote.price and quote.price.gross is not None else quote.base_price
    if rate is None:
        raise UnexpectedResponse(f"quote {quote.quote_reference} has no Price")
    price = price_from_rate(rate)
    if price is None:
        raise UnexpectedResponse(f"quote {quote.quote_reference} has no gross price")
    return price


def price_from_rate(rate: wire.Rate) -> Price | None:
    """Net, VAT and gross from a Rate, filling one missing figure from the other two.

    None when the gross cannot be known (no Gross, and not both Net and VatAmount).
    """
    net, vat, gross = rate.net, rate.vat_amount, rate.gross
    if gross is None and net is not None and vat is not None:
        gross = net + vat
    if gross is None:
        return None
    if vat is None:
        vat = gross - net if net is not None else Decimal(0)
    if net is None:
        net = gross - vat
    currency = (rate.currency and rate.currency.iso_code) or "GBP"
    return Price(net=net, vat=vat, gross=gross, currency=currency)


def _unqualified(service: wire.WireUnqualifiedService) -> UnqualifiedService:
    return UnqualifiedService(
        service_name=service.mpd_carrier_service
        or service.mpd_carrier_service_reference
        or "Unknown service",
        carrier_code=service.carrier_reference,
        reason=service.exclusion_reason or "",
    )


# Short codes are acronyms (UPS, DHL, DPD); longer words are names (ROYAL_MAIL).
_ACRONYM_MAX = 3


def humanise_carrier(code: str) -> str:
    """ROYAL_MAIL -> "Royal Mail", UPS -> "UPS": for when PRO sends no CarrierName."""
    words = code.replace("_", " ").replace("-", " ").split()
    return " ".join(
        word.capitalize() if word.isupper() and len(word) > _ACRONYM_MAX else word for word in words
    )


# -- Allocation ------------------------------------------------------------------------------


def allocation_from_wire(
    summaries: Sequence[wire.AllocationSummary], consignment_reference: str
) -> Allocation:
    if not summaries:
        raise UnexpectedResponse("Allocate With Quote answered with no allocation summary")
    summary = summaries[0]
    # GUESS: a summary carries its own StatusCode; one that is an error means the
    # allocation was refused even though the HTTP status was a success.
    if summary.status_code is not None and summary.status_code >= 400:
        raise InvalidRequest(
            summary.description or "the allocation was refused", status=summary.status_code
        )
    legs = summary.consignment_legs
    carrier_code = summary.carrier_reference or _first(leg.carrier_reference for leg in legs)
    if not carrier_code:
        raise UnexpectedResponse("Allocate With Quote answered without a carrier")
    carrier_name = (
        summary.carrier_name
        or _first(leg.carrier_name for leg in legs)
        or humanise_carrier(carrier_code)
    )
    return Allocation(
        consignment_reference=consignment_reference,
        carrier_code=carrier_code,
        carrier_name=carrier_name,
        service_code=summary.carrier_service_reference,
        service_name=summary.carrier_service_name or summary.carrier_service_reference or "",
        tracking_numbers=_tracking(legs),
        description=summary.description,
    )


def _first(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value), None)


def _tracking(legs: Iterable[wire.ConsignmentLeg]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for leg in legs:
        for number in leg.tracking_references:
            if number:
                seen.setdefault(number, None)
    return tuple(seen)


# -- Documents -------------------------------------------------------------------------------

# The current docs list PDF, ZPL and ZPLII; older pages also PNG, but the SDK says Get
# Consignment Labels does not support it, so we never ask for it.
LABEL_EXTENSIONS = {"PDF": "pdf", "ZPL": "zpl", "ZPLII": "zpl"}
# GUESS: only application/pdf is documented; used when PRO sends no ContentType.
LABEL_CONTENT_TYPES = {
    "PDF": "application/pdf",
    "ZPL": "text/plain",
    "ZPLII": "text/plain",
}


def label_document(
    response: wire.LabelResponse, consignment_reference: str, label_format: str
) -> Document:
    fmt = label_format.upper()
    if fmt not in LABEL_EXTENSIONS:
        raise ValueError(f"unknown label format {label_format!r}")
    data = decode_base64(response.file, what=f"the label of {consignment_reference}")
    return Document(
        kind=DocumentKind.LABEL,
        name=f"{consignment_reference}.{LABEL_EXTENSIONS[fmt]}",
        content_type=response.content_type or LABEL_CONTENT_TYPES[fmt],
        data=data,
    )


_CUSTOMS_KINDS = (
    (DocumentKind.CN22, "cn22"),
    (DocumentKind.CN23, "cn23"),
    (DocumentKind.COMMERCIAL_INVOICE, "commercial-invoice"),
)


def customs_documents(
    response: wire.CustomsDocumentsResponse, consignment_reference: str
) -> tuple[Document, ...]:
    """CN22, CN23, then commercial invoices; numbered when there is more than one of a kind."""
    lists = {
        DocumentKind.CN22: response.cn22_documents,
        DocumentKind.CN23: response.cn23_documents,
        DocumentKind.COMMERCIAL_INVOICE: response.commercial_invoice_documents,
    }
    documents: list[Document] = []
    for kind, slug in _CUSTOMS_KINDS:
        entries = lists[kind]
        for number, entry in enumerate(entries, start=1):
            suffix = f"-{number}" if len(entries) > 1 else ""
            name = f"{consignment_reference}-{slug}{suffix}.pdf"
            data = decode_base64(entry.value, what=f"{name} ({entry.key})")
            documents.append(
                Document(kind=kind, name=name, content_type="application/pdf", data=data)
            )
    return tuple(documents)


_PDF_MAGIC = b"%PDF"
_PDF_MAGIC_BASE64 = b"JVBER"  # base64 of "%PDF"


def decode_base64(text: str | None, *, what: str) -> bytes:
    """Strict base64 (whitespace allowed) so a truncated or placeholder value is an error.

    The docs' label example is base64 of *base64 of* a PDF (it decodes to "JVBERi0x...").
    That is probably an artefact of the hand-written example, but it costs nothing to
    accept: a real PDF never starts with "JVBER", so we only unwrap that case.
    """
    if not text:
        raise UnexpectedResponse(f"{what} came back empty")
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnexpectedResponse(f"{what} is not valid base64") from exc
    if data.startswith(_PDF_MAGIC_BASE64):
        try:
            inner = base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            return data
        if inner.startswith(_PDF_MAGIC):
            return inner
    return data


# -- Manifest --------------------------------------------------------------------------------


def manifest_request(
    shipping_locations: Sequence[str], states: Sequence[str], carriers: Sequence[str] | None
) -> wire.ManifestFromQueryRequest:
    for name, values in (
        ("shipping_locations", shipping_locations),
        ("states", states),
        ("carriers", carriers),
    ):
        if isinstance(values, str):  # a bare string would be sent letter by letter
            raise TypeError(f"{name} must be a sequence of strings, not a string")
    return wire.ManifestFromQueryRequest(
        shipping_location_references=list(shipping_locations),
        states=list(states),
        carriers=list(carriers) if carriers is not None else None,
    )


_QUEUED = re.compile(r"(\d+)\s+successfully\s+queued", re.IGNORECASE)


def manifest_result(response: wire.ManifestFromQueryResponse) -> ManifestResult:
    """The reply says how many it queued ("Query found N consignment(s). M successfully
    queued to manifest ..."): trust that count, not the list we think we sent. A message in
    another wording gives `queued=None`, and the caller looks each consignment up."""
    message = response.message or ""
    match = _QUEUED.search(message)
    return ManifestResult(
        message=message,
        failed=tuple(ref for ref in response.failed_consignments if ref),
        queued=int(match.group(1)) if match else None,
    )


# -- Get Consignment -------------------------------------------------------------------------

# The SDK's ConsignmentState numbers, in case a state ever comes back as an int.
SDK_STATE_NAMES = {
    0: "Unallocated",
    1: "Allocating",
    2: "AllocationFailed",
    3: "Allocated",
    4: "Manifesting",
    5: "Manifested",
    6: "ManifestFailed",
    7: "Dispatched",
    9: "AtDropOffPoint",
    10: "Collected",
    11: "CollectionFailed",
    12: "InTransit",
    13: "Delayed",
    14: "OutForDelivery",
    15: "DeliveryFailed",
    16: "DeliveryFailedCardLeft",
    17: "Delivered",
    18: "PartiallyDelivered",
    19: "AtCollectionPoint",
    20: "ReturnToSender",
    21: "ActionRequired",
    22: "Missing",
    23: "Lost",
    24: "Damaged",
    25: "Cancelling",
    26: "Cancelled",
    27: "InTransitWaiting",
    28: "HeldByCarrier",
    29: "ExchangeFailed",
    30: "AtCustoms",
    31: "CarrierUnableToCollect",
    32: "DeliveredDamaged",
    40: "ReadyToShip",
}


def consignment_status(
    response: wire.ConsignmentResponse, consignment_reference: str
) -> ConsignmentStatus:
    raw = response.consignment_state
    raw_state = SDK_STATE_NAMES.get(raw, str(raw)) if isinstance(raw, int) else (raw or "")
    legs = list(response.consignment_legs)
    for package in response.packages:
        legs.extend(package.consignment_legs or ())
    # VERIFIED (SDK): Allocation names the service only; the carrier is on the legs.
    allocation = response.allocation or wire.ConsignmentAllocation()
    carrier_code = _first(leg.carrier_reference for leg in legs)
    carrier_name = _first(leg.carrier_name for leg in legs)
    if carrier_code and not carrier_name:
        carrier_name = humanise_carrier(carrier_code)
    service_name = (
        allocation.mpd_carrier_service_name
        or allocation.carrier_service_name
        or allocation.mpd_carrier_service
    )
    return ConsignmentStatus(
        reference=response.reference or consignment_reference,
        state=ConsignmentState.parse(raw_state),
        raw_state=raw_state,
        shipper_reference=response.consignment_reference_provided_by_customer or None,
        carrier_code=carrier_code,
        carrier_name=carrier_name,
        service_name=service_name,
        service_code=allocation.mpd_carrier_service_reference,
        allocated_at=allocation.allocation_date,
        price=price_from_rate(allocation.price) if allocation.price else None,
        tracking_numbers=_tracking(legs),
        earliest_delivery=response.earliest_delivery_date,
        latest_delivery=response.latest_delivery_date,
        shipping_date=response.shipping_date.date() if response.shipping_date else None,
        destination=destination_text(response.addresses),
    )


def destination_text(addresses: list[wire.Address]) -> str | None:
    """ "Leeds LS1 4AP, GB": enough for the desk to know which parcel it is."""
    found = next(
        (a for a in addresses if (a.address_type or "").lower() == "destination"),
        addresses[-1] if len(addresses) > 1 else None,
    )
    if found is None:
        return None
    country = (
        found.country.iso_code.two_letter_code if found.country and found.country.iso_code else None
    )
    place = " ".join(p for p in (found.town, found.postcode) if p)
    text = ", ".join(p for p in (place, country) if p)
    return text or None


# -- Search Consignments and the full Get Consignment (consignments made elsewhere) ----------


def _state_name(raw: str | int | None) -> str:
    return SDK_STATE_NAMES.get(raw, str(raw)) if isinstance(raw, int) else (raw or "")


def _source_name(raw: str | int | None) -> str | None:
    # The SDK's enum Source {Api = 0, Web = 1}; a string on the wire.
    if isinstance(raw, int):
        return {0: "Api", 1: "Web"}.get(raw, str(raw))
    return raw or None


def _direction(raw: str | int | None) -> Direction:
    # The SDK's enum ConsignmentDirection {Outbound = 0, Inbound = 1}; a string on the wire.
    if raw == 1 or (isinstance(raw, str) and raw.strip().lower() == "inbound"):
        return Direction.INBOUND
    return Direction.OUTBOUND


def _customer_of(response: wire.ConsignmentResponse, inbound: bool) -> wire.Address | None:
    """The end customer's address: the Destination, or for a return (Inbound) the Origin."""
    wanted = "origin" if inbound else "destination"
    return next((a for a in response.addresses if (a.address_type or "").lower() == wanted), None)


def found_from_summary(row: wire.ConsignmentSummary) -> FoundConsignment:
    if not row.reference:
        raise UnexpectedResponse("a Search Consignments row came back without a Reference")
    raw_state = _state_name(row.state)
    return FoundConsignment(
        reference=row.reference,
        state=ConsignmentState.parse(raw_state),
        raw_state=raw_state,
        order_number=row.consignment_reference_provided_by_customer or None,
        source=_source_name(row.source),
        created_at=row.date_created,
        service_name=(row.mpd_carrier_service_name or "").strip() or None,
        town=row.destination_address_town or None,
        postcode=row.destination_address_postcode or None,
        country=row.destination_address_country or None,
        failure=row.failed_allocation_message or None,
    )


def search_results(response: wire.MatchingConsignmentsResponse) -> tuple[FoundConsignment, ...]:
    return tuple(found_from_summary(row) for row in response.consignment_summaries)


def _recipient(address: wire.Address) -> Recipient | None:
    contact = address.contact or wire.Contact()
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    name = name or address.customer_name or address.company_name or ""
    country = (
        address.country.iso_code.two_letter_code
        if address.country and address.country.iso_code
        else None
    )
    if not (name and address.address_line1 and address.town and address.postcode and country):
        return None
    return Recipient(
        name=name,
        email=contact.email or None,
        phone=contact.telephone or contact.mobile or contact.land_line or None,
        company=address.company_name or None,
        line1=address.address_line1,
        line2=address.address_line2 or None,
        line3=address.address_line3 or None,
        town=address.town,
        region=address.region or None,
        postcode=address.postcode,
        country=country.upper(),
    )


def _request_from_record(
    response: wire.ConsignmentResponse,
    recipient: Recipient | None,
    reference: str,
    direction: Direction = Direction.OUTBOUND,
) -> ShipmentRequest | None:
    """The record as our form would have it, for a replacement. GUESS where the models
    differ: the first package's size stands for all (our form ships identical parcels),
    weights and sizes are taken as Kg/Cm (what PRO echoes), and the value is the
    consignment's (else the packages' sum)."""
    packages = response.packages
    if recipient is None or not packages:
        return None
    first = packages[0]
    dims = first.dimensions or wire.Dimensions()
    weight = first.weight.value if first.weight else None
    if weight is None or dims.length is None or dims.width is None or dims.height is None:
        return None
    amount = response.value.amount if response.value and response.value.amount is not None else None
    if amount is None:
        amount = sum(
            (p.value.amount for p in packages if p.value and p.value.amount is not None),
            Decimal(0),
        )
    currency = (
        response.value.currency.iso_code
        if response.value and response.value.currency and response.value.currency.iso_code
        else "GBP"
    )
    return ShipmentRequest(
        shipper_reference=reference,
        order_number=response.consignment_reference_provided_by_customer or None,
        recipient=recipient,
        parcel=Parcel(
            weight_kg=weight, length_cm=dims.length, width_cm=dims.width, height_cm=dims.height
        ),
        parcel_count=len(packages),
        value=Money(amount=amount, currency=currency),
        contents=first.description or "Goods",
        direction=direction,
    )


def consignment_detail(
    response: wire.ConsignmentResponse, consignment_reference: str
) -> ConsignmentDetail:
    status = consignment_status(response, consignment_reference)
    direction = _direction(response.direction)
    # A return made elsewhere (Inbound): its customer is the Origin, taken over as a return.
    destination = _customer_of(response, direction is Direction.INBOUND)
    recipient = _recipient(destination) if destination else None
    failed = response.failed_allocation
    country = None
    if destination and destination.country and destination.country.iso_code:
        country = destination.country.iso_code.two_letter_code
    return ConsignmentDetail(
        reference=status.reference,
        state=status.state,
        raw_state=status.raw_state,
        order_number=status.shipper_reference,
        source=_source_name(response.source),
        created_at=response.date_created,
        service_name=status.service_name,
        town=destination.town if destination else None,
        postcode=destination.postcode if destination else None,
        country=country,
        failure=(failed.message if failed else None) or None,
        recipient=recipient,
        request=_request_from_record(response, recipient, status.reference, direction),
        direction=direction,
        carrier_code=status.carrier_code,
        carrier_name=status.carrier_name,
        service_code=status.service_code,
        tracking_numbers=status.tracking_numbers,
        allocated_at=status.allocated_at,
        price=status.price,
    )


# -- Update Consignment: PUT /consignments/ (a full replace) ---------------------------------

# What Update Consignment takes (UpdateConsignmentRequest). Everything it omits is deleted
# (Packages: CONFLICT, kept per the help page, removed per the SDK), so all are copied.
UPDATE_FIELDS = (
    "Reference",
    "ShippingDate",
    "RequestedDeliveryDate",
    "ConsignmentReferenceProvidedByCustomer",
    "CustomsDocumentation",
    "Addresses",
    "MetaData",
    "Packages",
    "Tags",
)
# Get Consignment's package fields that are the carrier's, not ours to send back.
_PACKAGE_READ_ONLY = ("ConsignmentLegs", "Charges")


def destination_address(
    recipient: Recipient, current: dict[str, object] | None
) -> dict[str, object]:
    """The Destination as PRO spells it: the agent's fields over the current address, so
    what the form doesn't show (special instructions, contact extras) is kept. LatLong goes:
    it described the old address."""
    base: dict[str, object] = dict(current or {})
    old_contact = base.get("Contact")
    contact: dict[str, object] = dict(old_contact) if isinstance(old_contact, dict) else {}
    first, last = split_name(recipient.name)
    contact.update(
        {
            "FirstName": first,
            "LastName": last,
            "Email": recipient.email,
            "Telephone": recipient.phone,
        }
    )
    base.update(
        {
            "AddressType": "Destination",
            "Contact": contact,
            "CompanyName": recipient.company,
            "AddressLine1": recipient.line1,
            "AddressLine2": recipient.line2,
            "AddressLine3": recipient.line3,
            "Town": recipient.town,
            "Region": recipient.region,
            "Postcode": recipient.postcode,
            "Country": {"IsoCode": {"TwoLetterCode": recipient.country.upper()}},
            "LatLong": None,
        }
    )
    return base


def update_request(record: dict[str, object], recipient: Recipient) -> dict[str, object]:
    """The whole record as read just before, with only the destination changed."""
    body: dict[str, object] = {name: record[name] for name in UPDATE_FIELDS if name in record}
    addresses = record.get("Addresses")
    if not isinstance(addresses, list) or not addresses:
        raise UnexpectedResponse("Get Consignment answered without Addresses")
    replaced = False
    new_addresses: list[object] = []
    for address in addresses:
        if (
            isinstance(address, dict)
            and str(address.get("AddressType", "")).lower() == "destination"
        ):
            new_addresses.append(destination_address(recipient, address))
            replaced = True
        else:
            new_addresses.append(address)
    if not replaced:
        new_addresses.append(destination_address(recipient, None))
    body["Addresses"] = new_addresses
    packages = record.get("Packages")
    if isinstance(packages, list):
        body["Packages"] = [
            {k: v for k, v in p.items() if k not in _PACKAGE_READ_ONLY}
            if isinstance(p, dict)
            else p
            for p in packages
        ]
    return body
