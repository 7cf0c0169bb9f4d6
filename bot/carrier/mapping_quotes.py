"""Sorted PRO's quotes and allocation replies as our `QuoteSet` and `Allocation` (pure).

A reply that lacks what the domain needs raises `UnexpectedResponse`; the client adds
the HTTP status.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from bot.carrier import wire
from bot.carrier.errors import InvalidRequest, UnexpectedResponse
from bot.models import (
    Allocation,
    Price,
    Quote,
    QuoteSet,
    UnqualifiedService,
)

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
    carrier_code = summary.carrier_reference or first_of(leg.carrier_reference for leg in legs)
    if not carrier_code:
        raise UnexpectedResponse("Allocate With Quote answered without a carrier")
    carrier_name = (
        summary.carrier_name
        or first_of(leg.carrier_name for leg in legs)
        or humanise_carrier(carrier_code)
    )
    return Allocation(
        consignment_reference=consignment_reference,
        carrier_code=carrier_code,
        carrier_name=carrier_name,
        service_code=summary.carrier_service_reference,
        service_name=summary.carrier_service_name or summary.carrier_service_reference or "",
        tracking_numbers=tracking_of(legs),
        description=summary.description,
    )


def first_of(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value), None)


def tracking_of(legs: Iterable[wire.ConsignmentLeg]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for leg in legs:
        for number in leg.tracking_references:
            if number:
                seen.setdefault(number, None)
    return tuple(seen)
