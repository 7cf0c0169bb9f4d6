"""Consignments, quotes and their lifecycle, behind one lock.

Every public method takes the lock for a few microseconds and returns frozen values, so
the app can render JSON or PDFs from them while other requests change the state.
References and GUIDs come from a seeded `random.Random`, so the same seed and the same
sequence of calls give the same references.
"""

from __future__ import annotations

import random
import string
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from bot.sandbox.catalogue import (
    SERVICES,
    Carrier,
    Exclusion,
    Pricing,
    Service,
    add_working_days,
    next_working_day,
    price,
)
from bot.sandbox.errors import ApiProblem, Detail, not_found
from bot.sandbox.validation import Address, ManifestQuery, NewConsignment

UNALLOCATED = "Unallocated"
ALLOCATING = "Allocating"
ALLOCATION_FAILED = "AllocationFailed"
ALLOCATED = "Allocated"
READY_TO_SHIP = "ReadyToShip"
MANIFESTED = "Manifested"
MANIFEST_FAILED = "ManifestFailed"
IN_TRANSIT = "InTransit"
OUT_FOR_DELIVERY = "OutForDelivery"
DELIVERED = "Delivered"
CANCELLED = "Cancelled"
DELAYED = "Delayed"
DELIVERY_FAILED_CARD_LEFT = "DeliveryFailedCardLeft"
LOST = "Lost"
DAMAGED = "Damaged"
RETURN_TO_SENDER = "ReturnToSender"
HELD_BY_CARRIER = "HeldByCarrier"

# After manifesting, the sandbox clock moves a parcel one step along this list per step.
TRACKING_STEPS = (MANIFESTED, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED)
# The journeys that go wrong (`exception_share` of manifested parcels take one of them).
EXCEPTION_JOURNEYS = (
    (MANIFESTED, IN_TRANSIT, DELAYED, OUT_FOR_DELIVERY, DELIVERED),
    (MANIFESTED, IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERY_FAILED_CARD_LEFT),
    (MANIFESTED, IN_TRANSIT, LOST),
    (MANIFESTED, IN_TRANSIT, HELD_BY_CARRIER, OUT_FOR_DELIVERY, DELIVERED),
    (MANIFESTED, IN_TRANSIT, DAMAGED, RETURN_TO_SENDER),
)
# Every state a journey can pass through (`POST /__sandbox/journey` accepts these).
JOURNEY_STATES = frozenset(
    {
        IN_TRANSIT,
        OUT_FOR_DELIVERY,
        DELIVERED,
        DELAYED,
        DELIVERY_FAILED_CARD_LEFT,
        LOST,
        DAMAGED,
        RETURN_TO_SENDER,
        HELD_BY_CARRIER,
        "Dispatched",
        "Collected",
        "AtCustoms",
        "ActionRequired",
        "Missing",
        "DeliveryFailed",
        "CollectionFailed",
    }
)
QUOTABLE = frozenset({UNALLOCATED, ALLOCATION_FAILED})
# Edit consignment details / addresses: Unallocated and Allocation Failed only (states page).
EDITABLE = QUOTABLE
HOLDS_ALLOCATION = frozenset({ALLOCATED, READY_TO_SHIP, MANIFEST_FAILED})
LABELLED = frozenset({*HOLDS_ALLOCATION, *TRACKING_STEPS, *JOURNEY_STATES})
CANCELLABLE = frozenset({UNALLOCATED, ALLOCATION_FAILED, *HOLDS_ALLOCATION})
# The states page: De-allocate from Allocated, Manifested and Manifest Failed. Not once the
# carrier has it, and not ReadyToShip: the manifesting page says Set Not Ready To Ship
# "returns them to ... Allocated, enabling them to be deallocated" (GUESS: refused before).
DEALLOCATABLE = frozenset({ALLOCATED, MANIFEST_FAILED, MANIFESTED})
# GUESS (undocumented): Get Quotes by Consignment Reference also prices a consignment that
# is allocated but not yet with the carrier, which is what "ship it with another service"
# needs (quotes first, deallocate on the click). Its quotes stay valid after deallocation.
REQUOTABLE = frozenset({*QUOTABLE, *HOLDS_ALLOCATION, MANIFESTED})

_ALPHANUMERIC = string.ascii_uppercase + string.digits


class Clock:
    """Wall-clock UTC plus an offset that only moves forward (POST /__sandbox/clock)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += timedelta(seconds=seconds)


def _invalid_state(message: str) -> ApiProblem:
    """PRO's refusal of a call the consignment's state does not allow: 400 InvalidState."""
    return ApiProblem(400, "InvalidState", message)


@dataclass(frozen=True)
class QuoteRecord:
    reference: str
    request_reference: str
    consignment_reference: str
    consignment: NewConsignment
    service: Service
    pricing: Pricing
    collection: date
    earliest: date
    latest: date
    created: datetime
    expires: datetime


def _quote_refused(code: str, quote: QuoteRecord, message: str) -> ApiProblem:
    """A 400 about the quote the call named, pointing at its quoteReference."""
    return ApiProblem(400, code, message, [Detail(code, "quoteReference", quote.reference)])


@dataclass(frozen=True)
class QuoteSet:
    request_reference: str
    quotes: tuple[QuoteRecord, ...]
    excluded: tuple[tuple[Service, Exclusion], ...]


@dataclass(frozen=True)
class AllocationRecord:
    quote: QuoteRecord
    tracking: tuple[str, ...]  # one per package, in package order
    allocated_at: datetime

    @property
    def service(self) -> Service:
        return self.quote.service

    @property
    def carrier(self) -> Carrier:
        return self.quote.service.carrier


@dataclass(frozen=True)
class ConsignmentView:
    """One consignment as it stands now; what Get Consignment, labels and docs render."""

    reference: str
    customer_guid: str
    request: NewConsignment
    package_references: tuple[str, ...]
    created: datetime
    state: str
    allocation: AllocationRecord | None
    labels_printed_at: datetime | None
    collected_at: datetime | None
    delivered_at: datetime | None
    manifested_at: datetime | None = None
    # When the parcel went out with the driver; None until the clock gets there.
    out_for_delivery_at: datetime | None = None
    # Each state since the manifest and when it began, oldest first.
    journey: tuple[tuple[str, datetime], ...] = ()

    @property
    def latest_delivery(self) -> date | None:
        return self.allocation.quote.latest if self.allocation else None

    failure: str | None = None

    @property
    def shipping_date(self) -> date | None:
        if self.allocation is not None:
            return self.allocation.quote.collection
        return self.request.shipping_date


@dataclass
class _Consignment:
    reference: str
    customer_guid: str
    request: NewConsignment
    package_references: tuple[str, ...]
    created: datetime
    state: str = UNALLOCATED
    allocation: AllocationRecord | None = None
    labels_printed_at: datetime | None = None
    manifested_at: datetime | None = None
    # Set while an allocate is being worked on (the sandbox's `allocate_seconds`).
    allocating: bool = False
    # The states after the manifest, one per tracking step; None: the usual delivery.
    journey: tuple[str, ...] | None = None
    # Why the last allocation failed (FailedAllocation.Message), kept like PRO keeps it.
    failure: str | None = None


class SandboxState:
    def __init__(
        self,
        *,
        seed: int = 0,
        quote_ttl_seconds: float = 900.0,
        tracking_step_seconds: float = 600.0,
        exception_share: float = 0.0,
    ) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        # A separate stream, so refusals do not shift the references that follow them.
        self._correlation_rng = random.Random(f"correlation-{seed}")
        self._issued: set[str] = set()
        self._consignments: dict[str, _Consignment] = {}
        self._quotes: dict[str, QuoteRecord] = {}
        self.clock = Clock()
        self.quote_ttl = timedelta(seconds=quote_ttl_seconds)
        self.tracking_step = timedelta(seconds=tracking_step_seconds)
        self.allocate_seconds = 0.0
        # GUESS (Sorted's docs don't say): PRO quotes an inbound consignment only services
        # whose ServiceDirection has Inbound. True makes the sandbox quote every service, to
        # check that the bot filters on ServiceDirection itself.
        self.quote_every_direction = False
        # The share of manifested parcels whose journey goes wrong (EXCEPTION_JOURNEYS).
        self.exception_share = exception_share
        # False: an account without the state events query (both paths answer 404).
        self.state_events_enabled = True
        self._journey_rng = random.Random(f"journey-{seed}")

    # -- identifiers ------------------------------------------------------------
    def _unique(self, make: Callable[[], str]) -> str:
        while (value := make()) in self._issued:
            pass
        self._issued.add(value)
        return value

    def _reference(self, prefix: str) -> str:
        def make() -> str:
            groups = ("".join(self._rng.choices(_ALPHANUMERIC, k=3)) for _ in range(3))
            return f"{prefix}-" + "-".join(groups)

        return self._unique(make)

    def _guid(self) -> str:
        return self._unique(lambda: str(uuid.UUID(int=self._rng.getrandbits(128), version=4)))

    def _tracking_number(self, carrier: Carrier) -> str:
        return self._unique(lambda: _tracking_number(self._rng, carrier.reference))

    def correlation_id(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._correlation_rng.getrandbits(128), version=4))

    # -- reads --------------------------------------------------------------------
    def _get(self, reference: str) -> _Consignment:
        found = self._consignments.get(reference.upper())
        if found is None:
            raise not_found("Consignment", reference)
        return found

    def _as_of_now(self, reference: str) -> tuple[_Consignment, datetime, str]:
        """The consignment, the sandbox's now, and the state it is in at that moment."""
        consignment = self._get(reference)
        now = self.clock.now()
        return consignment, now, self._state(consignment, now)

    def _journey(
        self, consignment: _Consignment, now: datetime
    ) -> tuple[tuple[str, datetime], ...]:
        """The states reached since the manifest, each with the time it began."""
        manifested = consignment.manifested_at
        if consignment.state != MANIFESTED or manifested is None:
            return ()
        path = consignment.journey or TRACKING_STEPS
        if self.tracking_step <= timedelta(0):
            return ((MANIFESTED, manifested),)
        steps = int((now - manifested) / self.tracking_step)
        reached = min(max(steps, 0), len(path) - 1)
        return tuple((path[i], manifested + i * self.tracking_step) for i in range(reached + 1))

    def _state(self, consignment: _Consignment, now: datetime) -> str:
        """The stored state, moved along the tracking steps by the sandbox clock."""
        if consignment.allocating:
            return ALLOCATING
        journey = self._journey(consignment, now)
        return journey[-1][0] if journey else consignment.state

    def _view(self, consignment: _Consignment, now: datetime) -> ConsignmentView:
        journey = self._journey(consignment, now)
        state = journey[-1][0] if journey else self._state(consignment, now)
        began = dict(reversed(journey))  # the first time each state was reached

        def first_after_manifest() -> datetime | None:
            return journey[1][1] if len(journey) > 1 else None

        return ConsignmentView(
            reference=consignment.reference,
            customer_guid=consignment.customer_guid,
            request=consignment.request,
            package_references=consignment.package_references,
            created=consignment.created,
            state=state,
            allocation=consignment.allocation,
            labels_printed_at=consignment.labels_printed_at,
            collected_at=first_after_manifest(),
            delivered_at=began.get(DELIVERED),
            manifested_at=consignment.manifested_at if journey else None,
            out_for_delivery_at=began.get(OUT_FOR_DELIVERY),
            journey=journey,
            failure=consignment.failure,
        )

    def view(self, reference: str) -> ConsignmentView:
        with self._lock:
            return self._view(self._get(reference), self.clock.now())

    # -- the five steps ---------------------------------------------------------------
    def create(self, request: NewConsignment) -> str:
        with self._lock:
            reference = self._reference("EC")
            self._consignments[reference] = _Consignment(
                reference=reference,
                customer_guid=self._guid(),
                request=request,
                package_references=tuple(self._reference("EP") for _ in request.packages),
                created=self.clock.now(),
            )
            return reference

    def quote(self, reference: str) -> QuoteSet:
        """Fresh quotes (new references) each call; earlier ones stay valid until they expire."""
        with self._lock:
            consignment, now, state = self._as_of_now(reference)
            if state not in REQUOTABLE:
                raise _invalid_state(
                    f"Consignment {consignment.reference} is {state}: quotes are only given "
                    f"before the carrier has it.",
                )
            request = consignment.request
            collection = next_working_day(max(request.shipping_date or now.date(), now.date()))
            parcels = [package.size for package in request.packages]
            request_reference = self._guid()
            quotes: list[QuoteRecord] = []
            excluded: list[tuple[Service, Exclusion]] = []
            inbound = request.direction.lower() == "inbound"
            # The customer's end: where an outbound parcel goes, where a return comes from.
            customer = request.origin if inbound else request.destination
            for service in SERVICES:
                if not service.carries("Outbound" if not inbound else "Inbound") and not (
                    inbound and self.quote_every_direction
                ):
                    continue
                result = price(
                    service, customer.country, customer.postcode, parcels, inbound=inbound
                )
                if isinstance(result, Exclusion):
                    excluded.append((service, result))
                    continue
                quote = QuoteRecord(
                    reference=self._guid(),
                    request_reference=request_reference,
                    consignment_reference=consignment.reference,
                    consignment=request,
                    service=service,
                    pricing=result,
                    collection=collection,
                    earliest=add_working_days(collection, result.min_days),
                    latest=add_working_days(collection, result.max_days),
                    created=now,
                    expires=now + self.quote_ttl,
                )
                self._quotes[quote.reference] = quote
                quotes.append(quote)
            quotes.sort(key=lambda q: (q.pricing.total.gross, q.service.reference))
            return QuoteSet(request_reference, tuple(quotes), tuple(excluded))

    def begin_allocating(self, reference: str) -> bool:
        """Shown as Allocating until `allocate` ends (as PRO does while a carrier answers);
        False if it can't be allocated now (allocate then refuses it with the reason)."""
        with self._lock:
            consignment = self._get(reference)
            if consignment.allocating or consignment.state not in QUOTABLE:
                return False
            consignment.allocating = True
            return True

    def allocate(
        self, reference: str, quote_reference: str, *, begun: bool = False
    ) -> ConsignmentView:
        with self._lock:
            consignment = self._get(reference)
            if begun:
                consignment.allocating = False
            now = self.clock.now()
            state = self._state(consignment, now)
            if state in HOLDS_ALLOCATION:
                raise ApiProblem(
                    400,
                    "AlreadyAllocated",
                    f"Consignment {consignment.reference} is already allocated "
                    f"({state}); deallocate it first.",
                )
            if state not in QUOTABLE:
                raise _invalid_state(
                    f"Consignment {consignment.reference} is {state} and cannot be allocated.",
                )
            quote = self._quotes.get(quote_reference.lower())
            if quote is None:
                raise not_found("Quote", quote_reference)
            if quote.consignment_reference != consignment.reference:
                raise _quote_refused(
                    "QuoteNotForConsignment",
                    quote,
                    f"Quote {quote.reference} was given for consignment "
                    f"{quote.consignment_reference}, not {consignment.reference}.",
                )
            if now >= quote.expires:
                raise _quote_refused(
                    "QuoteExpired",
                    quote,
                    f"Quote {quote.reference} expired at {quote.expires.isoformat()}; "
                    f"get quotes again.",
                )
            # The quote priced the consignment as it was then; the request is frozen, so it
            # still is. Each package gets its own tracking number.
            tracking = tuple(
                self._tracking_number(quote.service.carrier) for _ in consignment.package_references
            )
            consignment.allocation = AllocationRecord(quote, tracking, now)
            consignment.state = ALLOCATED
            return self._view(consignment, now)

    def _allocated(self, reference: str, code: str, what: str) -> tuple[_Consignment, datetime]:
        """The consignment and the time, if it is allocated (labels and documents exist)."""
        consignment, now, state = self._as_of_now(reference)
        if state not in LABELLED or consignment.allocation is None:
            raise ApiProblem(
                404,
                code,
                f"Consignment {consignment.reference} is {state}: {what} exist once it is "
                "allocated.",
            )
        return consignment, now

    def documents(self, reference: str) -> ConsignmentView:
        """The consignment for its customs documents: they exist once it is allocated."""
        with self._lock:
            consignment, now = self._allocated(
                reference, "CustomsDocumentsNotFound", "customs documents"
            )
            return self._view(consignment, now)

    def labels(self, reference: str) -> ConsignmentView:
        """The consignment for printing; marks its labels printed (LabelsPrinted: true)."""
        with self._lock:
            consignment, now = self._allocated(reference, "LabelNotFound", "labels")
            if consignment.labels_printed_at is None:
                consignment.labels_printed_at = now
            return self._view(consignment, now)

    def manifest(self, query: ManifestQuery) -> tuple[list[str], list[str]]:
        """Manifests every match; returns (found, failed) references."""
        with self._lock:
            now = self.clock.now()
            found = [
                consignment
                for consignment in self._consignments.values()
                if _matches(query, self._view(consignment, now))
            ]
            for consignment in found:
                consignment.state = MANIFESTED
                consignment.manifested_at = now
                if (
                    consignment.journey is None
                    and self._journey_rng.random() < self.exception_share
                ):
                    consignment.journey = self._journey_rng.choice(EXCEPTION_JOURNEYS)
            return [c.reference for c in found], []

    def cancel(self, reference: str) -> ConsignmentView:
        with self._lock:
            consignment, now, state = self._as_of_now(reference)
            if state not in CANCELLABLE:
                raise _invalid_state(
                    f"Consignment {consignment.reference} is {state} and cannot be cancelled.",
                )
            consignment.state = CANCELLED
            return self._view(consignment, now)

    def deallocate(self, reference: str) -> ConsignmentView:
        with self._lock:
            consignment, now, state = self._as_of_now(reference)
            if state in QUOTABLE:
                raise ApiProblem(
                    400,
                    "NotAllocated",
                    f"Consignment {consignment.reference} is {state}: there is nothing to "
                    f"deallocate.",
                )
            if state == READY_TO_SHIP:
                raise _invalid_state(
                    f"Consignment {consignment.reference} is ReadyToShip: set it not ready to "
                    "ship first.",
                )
            if state not in DEALLOCATABLE:
                raise _invalid_state(
                    f"Consignment {consignment.reference} is {state} and cannot be deallocated.",
                )
            consignment.state = UNALLOCATED
            consignment.allocation = None
            consignment.labels_printed_at = None
            consignment.manifested_at = None
            return self._view(consignment, now)

    def set_ready_to_ship(self, reference: str, ready: bool) -> str:
        """Allocated <-> ReadyToShip; returns the message for the response entry."""
        with self._lock:
            consignment, _, state = self._as_of_now(reference)
            before, after = (ALLOCATED, READY_TO_SHIP) if ready else (READY_TO_SHIP, ALLOCATED)
            if state != before:
                raise _invalid_state(
                    f"Consignment {consignment.reference} is {state}; only {before} "
                    f"consignments can be marked {after}.",
                )
            consignment.state = after
            label = "Ready To Ship" if ready else "Not Ready To Ship"
            return f"Consignment marked as {label} completed successfully"

    # -- after the manifest: state events, late consignments, set journeys ---------------
    def state_events(
        self, states: frozenset[str], start: datetime, end: datetime
    ) -> list[tuple[ConsignmentView, str]]:
        """Each state change in [start, end) into one of `states`: the consignment as it
        stands now, and the state it entered then (GUESS: one row per change)."""
        with self._lock:
            now = self.clock.now()
            found: list[tuple[datetime, ConsignmentView, str]] = []
            for consignment in self._consignments.values():
                view = self._view(consignment, now)
                for state, began in view.journey:
                    if state in states and start <= began < end:
                        found.append((began, view, state))
            found.sort(key=lambda item: item[0])
            return [(view, state) for _, view, state in found]

    def late(self) -> list[ConsignmentView]:
        """Allocated or on the way, not delivered, and past the quote's latest delivery day."""
        with self._lock:
            now = self.clock.now()
            views = [self._view(c, now) for c in self._consignments.values()]
            return [
                v
                for v in views
                if v.latest_delivery is not None
                and v.latest_delivery < now.date()
                and v.state not in (DELIVERED, CANCELLED, LOST, RETURN_TO_SENDER)
            ]

    def set_journey(
        self, reference: str, states: tuple[str, ...], *, handed_in: bool = False
    ) -> ConsignmentView:
        """What happens after the manifest (now or later), one state per tracking step.

        `handed_in`: a return (Inbound, allocated) was handed in by the customer just now and
        its journey starts. GUESS: Sorted's docs don't say what PRO shows for a return the
        retailer never manifests; the sandbox treats the carrier's first scan as its manifest.
        """
        unknown = [s for s in states if s not in JOURNEY_STATES]
        if not states or unknown:
            raise ApiProblem(
                400,
                "ValidationError",
                f"A journey is a list of states after Manifested, from {sorted(JOURNEY_STATES)}"
                + (f"; not {unknown}" if unknown else ""),
            )
        with self._lock:
            consignment = self._get(reference)
            now = self.clock.now()
            if handed_in:
                state = self._state(consignment, now)
                if consignment.request.direction.lower() != "inbound" or state != ALLOCATED:
                    raise ApiProblem(
                        400,
                        "InvalidState",
                        f"Only an allocated return can be handed in; {reference} is "
                        f"{consignment.request.direction} and {state}.",
                    )
                consignment.state, consignment.manifested_at = MANIFESTED, now
            consignment.journey = (MANIFESTED, *states)
            return self._view(consignment, now)

    # -- consignments made elsewhere: search, update ----------------------------------
    def search(self, matches: Callable[[ConsignmentView], bool]) -> list[ConsignmentView]:
        """Every consignment `matches` accepts, newest first (GUESS: PRO's order is
        undocumented)."""
        with self._lock:
            now = self.clock.now()
            views = [self._view(c, now) for c in self._consignments.values()]
        found = [v for v in views if matches(v)]
        found.sort(key=lambda v: v.created, reverse=True)
        return found

    def _editable(self, reference: str) -> _Consignment:
        consignment, _, state = self._as_of_now(reference)
        if state not in EDITABLE:
            raise _invalid_state(
                f"Consignment {consignment.reference} is {state}: a consignment can only be "
                "edited while Unallocated or Allocation Failed (deallocate it first).",
            )
        return consignment

    def update(self, reference: str, request: NewConsignment, *, packages_given: bool) -> None:
        """Update Consignment: a full replace. Source can't change; omitted Packages are
        kept (the help page; the SDK says removed - CONFLICT), new ones get new references."""
        with self._lock:
            consignment = self._editable(reference)
            old = consignment.request
            if not packages_given:
                request = replace(request, packages=old.packages)
            elif len(request.packages) != len(old.packages):
                consignment.package_references = tuple(
                    self._reference("EP") for _ in request.packages
                )
            consignment.request = replace(request, source=old.source)

    def update_address(self, reference: str, address: Address) -> None:
        """Update Consignment Address: one address (by its AddressType) replaced."""
        with self._lock:
            consignment = self._editable(reference)
            old = consignment.request
            if address.wire.get("AddressType") == "Origin":
                consignment.request = replace(old, origin=address)
            else:
                consignment.request = replace(old, destination=address)

    def seed_state(
        self,
        reference: str,
        *,
        state: str,
        failure: str | None = None,
        manifested_ago: float | None = None,
    ) -> None:
        """For seeding only: put a consignment straight into a state a webshop's would be in."""
        with self._lock:
            consignment = self._get(reference)
            consignment.state = state
            consignment.failure = failure
            if manifested_ago is not None:
                consignment.manifested_at = self.clock.now() - timedelta(seconds=manifested_ago)

    # -- settings ---------------------------------------------------------------------
    def set_quote_every_direction(self, value: bool) -> None:
        with self._lock:
            self.quote_every_direction = value

    def set_timing(
        self,
        *,
        quote_ttl_seconds: float | None = None,
        tracking_step_seconds: float | None = None,
        allocate_seconds: float | None = None,
        exception_share: float | None = None,
    ) -> None:
        """New quotes expire after the new TTL; tracking steps re-time from manifest time;
        an allocate takes `allocate_seconds` (shown as Allocating meanwhile)."""
        with self._lock:
            if allocate_seconds is not None:
                self.allocate_seconds = allocate_seconds
            if exception_share is not None:
                self.exception_share = min(max(exception_share, 0.0), 1.0)
            if quote_ttl_seconds is not None:
                self.quote_ttl = timedelta(seconds=quote_ttl_seconds)
            if tracking_step_seconds is not None:
                self.tracking_step = timedelta(seconds=tracking_step_seconds)

    def advance_clock(self, seconds: float) -> datetime:
        with self._lock:
            self.clock.advance(seconds)
            return self.clock.now()

    def now(self) -> datetime:
        return self.clock.now()


def _matches(query: ManifestQuery, view: ConsignmentView) -> bool:
    if view.state not in query.states:
        return False
    location = view.request.origin.shipping_location
    if query.shipping_locations is not None and location not in query.shipping_locations:
        return False
    allocation = view.allocation
    if query.carriers is not None:
        wanted = {c.upper() for c in query.carriers}
        if allocation is None:
            return False
        if not {allocation.carrier.reference, allocation.carrier.name.upper()} & wanted:
            return False
    if query.labels_printed is not None and query.labels_printed != (
        view.labels_printed_at is not None
    ):
        return False
    shipping_date = view.shipping_date
    if query.shipping_date is not None and shipping_date != query.shipping_date:
        return False
    if query.date_range is not None:
        start, end = query.date_range
        if shipping_date is None:
            return False
        if (start and shipping_date < start) or (end and shipping_date > end):
            return False
    return True


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choices(string.digits, k=count))


def _s10_check_digit(serial: str) -> str:
    """UPU S10 check digit, as on Royal Mail tracking numbers."""
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return {10: "0", 11: "5"}.get(check, str(check))


def _tracking_number(rng: random.Random, carrier: str) -> str:
    """A number in the carrier's usual format, so it looks right on a label."""
    if carrier == "ROYAL_MAIL":
        serial = _digits(rng, 8)
        return f"TT{serial}{_s10_check_digit(serial)}GB"
    if carrier == "DPD":
        return "15" + _digits(rng, 12)
    if carrier == "EVRI":
        return "H" + "".join(rng.choices(_ALPHANUMERIC, k=3)) + _digits(rng, 12)
    return _digits(rng, 10)
