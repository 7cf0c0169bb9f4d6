"""The typed client against the sandbox: every refusal and fault arrives as the right error.

The sandbox and the client were written apart from the same wire notes, so agreement
here checks both.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.carrier import errors
from bot.carrier.client import CarrierClient
from bot.carrier_states import ConsignmentState
from bot.models import Customs, DocumentKind, ExportReason, Money, Quote, Recipient, ShipmentRequest
from bot.sandbox import SANDBOX_SHIPPING_LOCATION, SandboxConfig, start_sandbox
from bot.sandbox.server import RunningSandbox
from tests.factories import MakeClient, carrier_clients, client_at, parcel

KEY = "client-test-key"


SANDBOX_SEED = 3  # for conftest's module-wide `shared_sandbox`


@pytest.fixture
def sandbox(fresh_sandbox: RunningSandbox) -> RunningSandbox:
    return fresh_sandbox


@pytest.fixture
def make_client(sandbox: RunningSandbox) -> Iterator[MakeClient]:
    with carrier_clients(sandbox.url, KEY, read_timeout=5.0, connect_timeout=2.0) as make:
        yield make


@pytest.fixture
def client(make_client: MakeClient) -> CarrierClient:
    return make_client()


@pytest.fixture
def impatient(make_client: MakeClient) -> CarrierClient:
    """Gives up on a reply after 0.3 s (the sandbox's faults take longer)."""
    return make_client(read_timeout=0.3)


def shipment(
    *,
    country: str = "GB",
    postcode: str = "M1 1AA",
    parcels: int = 1,
    value: str = "40",
    weight: str = "1.5",
) -> ShipmentRequest:
    customs = None
    if country != "GB":
        customs = Customs(
            contents="Wool socks",
            hs_code="6115950000",
            origin_country="GB",
            item_value=Money(amount=Decimal(value)),
            reason=ExportReason.SALE,
        )
    return ShipmentRequest(
        shipper_reference="SHIP-42",
        order_number="ORD-42",
        recipient=Recipient(
            name="Ada Lovelace", line1="12 Analytical Row", town="Elsewhere",
            postcode=postcode, country=country, email="ada@example.com",
        ),
        parcel=parcel(weight, 30, 20, 10),
        parcel_count=parcels,
        value=Money(amount=Decimal(value)),
        contents="Socks",
        customs=customs,
    )  # fmt: skip


def created(client: CarrierClient, request: ShipmentRequest | None = None) -> str:
    return client.create_consignment(request or shipment(), SANDBOX_SHIPPING_LOCATION)


def first_quote(client: CarrierClient, reference: str) -> Quote:
    return client.get_quotes(reference).quotes[0]


def refused_as(
    error: type[errors.CarrierError], code: str | None, call: Callable[[], object]
) -> None:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error, caught.value
    assert caught.value.code == code, caught.value


# -- the five steps ---------------------------------------------------------------------------


def test_five_steps_through_the_client(client: CarrierClient, sandbox: RunningSandbox) -> None:
    reference = created(client, shipment(parcels=2))
    quotes = client.get_quotes(reference)
    assert quotes.request_reference and quotes.quotes
    assert all(q.price.net + q.price.vat == q.price.gross for q in quotes.quotes)
    assert {q.carrier_name for q in quotes.quotes} >= {"Royal Mail", "DPD", "Evri"}
    cheapest = min(quotes.quotes, key=lambda q: q.price.gross)
    assert cheapest.consignment_reference == reference
    assert cheapest.expires_at > datetime.now(UTC)

    allocation = client.allocate_with_quote(cheapest)
    assert allocation.carrier_code == cheapest.carrier_code
    assert allocation.service_name == cheapest.service_name
    assert len(allocation.tracking_numbers) == 2

    label = client.get_label(reference, "PDF")
    assert label.kind is DocumentKind.LABEL and label.content_type == "application/pdf"
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(label.data)).pages]
    assert len(pages) == 2
    for number, text in zip(allocation.tracking_numbers, pages, strict=True):
        assert number in text
    assert client.get_customs_documents(reference) == ()

    result = client.manifest_from_query([SANDBOX_SHIPPING_LOCATION])
    assert result.message.startswith("Query found 1 consignment(s). 1 successfully queued")
    assert result.failed == ()

    status = client.get_consignment(reference)
    assert status.state is ConsignmentState.MANIFESTED
    assert status.shipper_reference == "SHIP-42"
    assert status.carrier_code == allocation.carrier_code
    assert status.service_name == allocation.service_name
    assert status.tracking_numbers == allocation.tracking_numbers
    assert status.earliest_delivery == cheapest.earliest_delivery
    assert status.shipping_date == (cheapest.collection_date and cheapest.collection_date.date())
    sandbox.advance_clock(3 * 600)
    assert client.get_consignment(reference).state is ConsignmentState.DELIVERED


def test_customs_documents_through_the_client(client: CarrierClient) -> None:
    cheap = created(client, shipment(country="FR", postcode="75001", value="100"))
    client.allocate_with_quote(first_quote(client, cheap))
    kinds = [d.kind for d in client.get_customs_documents(cheap)]
    assert kinds == [DocumentKind.CN22, DocumentKind.COMMERCIAL_INVOICE]
    dear = created(client, shipment(country="US", postcode="10001", value="900", weight="1"))
    client.allocate_with_quote(first_quote(client, dear))
    documents = client.get_customs_documents(dear)
    assert [d.kind for d in documents] == [DocumentKind.CN23, DocumentKind.COMMERCIAL_INVOICE]
    assert all(d.data.startswith(b"%PDF-") for d in documents)


def test_zpl_label_through_the_client(client: CarrierClient) -> None:
    reference = created(client)
    allocation = client.allocate_with_quote(first_quote(client, reference))
    label = client.get_label(reference, "ZPL")
    assert label.data.startswith(b"^XA") and allocation.tracking_numbers[0].encode() in label.data


def test_deallocate_then_cancel(client: CarrierClient) -> None:
    reference = created(client)
    client.allocate_with_quote(first_quote(client, reference))
    client.deallocate(reference)
    assert client.get_consignment(reference).state is ConsignmentState.UNALLOCATED
    client.allocate_with_quote(first_quote(client, reference))
    client.cancel(reference)
    assert client.get_consignment(reference).state is ConsignmentState.CANCELLED


# -- refusals ------------------------------------------------------------------------------------


def test_refusals_map_to_error_classes(client: CarrierClient, sandbox: RunningSandbox) -> None:
    ghost = "EC-000-000-000"
    refused_as(errors.NotFound, "ConsignmentNotFound", lambda: client.get_consignment(ghost))
    refused_as(errors.NotFound, "ConsignmentNotFound", lambda: client.get_quotes(ghost))
    refused_as(
        errors.InvalidRequest,
        "UnknownShippingLocation",
        lambda: client.create_consignment(shipment(), "NOWHERE"),
    )
    with pytest.raises(errors.InvalidRequest) as invalid:
        created(client, shipment(weight="0"))
    assert invalid.value.code == "ValidationError"
    assert [d.target for d in invalid.value.details] == ["Packages[0].Weight.Value"]

    reference = created(client)
    other = created(client)
    quote = first_quote(client, reference)
    unknown = quote.model_copy(update={"reference": str(uuid.uuid4())})
    refused_as(errors.NotFound, "QuoteNotFound", lambda: client.allocate_with_quote(unknown))
    foreign = first_quote(client, other)
    forged = foreign.model_copy(update={"consignment_reference": reference})
    refused_as(
        errors.InvalidRequest, "QuoteNotForConsignment", lambda: client.allocate_with_quote(forged)
    )
    refused_as(errors.NotFound, "LabelNotFound", lambda: client.get_label(reference, "PDF"))
    refused_as(errors.NotFound, "LabelNotFound", lambda: client.get_label(reference, "ZPL"))
    refused_as(errors.InvalidRequest, "NotAllocated", lambda: client.deallocate(reference))
    refused_as(
        errors.NotFound, "CustomsDocumentsNotFound", lambda: client.get_customs_documents(reference)
    )

    client.allocate_with_quote(quote)
    refused_as(errors.InvalidRequest, "AlreadyAllocated", lambda: client.allocate_with_quote(quote))
    # GUESS: an allocated consignment is still quoted (to ship it with another service).
    assert client.get_quotes(reference).quotes
    refused_as(
        errors.InvalidRequest,
        "InvalidState",
        lambda: client.manifest_from_query([SANDBOX_SHIPPING_LOCATION], states=("Unallocated",)),
    )
    refused_as(
        errors.InvalidRequest,
        "UnknownShippingLocation",
        lambda: client.manifest_from_query(["ELSEWHERE"]),
    )
    client.manifest_from_query([SANDBOX_SHIPPING_LOCATION])
    refused_as(errors.InvalidRequest, "InvalidState", lambda: client.cancel(reference))
    client.deallocate(reference)  # allowed from Manifested; 200 with no body
    assert client.get_consignment(reference).state is ConsignmentState.UNALLOCATED
    client.cancel(other)
    refused_as(errors.InvalidRequest, "InvalidState", lambda: client.cancel(other))


def test_expired_quote_is_refused_by_the_sandbox_and_by_the_client(
    make_client: MakeClient, sandbox: RunningSandbox
) -> None:
    client = make_client()
    reference = created(client)
    quote = first_quote(client, reference)
    sandbox.advance_clock(15 * 60)
    # The client's clock says the quote is still good, so the sandbox refuses it: the client
    # raises errors.QuoteExpired for the carrier's refusal too, so the flow has one case to handle.
    refused_as(errors.QuoteExpired, "QuoteExpired", lambda: client.allocate_with_quote(quote))
    assert sandbox.count("PUT", "^/allocation/") == 1
    # A client whose clock has passed ExpiryDate refuses before calling.
    fresh = first_quote(client, reference)
    later = make_client(clock=lambda: fresh.expires_at + timedelta(seconds=1))
    with pytest.raises(errors.QuoteExpired):
        later.allocate_with_quote(fresh)
    assert sandbox.count("PUT", "^/allocation/") == 1


def test_wrong_key_is_unauthorized() -> None:
    with (
        start_sandbox(SandboxConfig(api_key="the-right-key")) as running,
        client_at(running.url, "a-wrong-key") as client,
    ):
        with pytest.raises(errors.Unauthorized) as caught:
            client.get_consignment("EC-000-000-000")
        assert caught.value.status == 401
        assert "invalid subscription key" in caught.value.message
        with client_at(running.url, "the-right-key") as right:
            refused_as(
                errors.NotFound,
                "ConsignmentNotFound",
                lambda: right.get_consignment("EC-000-000-000"),
            )


# -- faults --------------------------------------------------------------------------------------


def test_503_on_a_put_is_not_repeated(client: CarrierClient, sandbox: RunningSandbox) -> None:
    reference = created(client)
    quote = first_quote(client, reference)
    sandbox.arm_fault("^/allocation/", method="PUT", status=503)
    with pytest.raises(errors.CarrierUnavailable) as caught:
        client.allocate_with_quote(quote)
    assert caught.value.status == 503 and caught.value.code == "InjectedFault"
    assert sandbox.count("PUT", "^/allocation/") == 1
    assert client.get_consignment(reference).state is ConsignmentState.UNALLOCATED
    assert client.allocate_with_quote(quote).tracking_numbers


def test_503_on_a_get_is_retried(make_client: MakeClient, sandbox: RunningSandbox) -> None:
    client = make_client(max_attempts=3)
    reference = created(client)
    sandbox.arm_fault("^/quotes/", status=503, retry_after=0, count=2)
    assert client.get_quotes(reference).quotes
    assert sandbox.count("GET", "^/quotes/") == 3
    sandbox.arm_fault("^/quotes/", status=503, retry_after=0, count=3)
    with pytest.raises(errors.CarrierUnavailable):
        client.get_quotes(reference)


def test_429_is_retried_after_the_hint_then_reported(
    make_client: MakeClient, sandbox: RunningSandbox
) -> None:
    client = make_client(max_attempts=2)
    sandbox.arm_fault("^/consignments$", method="POST", status=429, retry_after=0)
    reference = created(client)
    assert sandbox.count("POST", "^/consignments$") == 2
    assert client.get_consignment(reference).state is ConsignmentState.UNALLOCATED
    sandbox.arm_fault("^/consignments$", method="POST", status=429, retry_after=0, count=2)
    with pytest.raises(errors.RateLimited) as caught:
        created(client)
    assert caught.value.retry_after == 0


def test_lost_allocate_reply_is_outcome_unknown_and_took_effect(
    client: CarrierClient, impatient: CarrierClient, sandbox: RunningSandbox
) -> None:
    reference = created(client)
    quote = first_quote(client, reference)
    sandbox.arm_fault("^/allocation/", kind="timeout", method="PUT", seconds=3)
    with pytest.raises(errors.OutcomeUnknown):
        impatient.allocate_with_quote(quote)
    assert sandbox.count("PUT", "^/allocation/") == 1  # not repeated
    status = client.get_consignment(reference)
    assert status.state is ConsignmentState.ALLOCATED
    assert status.tracking_numbers


def test_slow_reply_to_a_get_is_retried(
    make_client: MakeClient, impatient: CarrierClient, sandbox: RunningSandbox
) -> None:
    reference = created(impatient)
    sandbox.arm_fault("^/consignments/EC-", kind="latency", method="GET", seconds=2)
    assert impatient.get_consignment(reference).reference == reference
    assert sandbox.count("GET", "^/consignments/EC-") == 2
    gives_up = make_client(read_timeout=0.3, max_attempts=2)
    sandbox.arm_fault("^/consignments/EC-", kind="timeout", method="GET", seconds=2, count=2)
    with pytest.raises(errors.CarrierUnavailable):
        gives_up.get_consignment(reference)
    assert sandbox.count("GET", "^/consignments/EC-") == 4


def test_slow_reply_to_a_manifest_is_outcome_unknown(
    client: CarrierClient, impatient: CarrierClient, sandbox: RunningSandbox
) -> None:
    reference = created(client)
    client.allocate_with_quote(first_quote(client, reference))
    sandbox.arm_fault("manifestFromQuery", kind="latency", seconds=1)
    with pytest.raises(errors.OutcomeUnknown):
        impatient.manifest_from_query([SANDBOX_SHIPPING_LOCATION])
    assert sandbox.count("POST", "manifestFromQuery") == 1
    # the call was only slow: it goes on to manifest the consignment after the client gave up
    deadline = time.monotonic() + 10
    while client.get_consignment(reference).state is not ConsignmentState.MANIFESTED:
        assert time.monotonic() < deadline, "the slow manifest never took effect"
        time.sleep(0.05)


def test_five_steps_script(client: CarrierClient, sandbox: RunningSandbox, tmp_path: Path) -> None:
    script = Path(__file__).parent.parent / "scripts" / "five_steps.py"
    label = tmp_path / "label.pdf"
    done = subprocess.run(
        [sys.executable, str(script), sandbox.url, str(label)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "5. Query found 1 consignment(s)" in done.stdout
    [put] = [e for e in sandbox.requests() if e["method"] == "PUT"]
    reference = put["path"].split("/")[2]
    [tracking] = client.get_consignment(reference).tracking_numbers
    [page] = PdfReader(label).pages
    assert tracking in page.extract_text()
    failed = subprocess.run(
        [sys.executable, str(script), sandbox.url, str(label), "--shipping-location", "NOPE"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failed.returncode == 1 and "UnknownShippingLocation" in failed.stderr
