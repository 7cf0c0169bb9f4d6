"""Get Consignment and Search Consignments as our status, found rows and full detail
(pure); consignments made elsewhere (the webshop) are read through here too.
"""

from __future__ import annotations

from decimal import Decimal

from bot.carrier import wire
from bot.carrier.errors import UnexpectedResponse
from bot.carrier.mapping_quotes import first_of, humanise_carrier, price_from_rate, tracking_of
from bot.carrier_states import ConsignmentState
from bot.models import (
    ConsignmentDetail,
    ConsignmentStatus,
    Direction,
    FoundConsignment,
    Money,
    Parcel,
    Recipient,
    ShipmentRequest,
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
    carrier_code = first_of(leg.carrier_reference for leg in legs)
    carrier_name = first_of(leg.carrier_name for leg in legs)
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
        tracking_numbers=tracking_of(legs),
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
