"""CarrierClient over real HTTP against a scripted loopback server."""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.carrier import errors
from bot.carrier.client import CarrierClient
from bot.carrier.factory import carrier_client
from bot.carrier_states import ConsignmentState
from bot.models import DocumentKind, Money, Quote, Recipient, ShipmentRequest
from bot.settings import Settings
from tests.factories import MakeClient, carrier_clients, client_at, parcel, quote
from tests.wire_server import Reply, WireServer

KEY = "test-api-key-0123456789"
REF = "EC-000-05B-MMA"
QUOTE_REF = "f6374a18-a6b5-48c1-841c-aa3f00e9951a"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def make_client(server: WireServer) -> Iterator[MakeClient]:
    settings = {"read_timeout": 2.0, "connect_timeout": 2.0, "clock": lambda: NOW}
    with carrier_clients(server.url, KEY, **settings) as make:
        yield make


@pytest.fixture
def client(make_client: MakeClient) -> CarrierClient:
    return make_client()


def _shipment() -> ShipmentRequest:
    return ShipmentRequest(
        shipper_reference="SHIP-1",
        recipient=Recipient(
            name="Ada Lovelace", line1="1 St James's Square", town="London",
            postcode="SW1Y 4JU", country="GB",
        ),
        parcel=parcel("2", "30", "20", "10"),
        value=Money(amount=Decimal("20")),
        contents="Books",
    )  # fmt: skip


def _quote(expires_at: datetime = NOW + timedelta(minutes=30)) -> Quote:
    return quote(QUOTE_REF, REF, expires_at=expires_at)


QUOTES_BODY = {
    "QuoteRequestReference": "6f9c7ee5-a97e-4df9-bc07-aa3f00e99316",
    "Quotes": [
        {
            "QuoteReference": QUOTE_REF,
            "ConsignmentReference": REF,
            "MpdCarrierService": "Tracked 48",
            "MpdCarrierServiceReference": "MPD_RMDTPS48HNAST",
            "ExpiryDate": "2026-11-25T12:30:00+00:00",
            "Price": {"Net": 4.3, "Gross": 5.16, "VatAmount": 0.86, "Currency": {"IsoCode": "GBP"}},
            "Legs": [{"CarrierService": {"CarrierReference": "ROYAL_MAIL", "CarrierName": None}}],
        }
    ],
    "Message": None,
    "UnqualifiedServices": [],
}
ALLOCATION_BODY = [
    {
        "StatusCode": 200,
        "ConsignmentLegs": [{"Leg": 1, "TrackingReferences": ["1Z9A80W5DK96293164"]}],
        "CarrierReference": "UPS",
        "CarrierName": "UPS",
        "CarrierServiceReference": "EDC5_UPSHSTDCS",
        "CarrierServiceName": "UPS STANDARD",
    }
]


def _assert_common_headers(headers: dict[str, str]) -> None:
    assert headers["ocp-apim-subscription-key"] == KEY
    assert headers["electio-api-version"] == "1.1"
    assert headers["accept"] == "application/json"


def _assert_no_body(headers: dict[str, str], body: bytes) -> None:
    assert body == b""
    assert "content-type" not in headers


# -- every endpoint --------------------------------------------------------------------------


def test_create_consignment_posts_the_consignment(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply(
        "POST",
        "/consignments",
        Reply(201, [{"Rel": "Link", "Href": f"https://api.electioapp.com/consignments/{REF}"}]),
    )

    assert client.create_consignment(_shipment(), "EDC5_Electio") == REF

    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/consignments")
    _assert_common_headers(request.headers)
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert body["ConsignmentReferenceProvidedByCustomer"] == "SHIP-1"
    assert body["Addresses"][0] == {
        "AddressType": "Origin",
        "ShippingLocationReference": "EDC5_Electio",
        "IsCached": False,
    }
    assert body["Packages"][0]["Weight"] == {"Value": 2.0, "Unit": "Kg"}


def test_get_quotes(server: WireServer, client: CarrierClient) -> None:
    server.reply("GET", f"/quotes/consignment/{REF}", Reply(201, QUOTES_BODY))

    quotes = client.get_quotes(REF)

    [quote] = quotes.quotes
    assert (quote.reference, quote.carrier_code, quote.carrier_name) == (
        QUOTE_REF,
        "ROYAL_MAIL",
        "Royal Mail",
    )
    assert quote.price.gross == Decimal("5.16")
    [request] = server.requests
    assert request.method == "GET"
    _assert_common_headers(request.headers)
    _assert_no_body(request.headers, request.body)


def test_allocate_with_quote_puts_both_references_in_the_path(
    server: WireServer, client: CarrierClient
) -> None:
    path = f"/allocation/{REF}/allocatewithquote/{QUOTE_REF}"
    server.reply("PUT", path, Reply(200, ALLOCATION_BODY))

    allocation = client.allocate_with_quote(_quote())

    assert allocation.consignment_reference == REF
    assert allocation.tracking_numbers == ("1Z9A80W5DK96293164",)
    assert allocation.service_name == "UPS STANDARD"
    [request] = server.requests
    assert (request.method, request.path) == ("PUT", path)
    _assert_common_headers(request.headers)
    _assert_no_body(request.headers, request.body)


@pytest.mark.parametrize("expires_at", [NOW, NOW - timedelta(seconds=1)])
def test_expired_quote_is_refused_before_any_call(
    server: WireServer, client: CarrierClient, expires_at: datetime
) -> None:
    with pytest.raises(errors.QuoteExpired):
        client.allocate_with_quote(_quote(expires_at))

    assert server.requests == []


@pytest.mark.parametrize(
    ("label_format", "segment", "name"),
    [("PDF", "pdf", f"{REF}.pdf"), ("ZPLII", "zplii", f"{REF}.zpl"), ("ZPL", "zpl", f"{REF}.zpl")],
)
def test_get_label(
    server: WireServer, client: CarrierClient, label_format: Any, segment: str, name: str
) -> None:
    server.reply(
        "GET",
        f"/labels/{REF}/{segment}",
        Reply(200, {"File": base64.b64encode(PDF).decode(), "ContentType": "application/pdf"}),
    )

    label = client.get_label(REF, label_format)

    assert (label.kind, label.name, label.data) == (DocumentKind.LABEL, name, PDF)
    [request] = server.requests
    _assert_common_headers(request.headers)
    _assert_no_body(request.headers, request.body)


def test_png_is_refused_before_any_call(server: WireServer, client: CarrierClient) -> None:
    with pytest.raises(ValueError, match="PDF, ZPL, ZPLII"):
        client.get_label(REF, "PNG")  # type: ignore[arg-type]

    assert server.requests == []


def test_get_label_defaults_to_pdf(server: WireServer, client: CarrierClient) -> None:
    server.reply("GET", f"/labels/{REF}/pdf", Reply(200, {"File": base64.b64encode(PDF).decode()}))

    assert client.get_label(REF).content_type == "application/pdf"


def test_get_customs_documents(server: WireServer, client: CarrierClient) -> None:
    encoded = base64.b64encode(PDF).decode()
    server.reply(
        "GET",
        f"/consignments/docs/{REF}",
        Reply(
            200,
            {
                "CommercialInvoiceDocuments": [{"Key": "INV", "Value": encoded}],
                "CN22Documents": [{"Key": "CN22", "Value": encoded}],
                "CN23Documents": None,
            },
        ),
    )

    documents = client.get_customs_documents(REF)

    assert [d.name for d in documents] == [f"{REF}-cn22.pdf", f"{REF}-commercial-invoice.pdf"]
    assert server.requests[0].method == "GET"


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_manifest_from_query(server: WireServer, make_client: MakeClient, method: Any) -> None:
    server.reply(
        method,
        "/consignments/manifestFromQuery",
        Reply(200, {"Message": "Query found 2 consignment(s).", "FailedConsignments": ["EC-9"]}),
    )
    client = make_client(manifest_method=method)

    result = client.manifest_from_query(["EDC5_Electio"], carriers=["UPS"])

    assert (result.message, result.failed) == ("Query found 2 consignment(s).", ("EC-9",))
    [request] = server.requests
    assert request.method == method
    assert request.headers["content-type"] == "application/json"
    _assert_common_headers(request.headers)
    assert request.json() == {
        "ShippingLocationReferences": ["EDC5_Electio"],
        "States": ["Allocated"],
        "Carriers": ["UPS"],
    }


def test_manifest_uses_post_by_default(server: WireServer, client: CarrierClient) -> None:
    server.reply("POST", "/consignments/manifestFromQuery", Reply(200, {"Message": "ok"}))

    client.manifest_from_query(["LOC"], states=("Allocated", "ReadyToShip"))

    assert server.requests[0].json() == {
        "ShippingLocationReferences": ["LOC"],
        "States": ["Allocated", "ReadyToShip"],
    }


def test_get_consignment(server: WireServer, client: CarrierClient) -> None:
    server.reply(
        "GET",
        f"/consignments/{REF}",
        Reply(
            200,
            {
                "Reference": REF,
                "ConsignmentState": "Allocated",
                "ConsignmentLegs": [
                    {"TrackingReferences": ["1Z9A80W5DK96293164"], "CarrierReference": "UPS"}
                ],
            },
        ),
    )

    status = client.get_consignment(REF)

    assert status.state is ConsignmentState.ALLOCATED
    assert status.tracking_numbers == ("1Z9A80W5DK96293164",)


@pytest.mark.parametrize("action", ["cancel", "deallocate"])
def test_cancel_and_deallocate(server: WireServer, client: CarrierClient, action: str) -> None:
    path = f"/consignments/{REF}/{action}"
    server.reply("PUT", path, Reply(201 if action == "cancel" else 200))

    getattr(client, action)(REF)

    [request] = server.requests
    assert (request.method, request.path) == ("PUT", path)
    _assert_common_headers(request.headers)
    _assert_no_body(request.headers, request.body)


def test_cancel_refused_inside_a_success_is_an_error(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply(
        "PUT",
        f"/consignments/{REF}/cancel",
        Reply(200, [{"IsSuccess": False, "Message": "Consignment cannot be cancelled"}]),
    )

    with pytest.raises(errors.InvalidRequest, match="cannot be cancelled"):
        client.cancel(REF)


def test_references_cannot_escape_their_path_segment(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply("GET", "/consignments/..%2Fquotes%3Fx", Reply(200, {"Reference": "x"}))

    client.get_consignment("../quotes?x")

    assert server.requests[0].path == "/consignments/..%2Fquotes%3Fx"


# -- errors ----------------------------------------------------------------------------------


def test_401_reads_the_gateway_body(server: WireServer, client: CarrierClient) -> None:
    message = "Access denied due to invalid subscription key."
    server.reply("GET", f"/consignments/{REF}", Reply(401, {"statusCode": 401, "message": message}))

    with pytest.raises(errors.Unauthorized) as caught:
        client.get_consignment(REF)

    assert caught.value.status == 401
    assert message in caught.value.message
    assert KEY not in str(caught.value)
    assert len(server.requests) == 1


def test_404_carries_code_message_and_correlation(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply(
        "GET",
        f"/labels/{REF}/pdf",
        Reply(
            404,
            {
                "Code": "SampleErrorCode",
                "Message": f"Item {REF} not found",
                "CorrelationId": "f94c7dbc-c542-40b9-b6da-bd98aa110939",
            },
        ),
    )

    with pytest.raises(errors.NotFound) as caught:
        client.get_label(REF)

    error = caught.value
    assert (error.status, error.code, error.correlation_id) == (
        404,
        "SampleErrorCode",
        "f94c7dbc-c542-40b9-b6da-bd98aa110939",
    )
    assert f"Item {REF} not found" in error.message
    assert len(server.requests) == 1  # a 404 is an answer, not retried


def test_400_carries_details(server: WireServer, client: CarrierClient) -> None:
    server.reply(
        "POST",
        "/consignments",
        Reply(
            400,
            {
                "Code": "ValidationError",
                "Message": "The request is invalid",
                "CorrelationId": "c-400",
                "Details": [
                    {"Code": "Required", "Target": "Packages[0].Weight", "Message": "Required"},
                    {"Code": "Invalid", "Target": "Addresses[1].Postcode", "Message": None},
                ],
            },
        ),
    )

    with pytest.raises(errors.InvalidRequest) as caught:
        client.create_consignment(_shipment(), "LOC")

    assert caught.value.status == 400
    assert caught.value.code == "ValidationError"
    assert caught.value.details == (
        errors.ErrorDetail(code="Required", target="Packages[0].Weight", message="Required"),
        errors.ErrorDetail(code="Invalid", target="Addresses[1].Postcode", message=None),
    )


def test_other_4xx_is_invalid_request(server: WireServer, client: CarrierClient) -> None:
    server.reply("PUT", f"/consignments/{REF}/deallocate", Reply(409, "conflict, not JSON"))

    with pytest.raises(errors.InvalidRequest) as caught:
        client.deallocate(REF)

    assert caught.value.status == 409 and caught.value.code is None


def test_5xx_on_post_is_unavailable_and_not_retried(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply("POST", "/consignments", Reply(502, "<html>Bad Gateway</html>"))

    with pytest.raises(errors.CarrierUnavailable) as caught:
        client.create_consignment(_shipment(), "LOC")

    assert caught.value.status == 502
    assert "<html>" not in str(caught.value)
    assert len(server.requests) == 1


def test_get_is_retried_after_503(server: WireServer, client: CarrierClient) -> None:
    path = f"/consignments/{REF}"
    server.reply(
        "GET", path, Reply(503, {"Message": "busy"}), Reply(200, {"ConsignmentState": "Allocated"})
    )

    assert client.get_consignment(REF).state is ConsignmentState.ALLOCATED
    assert len(server.requests_to("GET", path)) == 2


def test_put_is_not_retried_after_503(server: WireServer, client: CarrierClient) -> None:
    path = f"/allocation/{REF}/allocatewithquote/{QUOTE_REF}"
    server.reply("PUT", path, Reply(503, {"Message": "busy"}), Reply(200, ALLOCATION_BODY))

    with pytest.raises(errors.CarrierUnavailable):
        client.allocate_with_quote(_quote())

    assert len(server.requests_to("PUT", path)) == 1


def test_a_gateway_timeout_on_put_is_outcome_unknown(
    server: WireServer, client: CarrierClient
) -> None:
    path = f"/allocation/{REF}/allocatewithquote/{QUOTE_REF}"
    server.reply("PUT", path, Reply(504, None), Reply(200, ALLOCATION_BODY))

    with pytest.raises(errors.OutcomeUnknown):
        client.allocate_with_quote(_quote())

    assert len(server.requests_to("PUT", path)) == 1


def test_get_gives_up_after_max_attempts(server: WireServer, make_client: MakeClient) -> None:
    server.reply("GET", f"/quotes/consignment/{REF}", Reply(500, {"Code": "Boom", "Message": "x"}))

    with pytest.raises(errors.CarrierUnavailable) as caught:
        make_client(max_attempts=3).get_quotes(REF)

    assert caught.value.code == "Boom"
    assert len(server.requests) == 3


def test_429_on_post_is_retried_after_retry_after(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply(
        "POST",
        "/consignments",
        Reply(429, {"statusCode": 429, "message": "Rate limit"}, headers={"Retry-After": "0.5"}),
        Reply(201, [{"Rel": "Link", "Href": f"https://x/consignments/{REF}"}]),
    )

    assert client.create_consignment(_shipment(), "LOC") == REF

    first, second = server.requests
    # A lower bound, not a speed check: the client waited at least what the gateway asked
    # (without Retry-After the first backoff would be ~0.2 s).
    assert second.at - first.at >= 0.45


def test_429_that_persists_is_rate_limited(server: WireServer, make_client: MakeClient) -> None:
    path = f"/consignments/{REF}/cancel"
    server.reply("PUT", path, Reply(429, {"statusCode": 429}, headers={"Retry-After": "0.1"}))

    with pytest.raises(errors.RateLimited) as caught:
        make_client(max_attempts=3).cancel(REF)

    assert caught.value.retry_after == pytest.approx(0.1)
    assert caught.value.status == 429
    assert len(server.requests) == 3


@pytest.mark.timeout(15)
def test_retry_after_is_capped(server: WireServer, make_client: MakeClient) -> None:
    server.reply("GET", f"/consignments/{REF}", Reply(429, None, headers={"Retry-After": "120"}))

    with pytest.raises(errors.RateLimited) as caught:
        make_client(max_attempts=2, max_retry_after=0.1).get_consignment(REF)

    assert caught.value.retry_after == 120  # the gateway's hint is reported as given
    assert len(server.requests) == 2


def test_retry_after_as_an_http_date(server: WireServer, make_client: MakeClient) -> None:
    # NOW is the client's clock: the date is one second after it.
    server.reply(
        "GET",
        f"/consignments/{REF}",
        Reply(429, None, headers={"Retry-After": "Wed, 25 Nov 2026 12:00:01 GMT"}),
    )

    with pytest.raises(errors.RateLimited) as caught:
        make_client(max_attempts=1).get_consignment(REF)

    assert caught.value.retry_after == pytest.approx(1.0)
    assert len(server.requests) == 1


def test_read_timeout_on_allocate_is_outcome_unknown(
    server: WireServer, make_client: MakeClient
) -> None:
    path = f"/allocation/{REF}/allocatewithquote/{QUOTE_REF}"
    server.reply("PUT", path, Reply(200, ALLOCATION_BODY, delay=2.0))

    with pytest.raises(errors.OutcomeUnknown):
        make_client(read_timeout=0.3).allocate_with_quote(_quote())

    assert len(server.requests) == 1


def test_read_timeout_on_get_is_retried(server: WireServer, make_client: MakeClient) -> None:
    path = f"/consignments/{REF}"
    server.reply(
        "GET",
        path,
        Reply(200, {"ConsignmentState": "Manifested"}, delay=2.0),
        Reply(200, {"ConsignmentState": "Manifested"}),
    )

    status = make_client(read_timeout=0.3).get_consignment(REF)

    assert status.state is ConsignmentState.MANIFESTED
    assert len(server.requests) == 2


def test_read_timeouts_on_get_end_unavailable(server: WireServer, make_client: MakeClient) -> None:
    server.reply("GET", f"/consignments/docs/{REF}", Reply(200, {}, delay=2.0))

    with pytest.raises(errors.CarrierUnavailable):
        make_client(read_timeout=0.3, max_attempts=2).get_customs_documents(REF)

    assert len(server.requests) == 2


def test_dropped_connection_on_post_is_outcome_unknown(
    server: WireServer, client: CarrierClient
) -> None:
    server.reply("POST", "/consignments", Reply(drop=True))

    with pytest.raises(errors.OutcomeUnknown):
        client.create_consignment(_shipment(), "LOC")

    assert len(server.requests) == 1


def test_dropped_connection_on_get_is_retried(server: WireServer, client: CarrierClient) -> None:
    server.reply(
        "GET",
        f"/consignments/{REF}",
        Reply(drop=True),
        Reply(200, {"ConsignmentState": "Delivered"}),
    )

    assert client.get_consignment(REF).state is ConsignmentState.DELIVERED
    assert len(server.requests) == 2


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A port that is bound but not listening: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("call", ["get", "post"])
def test_connection_refused_is_unavailable(refused_url: str, call: str) -> None:
    with (
        client_at(refused_url, KEY, max_attempts=2, connect_timeout=1) as client,
        pytest.raises(errors.CarrierUnavailable) as caught,
    ):
        if call == "get":
            client.get_consignment(REF)
        else:
            client.create_consignment(_shipment(), "LOC")

    assert caught.value.status is None


@pytest.mark.parametrize(
    ("reply", "call"),
    [
        (Reply(200, "<html>hello</html>"), "quotes"),
        (Reply(201, ""), "create"),
        (Reply(201, {"Rel": "Link"}), "create"),
        (Reply(200, [1, 2, 3]), "quotes"),
        (Reply(200, {"Quotes": [{"QuoteReference": "q"}]}), "quotes"),
        (Reply(200, {"File": "not base64!"}), "label"),
        (Reply(200, {"Message": 12, "FailedConsignments": "EC-1"}), "manifest"),
    ],
)
def test_unreadable_success_is_unexpected_response(
    server: WireServer, client: CarrierClient, reply: Reply, call: str
) -> None:
    server.reply("GET", f"/quotes/consignment/{REF}", reply)
    server.reply("POST", "/consignments", reply)
    server.reply("GET", f"/labels/{REF}/pdf", reply)
    server.reply("POST", "/consignments/manifestFromQuery", reply)
    calls: dict[str, Callable[[], object]] = {
        "quotes": lambda: client.get_quotes(REF),
        "create": lambda: client.create_consignment(_shipment(), "LOC"),
        "label": lambda: client.get_label(REF),
        "manifest": lambda: client.manifest_from_query(["LOC"]),
    }

    with pytest.raises(errors.UnexpectedResponse) as caught:
        calls[call]()

    assert caught.value.status == reply.status
    assert len(server.requests) == 1


def test_unexpected_response_is_a_carrier_error() -> None:
    from bot.carrier.errors import CarrierError

    assert issubclass(errors.UnexpectedResponse, CarrierError)


# -- logging and threads ---------------------------------------------------------------------


def test_one_debug_line_per_request_without_the_key(
    server: WireServer, client: CarrierClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.reply(
        "GET",
        f"/consignments/{REF}",
        Reply(503, None),
        Reply(404, {"Code": "NotFound", "Message": "gone", "CorrelationId": "corr-42"}),
    )
    caplog.set_level(logging.DEBUG, logger="shipbot.carrier")

    with pytest.raises(errors.NotFound):
        client.get_consignment(REF)

    lines = [r.getMessage() for r in caplog.records if r.name == "shipbot.carrier"]
    assert len(lines) == 2
    assert lines[0].startswith(f"GET /consignments/{REF} -> 503")
    assert lines[1].startswith(f"GET /consignments/{REF} -> 404")
    assert "corr-42" in lines[1]
    assert all(KEY not in line and "gone" not in line for line in lines)


def test_calls_from_many_threads_share_one_client(
    server: WireServer, client: CarrierClient
) -> None:
    refs = [f"EC-000-000-{n:03d}" for n in range(16)]
    for ref in refs:
        server.reply("GET", f"/consignments/{ref}", Reply(200, {"Reference": ref}))

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(client.get_consignment, refs))

    assert [s.reference for s in statuses] == refs
    assert len(server.requests) == 16


def test_503_with_retry_after_on_get_waits_as_asked(
    server: WireServer, client: CarrierClient
) -> None:
    path = f"/consignments/{REF}"
    server.reply(
        "GET",
        path,
        Reply(503, None, headers={"Retry-After": "0.5"}),
        Reply(200, {"ConsignmentState": "Allocated"}),
    )

    client.get_consignment(REF)

    first, second = server.requests
    assert second.at - first.at >= 0.45  # lower bound only: the hint was honoured


def test_naive_clock_is_read_as_utc(server: WireServer, make_client: MakeClient) -> None:
    client = make_client(clock=lambda: NOW.replace(tzinfo=None))

    with pytest.raises(errors.QuoteExpired):
        client.allocate_with_quote(_quote(NOW - timedelta(seconds=1)))

    assert server.requests == []


def test_the_factory_builds_the_client_from_settings(server: WireServer) -> None:
    """Settings reach the client through `carrier_client` alone (the URL, the key, the
    manifest method); an override wins over its setting."""
    settings = Settings.model_construct(
        electio_api_key=KEY, electio_api_url=server.url, electio_manifest_method="PUT"
    )
    server.reply("PUT", "/consignments/manifestFromQuery", Reply(200, {"Message": "ok"}))
    server.reply("POST", "/consignments/manifestFromQuery", Reply(200, {"Message": "ok"}))
    with carrier_client(settings, backoff=0.001) as client:
        client.manifest_from_query(["LOC"])
    with carrier_client(settings, manifest_method="POST") as client:
        client.manifest_from_query(["LOC"])
    assert [r.method for r in server.requests] == ["PUT", "POST"]
    _assert_common_headers(server.requests[0].headers)
