"""Our shipment as Sorted PRO's Create Consignment request (pure; no I/O).

Abroad it carries the customs content the Brexit guide lists; the reference of the new
consignment is read back from the reply's links.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

from bot.carrier import wire
from bot.carrier.customs import DEFAULT_PROFILE, SHIPPERS_EORI_KEY, CustomsProfile
from bot.carrier.errors import UnexpectedResponse
from bot.models import Direction, Money, ShipmentRequest

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
