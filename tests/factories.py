"""Shared builders of our own models for tests and benchmarks that need a request or quotes
without going through the form or the carrier."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Unpack

from bot.carrier.client import CarrierClient, ClientOptions
from bot.carrier.factory import carrier_client
from bot.models import Money, Parcel, Price, Quote, QuoteSet, Recipient, ShipmentRequest
from bot.settings import Settings

MakeClient = Callable[..., CarrierClient]


def client_at(url: str, key: str = "key", **options: Unpack[ClientOptions]) -> CarrierClient:
    """A client of the carrier (sandbox or wire server) at `url`, built the way the bot
    builds its own (`carrier_client`), from default settings and these options."""
    return carrier_client(Settings.model_construct(), url=url, api_key=key, **options)


@contextmanager
def carrier_clients(url: str, key: str, **defaults: Any) -> Iterator[MakeClient]:
    """`make(**options)` builds a CarrierClient (options over `defaults`); all closed at the end."""
    clients: list[CarrierClient] = []

    def make(**options: Any) -> CarrierClient:
        client = client_at(url, key, **(defaults | options))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def parcel(kg: str | int, length: str | int, width: str | int, height: str | int) -> Parcel:
    """One parcel: weight in kg, sides in cm, each as Decimal takes it ("1.2", 30)."""
    return Parcel(
        weight_kg=Decimal(kg),
        length_cm=Decimal(length),
        width_cm=Decimal(width),
        height_cm=Decimal(height),
    )


def shipment_request(
    ref: str = "SHIP-1",
    *,
    order_number: str | None = "1182",
    name: str = "Rosa Customer",
    postcode: str = "SW1A 2AA",
    country: str = "GB",
    town: str = "London",
    parcel_count: int = 2,
) -> ShipmentRequest:
    return ShipmentRequest(
        shipper_reference=ref,
        order_number=order_number,
        recipient=Recipient(
            name=name, line1="1 Road", town=town, postcode=postcode, country=country
        ),
        parcel=parcel("1.2", 30, 20, 10),
        parcel_count=parcel_count,
        value=Money(amount=Decimal("49.99")),
        contents="Shoes",
    )


def quote(
    reference: str, consignment_reference: str, *, expires_at: datetime | None = None
) -> Quote:
    """A DPD Next Day quote (7.92 gross) for the consignment, 15 minutes left unless told."""
    return Quote(
        reference=reference,
        consignment_reference=consignment_reference,
        carrier_code="DPD",
        carrier_name="DPD",
        service_code="DPD_NEXT",
        service_name="Next Day",
        price=Price(net=Decimal("6.60"), vat=Decimal("1.32"), gross=Decimal("7.92")),
        expires_at=expires_at or datetime.now(UTC) + timedelta(minutes=15),
    )


def quote_set(consignment_reference: str, n: int = 2, *, ttl: timedelta | None = None) -> QuoteSet:
    expires = datetime.now(UTC) + (ttl or timedelta(minutes=15))
    return QuoteSet(
        request_reference="req-1",
        quotes=tuple(quote(f"q-{i}", consignment_reference, expires_at=expires) for i in range(n)),
    )
