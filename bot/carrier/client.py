"""The Sorted PRO client: HTTP, retries and error mapping around `wire` and `mapping`.

Retry policy, and why:
- 429 on any method: the gateway refuses before the backend sees the request, so even a
  PUT/POST is safe to repeat. We wait `Retry-After` (capped) and try again.
- A connection that never opened (refused, connect timeout, no pooled connection) on any
  method: nothing was sent.
- 5xx, read timeouts and dropped connections on GET only: a PUT/POST that may have taken
  effect is never repeated; the caller gets `OutcomeUnknown` and should look first.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import quote as quote_segment

import httpx
from pydantic import TypeAdapter, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from bot.carrier import (
    events,
    mapping_create,
    mapping_documents,
    mapping_lookup,
    mapping_quotes,
    mapping_update,
    tracking,
    wire,
)
from bot.carrier.customs import DEFAULT_PROFILE, CustomsProfile
from bot.carrier.errors import (
    CarrierError,
    CarrierUnavailable,
    ErrorDetail,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    QuoteExpired,
    RateLimited,
    Unauthorized,
    UnexpectedResponse,
)
from bot.models import (
    Allocation,
    ConsignmentDetail,
    ConsignmentStatus,
    Document,
    FoundConsignment,
    LateConsignment,
    ManifestResult,
    Quote,
    QuoteSet,
    Recipient,
    ShipmentRequest,
    StateChange,
    TrackingEvent,
)

log = logging.getLogger("shipbot.carrier")

API_VERSION = "1.1"
# PNG is no longer a documented format of Get Labels in Format (the SDK: not supported).
LabelFormat = Literal["PDF", "ZPL", "ZPLII"]
Method = Literal["GET", "POST", "PUT"]
T = TypeVar("T")
# Told of every HTTP attempt: method, route (`/quotes/consignment/{}`), status (None: no
# reply), the error's type, seconds.
CallObserver = Callable[[str, str, int | None, str | None, float], None]

# Nothing reached the server: safe to repeat whatever the method.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Our own mistakes or configuration: repeating cannot help, and nothing was sent either.
_NOT_SENT = (*_NEVER_SENT, httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)

# Search Consignments: rows per request, and how many a look-up reads at most.
SEARCH_PAGE = 50
SEARCH_LIMIT = 100

_BACKOFF_BASE = 0.2
_BACKOFF_MAX = 2.0
_JITTER = 0.05


def _utc_now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Built once per process (loading the CA bundle takes ~50 ms), shared by every client."""
    return httpx.create_ssl_context()


class EventsUnavailable(NotFound):
    """Both documented paths of the state events query answered "no such route" (404)."""


# CONFLICT (electio-rescue §6b): two reference pages give the first path, the SDK's
# ApiEndpoint attribute the second. Tried in this order; the one that answers is kept.
STATE_EVENT_PATHS = ("/events/consignments/stateevents", "/events/consignmentstateevents")


class CarrierClient:
    """Thread-safe: one shared `httpx.Client`; each call builds its own retry state."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        manifest_method: Literal["POST", "PUT"] = "POST",
        max_attempts: int = 4,
        max_retry_after: float = 30.0,
        backoff: float = _BACKOFF_BASE,
        clock: Callable[[], datetime] = _utc_now,
        customs: CustomsProfile = DEFAULT_PROFILE,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._manifest_method: Method = manifest_method
        self._customs = customs
        # Which tracking route answers on this account: the flattened one until it says 404.
        self._tracking_flattened = True
        # Which state events path answers on this account (None: not known yet).
        self._events_path: str | None = None
        self._max_attempts = max_attempts
        self._max_retry_after = max_retry_after
        self._clock = clock
        # The bot's metrics (bot/metrics.py) attach here; a client alone tells nobody.
        self.observe: CallObserver | None = None
        # `backoff` is the first wait between retries (doubling); tests make it tiny.
        self._backoff = wait_exponential(multiplier=backoff, max=_BACKOFF_MAX) + wait_random(
            0, _JITTER * backoff / _BACKOFF_BASE
        )
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            headers={
                "ocp-apim-subscription-key": api_key,
                "electio-api-version": API_VERSION,
                "Accept": "application/json",
                "User-Agent": "shipbot",
            },
            follow_redirects=False,
            verify=_tls_context(),
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CarrierClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- endpoints -----------------------------------------------------------------------------

    def create_consignment(self, request: ShipmentRequest, shipping_location: str) -> str:
        """POST /consignments -> 201 `[{"Rel":"Link","Href":".../consignments/EC-..."}]`."""
        body = mapping_create.create_consignment_request(
            request, shipping_location, self._customs, declared_on=self._now().date()
        )
        response = self._call("POST", "/consignments", body)
        return self._read(
            response, _LINKS, lambda links: mapping_create.consignment_reference_from_links(links)
        )

    def get_quotes(self, consignment_reference: str) -> QuoteSet:
        """GET /quotes/consignment/{ref} (documented as answering 201)."""
        response = self._call("GET", _route("/quotes/consignment/{}", consignment_reference))
        return self._read(
            response,
            _QUOTES,
            lambda quotes: mapping_quotes.quote_set_from_wire(quotes, consignment_reference),
        )

    def allocate_with_quote(self, quote: Quote) -> Allocation:
        """PUT /allocation/{ref}/allocatewithquote/{quoteRef}, no body; refused if expired.

        The reply is an array of AllocationSummary, or one object (CONFLICT: both accepted).
        """
        now = self._now()
        expires_at = quote.expires_at
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= now:
            raise QuoteExpired(
                f"Quote {quote.reference} expired at {expires_at.isoformat()}",
                code="QuoteExpired",
            )
        path = _route(
            "/allocation/{}/allocatewithquote/{}", quote.consignment_reference, quote.reference
        )
        response = self._call("PUT", path)
        return self._read(
            response,
            _ALLOCATION,
            lambda summaries: mapping_quotes.allocation_from_wire(
                summaries, quote.consignment_reference
            ),
        )

    def get_label(self, consignment_reference: str, label_format: LabelFormat = "PDF") -> Document:
        """GET /labels/{ref}/{format} -> `{File: base64, ContentType}`."""
        fmt = label_format.upper()
        if fmt not in mapping_documents.LABEL_EXTENSIONS:
            raise ValueError(f"label_format must be one of PDF, ZPL, ZPLII: {label_format!r}")
        # The docs' only example URL writes the format in lower case (".../pdf"); the
        # reference text writes it in upper case. Lower case follows the example.
        path = _route(f"/labels/{{}}/{fmt.lower()}", consignment_reference)
        response = self._call("GET", path)
        return self._read(
            response,
            _LABEL,
            lambda label: mapping_documents.label_document(label, consignment_reference, fmt),
        )

    def get_customs_documents(self, consignment_reference: str) -> tuple[Document, ...]:
        """GET /consignments/docs/{ref} -> CN22/CN23/commercial invoice PDFs.

        Only for an allocated consignment ("PRO returns an error" before); any list may be
        missing, null or empty.
        """
        response = self._call("GET", _route("/consignments/docs/{}", consignment_reference))
        return self._read(
            response,
            _CUSTOMS,
            lambda docs: mapping_documents.customs_documents(docs, consignment_reference),
        )

    def manifest_from_query(
        self,
        shipping_locations: Sequence[str],
        states: Sequence[str] = ("Allocated",),
        carriers: Sequence[str] | None = None,
    ) -> ManifestResult:
        """POST (or PUT) /consignments/manifestFromQuery.

        CONFLICT: the quotes-flow page says PUT, the reference pages say POST (likelier,
        and our default); `manifest_method` switches.
        """
        body = mapping_documents.manifest_request(shipping_locations, states, carriers)
        response = self._call(self._manifest_method, "/consignments/manifestFromQuery", body)
        return self._read(response, _MANIFEST, mapping_documents.manifest_result)

    def get_consignment(self, consignment_reference: str) -> ConsignmentStatus:
        """GET /consignments/{ref}: state, and once allocated the SDK's `Allocation` (service,
        date, price) with the carrier and tracking numbers from `ConsignmentLegs`."""
        response = self._call("GET", _route("/consignments/{}", consignment_reference))
        return self._read(
            response,
            _CONSIGNMENT,
            lambda consignment: mapping_lookup.consignment_status(
                consignment, consignment_reference
            ),
        )

    def cancel(self, consignment_reference: str) -> None:
        """PUT /consignments/{ref}/cancel: 200 with no body (one table says 201): any 2xx."""
        response = self._call("PUT", _route("/consignments/{}/cancel", consignment_reference))
        _refuse_unsuccessful_result(response)

    def get_tracking(self, consignment_reference: str) -> tuple[TrackingEvent, ...]:
        """The carrier's scans, oldest first; () when tracking is not available.

        GET /tracking/flattened/{ref} first (events per package); if that route answers 404
        or 403, GET /tracking/{ref} (events per leg), and this client keeps to that route
        once it has answered. Either shape is read from either route (`tracking.py`).
        Whether tracking is enabled on every account is undocumented, so 404/403 from the
        last route is "not available", not an error; packages with neither Events nor Legs
        raise UnexpectedResponse.
        """
        if self._tracking_flattened:
            try:
                response = self._call(
                    "GET", _route("/tracking/flattened/{}", consignment_reference)
                )
            except (NotFound, InvalidRequest) as exc:
                if exc.status not in _TRACKING_UNAVAILABLE:
                    raise
            else:
                return self._read(response, tracking.TRACKING, tracking.tracking_events)
        try:
            response = self._call("GET", _route("/tracking/{}", consignment_reference))
        except (NotFound, InvalidRequest) as exc:
            if exc.status not in _TRACKING_UNAVAILABLE:
                raise
            return ()
        events = self._read(response, tracking.TRACKING, tracking.tracking_events)
        # The per-leg route answered where the flattened one did not: use it from now on.
        self._tracking_flattened = False
        return events

    def state_events(
        self, states: Sequence[str], start: datetime, end: datetime
    ) -> tuple[StateChange, ...]:
        """POST the state events query for consignments that entered `states` in [start, end].

        A 404 in PRO's own error shape (a `Code`) is "no events in the window" (the reference
        page lists 200 and 404, GUESS); a 404 without one is the gateway's "no such route",
        and the other documented path is tried. Both refused: EventsUnavailable.
        POST is safe to repeat here (a query), but the client keeps its one retry policy.
        """
        body = events.StateEventsRequest(consignment_states=list(states), start=start, end=end)
        paths = (self._events_path,) if self._events_path else STATE_EVENT_PATHS
        last: NotFound | None = None
        for path in paths:
            try:
                response = self._call("POST", path, body)
            except NotFound as exc:
                if exc.code:  # PRO answered on this route: nothing in the window
                    self._events_path = path
                    return ()
                last = exc
                continue
            self._events_path = path
            return self._read(response, events.STATE_EVENTS, events.state_changes)
        self._events_path = None
        raise EventsUnavailable(
            "Sorted PRO has no state events query on this account (404 on "
            + " and ".join(paths)
            + ")",
            status=404,
            correlation_id=last.correlation_id if last else None,
        )

    def late_consignments(self) -> tuple[LateConsignment, ...]:
        """GET /consignments/late -> `{TotalNumberOfLateConsignments, ConsignmentSummaries}`;
        a 404 is read as "none late" (Search documents 404 for no matches, GUESS here)."""
        try:
            response = self._call("GET", "/consignments/late")
        except NotFound:
            return ()
        return self._read(response, events.LATE, events.late_consignments)

    def deallocate(self, consignment_reference: str) -> None:
        """PUT /consignments/{ref}/deallocate: 200 with no body; any 2xx is success."""
        response = self._call("PUT", _route("/consignments/{}/deallocate", consignment_reference))
        _refuse_unsuccessful_result(response)

    # -- consignments made elsewhere: search, read in full, release, edit ----------------------

    def search_consignments(
        self, filters: Mapping[str, str], *, limit: int = SEARCH_LIMIT
    ) -> tuple[FoundConsignment, ...]:
        """GET /consignments/{take}/{skip}?filters -> `{Count, ConsignmentSummaries}`.

        Paged with the path only (the query's pageSize/startPage reportedly don't work);
        we stop at a short page rather than trust `Count` (total or page length is not
        documented). 404 is "no matches" (GUESS: undocumented which one PRO answers).
        """
        found: list[FoundConsignment] = []
        query = {name: value for name, value in filters.items() if value}
        while len(found) < limit:
            take = min(SEARCH_PAGE, limit - len(found))
            path = _route("/consignments/{}/{}", str(take), str(len(found)))
            try:
                response = self._call("GET", path, params=query)
            except NotFound:
                break
            page = self._read(response, _SEARCH, mapping_lookup.search_results)
            found.extend(page)
            if len(page) < take:
                break
        return tuple(found)

    def get_consignment_detail(self, consignment_reference: str) -> ConsignmentDetail:
        """GET /consignments/{ref} read in full: recipient, parcels, source, failure."""
        response = self._call("GET", _route("/consignments/{}", consignment_reference))
        return self._read(
            response,
            _CONSIGNMENT,
            lambda consignment: mapping_lookup.consignment_detail(
                consignment, consignment_reference
            ),
        )

    def set_not_ready_to_ship(self, consignment_reference: str) -> None:
        """PUT /consignments/setnotreadytoship `["EC-…"]` -> `[{IsSuccess, Message, …}]`:
        ReadyToShip back to Allocated, so it can be deallocated. A per-item IsSuccess
        false is a refusal (InvalidRequest with its Message)."""
        response = self._call("PUT", "/consignments/setnotreadytoship", raw=[consignment_reference])
        results = self._read(response, _WITH_MESSAGE, list)
        for result in results:
            if result.is_success is False:
                raise InvalidRequest(
                    result.message or "Sorted PRO refused to set it not ready to ship",
                    status=response.status_code,
                )

    def update_destination(self, consignment_reference: str, recipient: Recipient) -> None:
        """Update Consignment (PUT /consignments/) is a full replace: whatever the body
        omits (dates, the customer's reference, customs, metadata, addresses) is deleted.
        So the record is read just before and sent back whole, with only the destination
        changed. Allowed while Unallocated or Allocation Failed. The reply (a link) is
        not needed: the caller reads the consignment back."""
        path = _route("/consignments/{}", consignment_reference)
        record = self._read(self._call("GET", path), _ANY_JSON, _json_object)
        body = mapping_update.update_request(record, recipient)
        self._call("PUT", "/consignments/", raw=body)

    def update_address(self, consignment_reference: str, recipient: Recipient) -> None:
        """Update Consignment Address: one address. CONFLICT on the route: Sorted's SDK
        says PUT /consignments/{ref}, the 2016 SDK POST .../updateconsignmentaddress; we
        use the first. Only the destination's own fields change."""
        body = mapping_update.destination_address(recipient, None)
        self._call("PUT", _route("/consignments/{}", consignment_reference), raw=body)

    # -- HTTP ----------------------------------------------------------------------------------

    def _call(
        self,
        method: Method,
        path: str,
        body: wire.WireModel | None = None,
        *,
        raw: object = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One logical call: retried per the policy above, then a 2xx or a CarrierError.

        `raw` is a JSON body we pass through as it is (e.g. a record read from PRO)."""
        content = body.to_wire() if body is not None else None
        if raw is not None:
            content = json.dumps(raw, ensure_ascii=False).encode()
        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=(
                retry_if_result(lambda response: _retryable_status(response, method))
                | retry_if_exception(lambda exc: _retryable_exception(exc, method))
            ),
            retry_error_callback=_last_outcome,
            reraise=True,
        )
        try:
            response: httpx.Response = retrying(self._send, method, path, content, params)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, method, path) from exc
        self._raise_for_status(method, path, response)
        return response

    def _send(
        self,
        method: Method,
        path: str,
        content: bytes | None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"} if content is not None else None
        started = time.monotonic()
        try:
            response = self._http.request(
                method, path, content=content, headers=headers, params=params
            )
        except httpx.HTTPError as exc:
            seconds = time.monotonic() - started
            log.debug("%s %s -> %s after %.0f ms", method, path, type(exc).__name__, seconds * 1e3)
            if self.observe is not None:
                self.observe(method, _template(path), None, type(exc).__name__, seconds)
            raise
        if self.observe is not None:
            seconds = time.monotonic() - started
            self.observe(method, _template(path), response.status_code, None, seconds)
        correlation = _error_body(response).correlation_id if response.status_code >= 400 else None
        log.debug(
            "%s %s -> %d in %.0f ms (correlation %s)",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
            correlation or "-",
        )
        return response

    def _wait(self, state: RetryCallState) -> float:
        """The server's Retry-After (429, or a 503 that sends one), capped; else a short backoff."""
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            response = outcome.result()
            if isinstance(response, httpx.Response):
                hint = _retry_after(response, self._now())
                if hint is not None:
                    return min(hint, self._max_retry_after)
        return float(self._backoff(state))

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=UTC)

    def _raise_for_status(self, method: Method, path: str, response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        body = _error_body(response)
        fields: dict[str, Any] = {
            "status": status,
            "code": str(body.code) if body.code is not None else None,
            "correlation_id": body.correlation_id,
            "details": tuple(
                ErrorDetail(code=d.code, target=d.target, message=d.message) for d in body.details
            ),
        }
        said = body.message or f"HTTP {status} {response.reason_phrase}".strip()
        where = f"{method} {path}"
        if status == 401:
            raise Unauthorized(f"Sorted PRO refused the API key on {where}: {said}", **fields)
        if status == 404:
            raise NotFound(f"Sorted PRO found nothing at {where}: {said}", **fields)
        if status == 429:
            raise RateLimited(
                f"Sorted PRO is rate-limiting us ({where}): {said}",
                retry_after=_retry_after(response, self._now()),
                **fields,
            )
        if 400 <= status < 500 and fields["code"] == "QuoteExpired":
            # GUESS: the real API's code strings are undocumented; "QuoteExpired" is the
            # sandbox's. Either way the flow gets one exception for "get fresh quotes".
            raise QuoteExpired(f"Sorted PRO says the quote expired ({where}): {said}", **fields)
        if 400 <= status < 500:
            raise InvalidRequest(f"Sorted PRO refused {where}: {said}", **fields)
        if status == 504 and method != "GET":
            # The gateway gave up waiting for the backend, which may still have done it:
            # like a lost reply, the caller must look before trying again.
            raise OutcomeUnknown(f"Sorted PRO's gateway timed out on {where}: {said}", **fields)
        if status >= 500:
            raise CarrierUnavailable(f"Sorted PRO failed on {where}: {said}", **fields)
        raise UnexpectedResponse(f"Sorted PRO answered {where} with HTTP {status}", **fields)

    def _read(
        self, response: httpx.Response, adapter: TypeAdapter[Any], convert: Callable[[Any], T]
    ) -> T:
        """Parse a 2xx body and map it; any surprise becomes UnexpectedResponse."""
        where = f"{response.request.method} {response.request.url.path}"
        try:
            parsed = adapter.validate_json(response.content)
            return convert(parsed)
        except ValidationError as exc:
            problem = _summarise_validation(exc)
            raise UnexpectedResponse(
                f"Sorted PRO's answer to {where} is not in the documented shape: {problem}",
                status=response.status_code,
            ) from exc
        except UnexpectedResponse as exc:
            raise UnexpectedResponse(
                f"Sorted PRO's answer to {where} is unusable: {exc.message}",
                status=response.status_code,
            ) from exc
        except CarrierError as exc:
            if exc.status is None:
                exc.status = response.status_code
            raise


# -- response shapes --------------------------------------------------------------------------


_LINKS: TypeAdapter[list[wire.ApiLink]] = wire.CreateConsignmentResponse
_QUOTES = TypeAdapter(wire.QuotesResponse)
_ALLOCATION: TypeAdapter[list[wire.AllocationSummary]] = wire.AllocateWithQuoteResponse
_LABEL = TypeAdapter(wire.LabelResponse)
_CUSTOMS = TypeAdapter(wire.CustomsDocumentsResponse)
_MANIFEST = TypeAdapter(wire.ManifestFromQueryResponse)
_CONSIGNMENT = TypeAdapter(wire.ConsignmentResponse)
_ERROR = TypeAdapter(wire.ApiErrorBody)
_SEARCH = wire.SearchResponse
_WITH_MESSAGE = wire.WithMessageList
_ANY_JSON: TypeAdapter[Any] = TypeAdapter(Any)
# Tracking may not be enabled on every account (undocumented): these mean "not available".
_TRACKING_UNAVAILABLE = frozenset({403, 404})


# -- helpers ----------------------------------------------------------------------------------


def _json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnexpectedResponse("expected a JSON object")
    return value


class Route(str):
    """A path that remembers its route (`/quotes/consignment/{}`): the metrics' label."""

    template: str


def _route(template: str, *values: str) -> Route:
    """The path with each value as one escaped segment; `.template` keeps the route."""
    path = Route(template.format(*(_seg(value) for value in values)))
    path.template = template
    return path


def _template(path: str) -> str:
    return path.template if isinstance(path, Route) else path


def _seg(value: str) -> str:
    """A path segment: references come from people, so nothing may escape the segment."""
    if not value:
        raise ValueError("a reference is required")
    return quote_segment(value, safe="")


def _retryable_status(response: httpx.Response, method: Method) -> bool:
    if response.status_code == 429:
        return True
    return method == "GET" and response.status_code >= 500


def _retryable_exception(exc: BaseException, method: Method) -> bool:
    if isinstance(exc, _NEVER_SENT):
        return True
    if isinstance(exc, _NOT_SENT):
        return False
    return method == "GET" and isinstance(exc, httpx.TransportError)


def _last_outcome(state: RetryCallState) -> Any:
    """Out of attempts: hand back the last response (or raise its exception) for mapping."""
    assert state.outcome is not None
    return state.outcome.result()


def _transport_error(exc: httpx.HTTPError, method: Method, path: str) -> CarrierError:
    where = f"{method} {path}"
    kind = type(exc).__name__
    if isinstance(exc, _NOT_SENT):
        return CarrierUnavailable(f"Could not reach Sorted PRO for {where} ({kind})")
    if method == "GET":
        return CarrierUnavailable(f"Sorted PRO did not answer {where} ({kind})")
    return OutcomeUnknown(
        f"Sorted PRO's answer to {where} was lost ({kind}); it may have taken effect"
    )


def _error_body(response: httpx.Response) -> wire.ApiErrorBody:
    """The error fields when the body has them; an empty model for anything else."""
    try:
        body = _ERROR.validate_json(response.content)
    except ValidationError:
        return wire.ApiErrorBody()
    return body


def _retry_after(response: httpx.Response, now: datetime) -> float | None:
    """Seconds from `Retry-After`: a number of seconds or an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _refuse_unsuccessful_result(response: httpx.Response) -> None:
    """Cancel/Deallocate answer 200 with no body (help page, SDK); any 2xx with or without
    a body is success. GUESS, kept as a safety: a body shaped like Set Ready To Ship's
    `[{"IsSuccess": false, "Message": ...}]` is a refusal. Anything else is ignored."""
    try:
        body = _ANY_JSON.validate_json(response.content) if response.content else None
    except ValidationError:
        return
    results = body if isinstance(body, list) else [body]
    for result in results:
        if isinstance(result, dict) and result.get("IsSuccess") is False:
            raise InvalidRequest(
                str(result.get("Message") or "Sorted PRO refused the request"),
                status=response.status_code,
            )


def _summarise_validation(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[:1]
    if not first:
        return "unreadable"
    location = ".".join(str(part) for part in first[0]["loc"]) or "body"
    return f"{location}: {first[0]['msg']} ({exc.error_count()} problem(s))"
