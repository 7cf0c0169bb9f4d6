"""Sorted PRO's five steps through the typed client, against any sandbox URL; saves the label.

    .venv/bin/shipbot sandbox --port 8089 &
    .venv/bin/python scripts/five_steps.py http://127.0.0.1:8089 label.pdf

Only `CarrierClient` talks to the API, so this is also a quick check that a sandbox (ours
or Sorted's, with --api-key and --shipping-location) agrees with the client.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path

from bot.carrier.errors import CarrierError
from bot.carrier.factory import carrier_client
from bot.models import Money, Parcel, Recipient, ShipmentRequest
from bot.settings import PLACEHOLDER_API_KEY, SANDBOX_SHIPPING_LOCATION, Settings

EXAMPLE = ShipmentRequest(
    shipper_reference="FIVE-STEPS-1",
    recipient=Recipient(
        name="Ada Lovelace", line1="12 Analytical Row", town="London",
        postcode="SW1A 1AA", country="GB", email="ada@example.com",
    ),
    parcel=Parcel(
        weight_kg=Decimal("1.5"), length_cm=Decimal(30), width_cm=Decimal(20),
        height_cm=Decimal(10),
    ),
    value=Money(amount=Decimal("25.00")),
    contents="Books",
)  # fmt: skip


def run(url: str, label_path: Path, api_key: str, shipping_location: str) -> None:
    with carrier_client(Settings.model_construct(), url=url, api_key=api_key) as client:
        reference = client.create_consignment(EXAMPLE, shipping_location)
        print(f"1. created {reference}")
        quotes = client.get_quotes(reference)
        quote = min(quotes.quotes, key=lambda q: q.price.gross)
        print(
            f"2. {len(quotes.quotes)} quote(s); cheapest {quote.service_name} £{quote.price.gross}"
        )
        allocation = client.allocate_with_quote(quote)
        print(
            f"3. allocated to {allocation.carrier_name}: {', '.join(allocation.tracking_numbers)}"
        )
        label = client.get_label(reference, "PDF")
        label_path.write_bytes(label.data)
        print(f"4. label ({len(label.data)} bytes, {label.content_type}) -> {label_path}")
        print(f"5. {client.manifest_from_query([shipping_location]).message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("url", help="the API's base URL, e.g. http://127.0.0.1:8089")
    parser.add_argument("label", type=Path, help="where to write the label PDF")
    parser.add_argument("--api-key", default=PLACEHOLDER_API_KEY)
    parser.add_argument("--shipping-location", default=SANDBOX_SHIPPING_LOCATION)
    args = parser.parse_args(argv)
    try:
        run(args.url, args.label, args.api_key, args.shipping_location)
    except CarrierError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
