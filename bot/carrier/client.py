"""The Sorted PRO client: one method per endpoint, each its route and its mapping.

The retry policy and the errors are `transport.py`'s (`CarrierHttp`); the conversions are
the `mapping_*.py` modules'.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal, Unpack, cast

from pydantic import TypeAdapter

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
from bot.carrier.errors import InvalidRequest, NotFound, QuoteExpired
from bot.carrier.transport import (
    ANY_JSON,
    CarrierHttp,
    HttpOptions,
    Method,
    T,
    json_object,
    refuse_unsuccessful_result,
    route,
)
from bot.carrier_states import LateConsignment, StateChange, TrackingEvent
from bot.models import (
    Allocation,
    ConsignmentDetail,
    ConsignmentStatus,
    Document,
    FoundConsignment,
    ManifestResult,
    Quote,
    QuoteSet,
    Recipient,
    ShipmentRequest,
)

# PNG is no longer a documented format of Get Labels in Format (the SDK: not supported).
LabelFormat = Literal["PDF", "ZPL", "ZPLII"]

# Search Consignments: rows per request, and how many a look-up reads at most.
SEARCH_PAGE = 50
SEARCH_LIMIT = 100


class EventsUnavailable(NotFound):
    """Both documented paths of the state events query answered "no such route" (404)."""


# CONFLICT (electio-rescue §6b): two reference pages give the first path, the SDK's
# ApiEndpoint attribute the second. Tried in this order; the one that answers is kept.
STATE_EVENT_PATHS = ("/events/consignments/stateevents", "/events/consignmentstateevents")


class ClientOptions(HttpOptions, total=False):
    """What a client can be built with beyond its URL and key (see `factory.carrier_client`)."""

    # CONFLICT: Manifest From Query is PUT in the flow page, POST in the reference pages.
    manifest_method: Literal["POST", "PUT"]
    customs: CustomsProfile


class CarrierClient(CarrierHttp):
    """Sorted PRO's endpoints over `CarrierHttp`'s one call (thread-safe likewise)."""

    def __init__(self, base_url: str, api_key: str, **options: Unpack[ClientOptions]) -> None:
        """`options`: the manifest method and customs profile, then the transport's own."""
        self._manifest_method: Method = options.pop("manifest_method", "POST")
        self._customs = options.pop("customs", DEFAULT_PROFILE)
        # What is left is the transport's (an unknown option is its TypeError).
        super().__init__(base_url, api_key, **cast(HttpOptions, options))
        # Which tracking route answers on this account: the flattened one until it says 404.
        self._tracking_flattened = True
        # Which state events path answers on this account (None: not known yet).
        self._events_path: str | None = None

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
        response = self._call("GET", route("/quotes/consignment/{}", consignment_reference))
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
        path = route(
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
        path = route(f"/labels/{{}}/{fmt.lower()}", consignment_reference)
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
        response = self._call("GET", route("/consignments/docs/{}", consignment_reference))
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
        return self._consignment(consignment_reference, mapping_lookup.consignment_status)

    def _consignment(
        self,
        consignment_reference: str,
        convert: Callable[[wire.ConsignmentResponse, str], T],
    ) -> T:
        """GET /consignments/{ref}, read as `convert` reads it: the status and the detail."""
        response = self._call("GET", route("/consignments/{}", consignment_reference))
        return self._read(
            response, _CONSIGNMENT, lambda consignment: convert(consignment, consignment_reference)
        )

    def cancel(self, consignment_reference: str) -> None:
        """PUT /consignments/{ref}/cancel: 200 with no body (one table says 201): any 2xx."""
        response = self._call("PUT", route("/consignments/{}/cancel", consignment_reference))
        refuse_unsuccessful_result(response)

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
                response = self._call("GET", route("/tracking/flattened/{}", consignment_reference))
            except (NotFound, InvalidRequest) as exc:
                if exc.status not in _TRACKING_UNAVAILABLE:
                    raise
            else:
                return self._read(response, tracking.TRACKING, tracking.tracking_events)
        try:
            response = self._call("GET", route("/tracking/{}", consignment_reference))
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
        response = self._call("PUT", route("/consignments/{}/deallocate", consignment_reference))
        refuse_unsuccessful_result(response)

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
            path = route("/consignments/{}/{}", str(take), str(len(found)))
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
        return self._consignment(consignment_reference, mapping_lookup.consignment_detail)

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
        path = route("/consignments/{}", consignment_reference)
        record = self._read(self._call("GET", path), ANY_JSON, json_object)
        body = mapping_update.update_request(record, recipient)
        self._call("PUT", "/consignments/", raw=body)

    def update_address(self, consignment_reference: str, recipient: Recipient) -> None:
        """Update Consignment Address: one address. CONFLICT on the route: Sorted's SDK
        says PUT /consignments/{ref}, the 2016 SDK POST .../updateconsignmentaddress; we
        use the first. Only the destination's own fields change."""
        body = mapping_update.destination_address(recipient, None)
        self._call("PUT", route("/consignments/{}", consignment_reference), raw=body)


# -- response shapes --------------------------------------------------------------------------


_LINKS: TypeAdapter[list[wire.ApiLink]] = wire.CreateConsignmentResponse
_QUOTES = TypeAdapter(wire.QuotesResponse)
_ALLOCATION: TypeAdapter[list[wire.AllocationSummary]] = wire.AllocateWithQuoteResponse
_LABEL = TypeAdapter(wire.LabelResponse)
_CUSTOMS = TypeAdapter(wire.CustomsDocumentsResponse)
_MANIFEST = TypeAdapter(wire.ManifestFromQueryResponse)
_CONSIGNMENT = TypeAdapter(wire.ConsignmentResponse)
_SEARCH = wire.SearchResponse
_WITH_MESSAGE = wire.WithMessageList
# Tracking may not be enabled on every account (undocumented): these mean "not available".
_TRACKING_UNAVAILABLE = frozenset({403, 404})
