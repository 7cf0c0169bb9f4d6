"""The sandbox's state in Sorted PRO's JSON shapes (copied from the docs' examples).

Nulls are explicit, as Get Consignment's example shows. Dates use the three formats the
docs show: no offset for collection/delivery days, a 7-digit fraction plus offset for
creation times, seconds plus offset for ExpiryDate.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot.sandbox.catalogue import (
    COUNTRIES,
    REMOTE_SURCHARGE_REFERENCE,
    VAT_RATE,
    VAT_REFERENCE,
    Exclusion,
    Rate,
    Service,
)
from bot.sandbox.errors import ApiProblem
from bot.sandbox.state import AllocationRecord, ConsignmentView, QuoteRecord, QuoteSet
from bot.sandbox.validation import Address

REQUESTOR = "Shipbot Sandbox"
CURRENCY = {"Name": "Pound Sterling", "IsoCode": "GBP"}


def precise(moment: datetime) -> str:
    """`2019-04-30T14:10:26.8551633+00:00`: .NET's 7-digit fraction, as CreationDate has."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0+00:00"


def with_offset(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}+00:00"


def day(value: date, *, end_of_day: bool = False) -> str:
    return f"{value:%Y-%m-%d}T{'23:59:00' if end_of_day else '00:00:00'}"


def _day_or_none(value: date | None) -> str | None:
    return None if value is None else day(value)


def _precise_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else precise(moment)


def _weight(view: ConsignmentView) -> dict[str, Any]:
    """The consignment's weight: all its packages together."""
    total_kg = sum((p.size.weight_kg for p in view.request.packages), Decimal(0))
    return {"Value": float(total_kg), "Unit": "Kg"}


def _number(value: Decimal) -> float:
    """2-dp decimals survive float's shortest repr, so the JSON text is the exact figure."""
    return float(value)


def rate(value: Rate) -> dict[str, Any]:
    return {
        "Net": _number(value.net),
        "Gross": _number(value.gross),
        "VatRate": {
            "Reference": VAT_REFERENCE,
            "CountryIsoCode": "GB",
            "Type": "Standard",
            "Rate": float(VAT_RATE),
        },
        "VatAmount": _number(value.vat),
        "Currency": dict(CURRENCY),
    }


def country(code: str) -> dict[str, Any]:
    name, alpha3, numeric = COUNTRIES.get(code, (code, None, None))
    return {
        "Name": name,
        "IsoCode": {"TwoLetterCode": code, "ThreeLetterCode": alpha3, "NumericCode": numeric},
    }


def quote_address(address: Address) -> dict[str, Any]:
    wire = address.wire
    return {
        "ShippingLocationReference": wire["ShippingLocationReference"],
        "AddressLine1": wire["AddressLine1"],
        "AddressLine2": wire["AddressLine2"],
        "AddressLine3": wire["AddressLine3"],
        "Town": wire["Town"],
        "Region": wire["Region"],
        "Postcode": wire["Postcode"],
        "Country": country(address.country),
        "RegionCode": wire["RegionCode"],
        "SpecialInstructions": wire["SpecialInstructions"],
        "IsCached": wire["IsCached"],
    }


def _surcharges(quote: QuoteRecord) -> list[dict[str, Any]]:
    amount = quote.pricing.remote_surcharge
    if not amount:
        return []
    return [
        {
            "Reference": REMOTE_SURCHARGE_REFERENCE,
            "CurrencyIsoCode": "GBP",
            "Amount": _number(amount),
            "ApplicationType": "PerPackage",
            "Type": "RemoteArea",
            "AppliesToBase": True,
            "AppliesToBaseOnly": False,
            "CalculationModel": "Fixed",
            "IncrementalUnitFactor": None,
            "IncrementalUnitPrice": None,
            "MinimumAmount": None,
            "MaximumAmount": None,
        }
    ]


def _leg(service: Service) -> dict[str, Any]:
    carrier = service.carrier
    return {
        "JourneyStage": 1,
        "CarrierService": {
            "Reference": service.reference,
            "Name": service.name,
            "CarrierReference": carrier.reference,
            "CarrierName": carrier.name,
            "IsDropOff": False,
            "IsPickUp": False,
            "IsTimed": False,
            "ServiceDirection": service.directions,
        },
        "CarrierAccountReference": carrier.account_reference,
        "DeliveryHub": None,
        "CostItems": None,
        "VolumetricParcelWeight": None,
        "CollectionType": "NotApplicable",
    }


def quote(value: QuoteRecord) -> dict[str, Any]:
    service = value.service
    return {
        "MpdCarrierServiceSource": 2,
        "MpdCarrierService": service.name,
        "CarrierReference": service.carrier.reference,
        "ServiceDirection": service.directions,
        "OriginAddress": quote_address(value.consignment.origin),
        "DestinationAddress": quote_address(value.consignment.destination),
        "CollectionDate": day(value.collection),
        "EarliestDeliveryDate": day(value.earliest),
        "LatestDeliveryDate": day(value.latest, end_of_day=True),
        "BasePrice": rate(value.pricing.base),
        "Price": rate(value.pricing.total),
        "Surcharges": _surcharges(value),
        "Legs": [_leg(service)],
        "CarrierAccountOwner": None,
        "IsElectioService": False,
        "QuoteReference": value.reference,
        "CreationDate": precise(value.created),
        "ExpiryDate": with_offset(value.expires),
        "Requestor": REQUESTOR,
        "ConsignmentReference": value.consignment_reference,
        "ConsignmentReferenceProvidedByCustomer": value.consignment.customer_reference,
        "MpdCarrierServiceReference": service.mpd_reference,
    }


def unqualified(service: Service, exclusion: Exclusion) -> dict[str, Any]:
    return {
        "Available": exclusion.available,
        "Rates": exclusion.rates,
        "MpdCarrierService": service.name,
        "MpdCarrierServiceReference": service.mpd_reference,
        "CarrierReference": service.carrier.reference,
        "ExclusionReason": exclusion.reason,
    }


def quote_set(value: QuoteSet) -> dict[str, Any]:
    return {
        "QuoteRequestReference": value.request_reference,
        "Quotes": [quote(q) for q in value.quotes],
        "Message": None if value.quotes else "No services are available for this consignment.",
        "UnqualifiedServices": [unqualified(s, e) for s, e in value.excluded],
    }


def _consignment_leg(allocation: AllocationRecord, tracking: list[str]) -> dict[str, Any]:
    return {
        "Leg": 1,
        "TrackingReferences": tracking,
        "CarrierReference": allocation.carrier.reference,
        "CarrierServiceReference": allocation.service.reference,
        "CarrierName": allocation.carrier.name,
    }


def _link(base_url: str, rel: str, path: str) -> dict[str, str]:
    return {"Rel": rel, "Href": f"{base_url}{path}"}


def allocation_summary(base_url: str, view: ConsignmentView) -> list[dict[str, Any]]:
    allocation = view.allocation
    assert allocation is not None
    service = allocation.service
    shipping = allocation.quote.collection
    return [
        {
            "StatusCode": 200,
            "ApiLinks": [
                _link(base_url, "detail", f"/consignments/{view.reference}"),
                _link(base_url, "label", f"/labels/{view.reference}"),
            ],
            "Description": f"Consignment {view.reference} has been successfully allocated with "
            f"{service.name} for shipping on {shipping:%d/%m/%Y} 17:00:00 +00:00",
            "ConsignmentLegs": [_consignment_leg(allocation, list(allocation.tracking))],
            "CarrierReference": allocation.carrier.reference,
            "CarrierName": allocation.carrier.name,
            "CarrierServiceReference": service.mpd_reference,
            "CarrierServiceName": service.name,
        }
    ]


def _allocation(allocation: AllocationRecord | None) -> dict[str, Any] | None:
    """The SDK's Consignments.Allocation: the service only, no carrier (that is on the legs)."""
    if allocation is None:
        return None
    return {
        # The sandbox has no service groups; a real account may (null when it has none).
        "CarrierServiceGroupReference": None,
        "MpdCarrierServiceGroupName": None,
        "MpdCarrierServiceReference": allocation.service.mpd_reference,
        "MpdCarrierServiceName": allocation.service.name,
        "AllocationDate": precise(allocation.allocated_at),
        "Price": rate(allocation.quote.pricing.total),
    }


def _packages(view: ConsignmentView) -> list[dict[str, Any]]:
    found = []
    for n, package in enumerate(view.request.packages):
        wire = package.wire
        legs = []
        if view.allocation is not None:
            legs = [_consignment_leg(view.allocation, [view.allocation.tracking[n]])]
        found.append(
            {
                "ConsignmentLegs": legs,
                "Items": wire.get("Items") or [],
                "Charges": [],
                "Reference": view.package_references[n],
                "PackageReferenceProvidedByCustomer": wire.get(
                    "PackageReferenceProvidedByCustomer"
                ),
                "Weight": wire["Weight"],
                "Dimensions": wire["Dimensions"],
                "Description": wire.get("Description"),
                "Value": wire.get("Value"),
                "PackageSizeReference": wire.get("PackageSizeReference"),
                "Barcode": wire.get("Barcode"),
                "MetaData": wire.get("MetaData") or [],
            }
        )
    return found


def consignment(view: ConsignmentView) -> dict[str, Any]:
    request = view.request
    allocation = view.allocation
    quote_used = allocation.quote if allocation else None
    shipped = view.collected_at
    return {
        "Reference": view.reference,
        "ConsignmentState": view.state,
        "DateCreated": precise(view.created),
        "Source": request.source,
        "Direction": request.direction,
        "LabelCount": len(request.packages) if allocation else 0,
        "LabelsPrinted": view.labels_printed_at is not None,
        "DateLabelsWereFirstPrinted": _precise_or_none(view.labels_printed_at),
        "IsLate": False,
        "LateForCustomer": False,
        "CustomerReference": view.customer_guid,
        "Weight": _weight(view),
        "Value": {"Amount": float(request.declared_value), "Currency": dict(CURRENCY)},
        "ConsignmentLegs": [_consignment_leg(allocation, list(allocation.tracking))]
        if allocation
        else [],
        "Allocation": _allocation(allocation),
        "FailedAllocation": _failed_allocation(view),
        "CollectionDate": _day_or_none(quote_used.collection if quote_used else None),
        "DateDelivered": _precise_or_none(view.delivered_at),
        "FirstAttemptedDeliveryDate": None,
        "DateReturned": None,
        "DateShipped": _precise_or_none(shipped),
        "DateCollected": _precise_or_none(shipped),
        "AttemptedDeliveryDate": None,
        "MetaData": request.metadata,
        "CustomsDocumentation": request.customs,
        "Tags": request.tags,
        "ShippingDate": _day_or_none(view.shipping_date),
        "RequestedDeliveryDate": request.requested_delivery,
        "EarliestDeliveryDate": _day_or_none(quote_used.earliest if quote_used else None),
        "LatestDeliveryDate": day(quote_used.latest, end_of_day=True) if quote_used else None,
        "ConsignmentReferenceProvidedByCustomer": request.customer_reference,
        "Addresses": [request.origin.wire, request.destination.wire],
        "Packages": _packages(view),
    }


def _failed_allocation(view: ConsignmentView) -> dict[str, Any] | None:
    if not view.failure:
        return None
    return {
        "CarrierServiceGroupReference": None,
        "MpdCarrierServiceGroupName": None,
        "MpdCarrierServiceReference": None,
        "MpdCarrierServiceName": None,
        "AttemptedAllocationDate": precise(view.created),
        "Message": view.failure,
    }


def summary(base_url: str, view: ConsignmentView) -> dict[str, Any]:
    """A Search Consignments row (ConsignmentSummary): `State`, not `ConsignmentState`, and
    no tracking numbers or origin, as the docs' example shows."""
    request = view.request
    destination = request.destination
    allocation = view.allocation
    return {
        "Source": request.source,
        "MpdCarrierServiceName": allocation.service.name if allocation else None,
        "MpdCarrierServiceGroupName": None,
        "MpdCarrierServiceGroupReference": "",
        "DestinationAddressLine1": destination.text("AddressLine1"),
        "DestinationAddressTown": destination.text("Town"),
        "DestinationAddressPostcode": destination.postcode,
        "DestinationAddressCountry": destination.country,
        "DestinationShippingLocationReference": None,
        "RequestedDeliveryDate": None,
        "RequestedDeliveryDateIsToBeExactlyOnTheDateSpecified": False,
        "LabelsPrinted": view.labels_printed_at is not None,
        "DateLabelsWereFirstPrinted": _precise_or_none(view.labels_printed_at),
        "EstimatedDeliveryDate": None,
        "ShippingTerms": None,
        "FailedAllocationAttemptedAllocationDate": precise(view.created) if view.failure else None,
        "FailedAllocationMessage": view.failure,
        "FailedAllocationMpdCarrierServiceReference": None,
        "FailedAllocationMpdCarrierServiceGroupName": None,
        "FailedAllocationMpdCarrierServiceGroupReference": None,
        "FailedAllocationMpdCarrierServiceName": None,
        "IsLate": False,
        "DeliveryDate": None,
        "CollectionDate": None,
        "AttemptedDeliveryDate": None,
        "Value": {"Amount": float(request.declared_value), "Currency": dict(CURRENCY)},
        "Weight": _weight(view),
        "ApiLink": _link(base_url, "detail", f"/consignments/{view.reference}"),
        "FailedManifestMessage": None,
        "FailedManifestTimeStamp": None,
        "Reference": view.reference,
        "ConsignmentReferenceProvidedByCustomer": request.customer_reference,
        "DateCreated": precise(view.created),
        "State": view.state,
        "ShippingDate": _day_or_none(view.shipping_date),
        "MpdCarrierReference": None,  # null in the docs' example even when allocated
        "MpdCarrierServiceReference": allocation.service.mpd_reference if allocation else None,
        "AllocationDate": precise(allocation.allocated_at) if allocation else None,
        "ShippedDate": None,
    }


def error(problem: ApiProblem, correlation_id: str) -> dict[str, Any]:
    return {
        "Code": problem.code,
        "Message": problem.message,
        "CorrelationId": correlation_id,
        "Details": [
            {"Code": d.code, "Target": d.target, "Message": d.message} for d in problem.details
        ],
    }
