"""Our domain models: what the store, the services and `blocks/` work with.

The carrier's wire models live in `bot/carrier/wire.py`; only the `bot/carrier/mapping_*.py`
modules convert between the two, so nothing outside `bot/carrier/` knows the wire.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.carrier_states import ConsignmentState, DeliveryState


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ExportReason(StrEnum):
    SALE = "Sale"
    GIFT = "Gift"
    SAMPLE = "Sample"
    RETURN = "Return"
    DOCUMENTS = "Documents"


class Direction(StrEnum):
    """Which way a consignment goes: out to a customer, or back from one (a return)."""

    OUTBOUND = "Outbound"
    INBOUND = "Inbound"


class ReturnReason(StrEnum):
    """Why the customer sends it back (the return form's choice)."""

    DAMAGED = "Damaged"
    WRONG_ITEM = "Wrong item"
    NOT_WANTED = "Not wanted"
    OTHER = "Other"


class Money(_Model):
    amount: Decimal
    currency: str = "GBP"


class Recipient(_Model):
    """The destination: a person at an address."""

    name: str
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    line1: str
    line2: str | None = None
    line3: str | None = None
    town: str
    region: str | None = None
    postcode: str
    country: str = Field(description="ISO 3166-1 alpha-2, upper case")


class Parcel(_Model):
    """One physical package; a shipment has `count` identical ones."""

    weight_kg: Decimal
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal


class Customs(_Model):
    """What a parcel leaving the UK needs for CN22/CN23."""

    contents: str
    hs_code: str
    origin_country: str
    item_value: Money
    reason: ExportReason


class ShipmentRequest(_Model):
    """What the agent asked for in the `/ship` form (or the return form).

    `recipient` is always the customer: for a return (`direction` INBOUND) the customer is
    the sender, and our shipping location is where it goes.
    """

    shipper_reference: str
    order_number: str | None = None
    recipient: Recipient
    parcel: Parcel
    parcel_count: int = 1
    value: Money
    contents: str
    customs: Customs | None = None
    direction: Direction = Direction.OUTBOUND
    return_reason: ReturnReason | None = None
    return_note: str | None = None

    @property
    def is_return(self) -> bool:
        return self.direction is Direction.INBOUND

    @property
    def is_international(self) -> bool:
        return self.recipient.country.upper() not in UK_COUNTRY_CODES

    @property
    def total_weight_kg(self) -> Decimal:
        return self.parcel.weight_kg * self.parcel_count


UK_COUNTRY_CODES = frozenset({"GB"})


class Price(_Model):
    net: Decimal
    vat: Decimal
    gross: Decimal
    currency: str = "GBP"


class Quote(_Model):
    reference: str
    consignment_reference: str
    carrier_code: str
    carrier_name: str
    service_code: str
    service_name: str
    price: Price
    collection_date: datetime | None = None
    earliest_delivery: datetime | None = None
    latest_delivery: datetime | None = None
    expires_at: datetime
    created_at: datetime | None = None
    # The carrier's ServiceDirection: True when the service carries returns (Inbound),
    # False when it says Outbound only, None when the quote did not say.
    inbound: bool | None = None


class UnqualifiedService(_Model):
    service_name: str
    carrier_code: str | None = None
    reason: str


class QuoteSet(_Model):
    request_reference: str
    quotes: tuple[Quote, ...]
    unqualified: tuple[UnqualifiedService, ...] = ()
    message: str | None = None


class Allocation(_Model):
    consignment_reference: str
    carrier_code: str
    carrier_name: str
    service_code: str | None = None
    service_name: str
    tracking_numbers: tuple[str, ...] = ()
    description: str | None = None


class DocumentKind(StrEnum):
    LABEL = "label"
    CN22 = "cn22"
    CN23 = "cn23"
    COMMERCIAL_INVOICE = "commercial_invoice"
    REPORT = "report"


class Document(_Model):
    kind: DocumentKind
    name: str
    content_type: str
    data: bytes


class ManifestResult(_Model):
    message: str
    failed: tuple[str, ...] = ()
    # How many the carrier says it queued; None when its message could not be read.
    queued: int | None = None


class ConsignmentStatus(_Model):
    """What Get Consignment says about one consignment now."""

    reference: str
    state: ConsignmentState
    raw_state: str
    shipper_reference: str | None = None
    carrier_code: str | None = None
    carrier_name: str | None = None
    service_name: str | None = None
    tracking_numbers: tuple[str, ...] = ()
    earliest_delivery: datetime | None = None
    latest_delivery: datetime | None = None
    shipping_date: date | None = None
    # What the carrier really allocated (Get Consignment's Allocation), for a lookup after a
    # lost reply: the service's reference, when, and the price. None until allocated.
    service_code: str | None = None
    allocated_at: datetime | None = None
    price: Price | None = None
    # Where it is going, in a few words ("Leeds LS1 4AP, GB"), from its Destination address.
    destination: str | None = None


class FoundConsignment(_Model):
    """A consignment at Sorted PRO as Search Consignments lists it: maybe not one of ours."""

    reference: str
    state: ConsignmentState
    raw_state: str
    # ConsignmentReferenceProvidedByCustomer: the webshop's order number (not unique).
    order_number: str | None = None
    # "Api" or "Web": the only "made by" PRO records.
    source: str | None = None
    created_at: datetime | None = None
    service_name: str | None = None
    town: str | None = None
    postcode: str | None = None
    country: str | None = None
    # FailedAllocation's message (stale ones survive a later allocation: informational).
    failure: str | None = None


class ConsignmentDetail(FoundConsignment):
    """Get Consignment in full, for the card and for taking it over."""

    recipient: Recipient | None = None
    # As our form would have it (recipient, parcels, value); None if PRO's record lacks them.
    request: ShipmentRequest | None = None
    carrier_code: str | None = None
    carrier_name: str | None = None
    service_code: str | None = None
    tracking_numbers: tuple[str, ...] = ()
    allocated_at: datetime | None = None
    price: Price | None = None
    # Inbound: a return made elsewhere (its customer is the sender); never returned again.
    direction: Direction = Direction.OUTBOUND


class Step(StrEnum):
    """Where a consignment is in our flow; each is recorded before the next call is made."""

    NEW = "new"
    CREATING = "creating"
    CREATED = "created"
    QUOTING = "quoting"
    QUOTED = "quoted"
    EXPIRED = "expired"
    # A quote above SHIPBOT_APPROVAL_ABOVE was chosen; it waits for an approver.
    AWAITING_APPROVAL = "awaiting_approval"
    CLAIMED = "claimed"
    ALLOCATING = "allocating"
    ALLOCATED = "allocated"
    LABEL_SAVED = "label_saved"
    UPLOADED = "uploaded"
    # Held by `/ship manifest` while the carrier's manifest is in flight: cancel keeps off.
    MANIFESTING = "manifesting"
    MANIFESTED = "manifested"
    # Held while the carrier's Cancel is in flight: clicks and the flow keep off it.
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    FAILED = "failed"
    # "Ship with another service": quotes for an allocated consignment are being fetched,
    # then shown beside its current service; a click releases the booking (deallocate,
    # after setnotreadytoship if Ready To Ship) and then allocates as CLAIMED does.
    REQUOTING = "requoting"
    REQUOTED = "requoted"
    RELEASING = "releasing"
    # "Fix the address": the booking released if there is one, the record updated (a full
    # replace) and read back; then fresh quotes (CREATED).
    UPDATING = "updating"

    @property
    def in_flight(self) -> bool:
        """Work the job runner owes this consignment (resumed after a restart)."""
        return self in IN_FLIGHT


# Named groups of steps: the one definition every module uses, so "cancellable" or
# "allocated" means the same thing in the flow, the store, the renderers and the tests.
IN_FLIGHT = frozenset(
    {
        Step.NEW,
        Step.CREATING,
        Step.CREATED,
        Step.QUOTING,
        Step.CLAIMED,
        Step.ALLOCATING,
        Step.ALLOCATED,
        Step.LABEL_SAVED,
        Step.REQUOTING,
        Step.RELEASING,
        Step.UPDATING,
    }
)
# Before any quote is shown: nothing to click or cancel yet.
STILL_QUOTING = frozenset({Step.NEW, Step.CREATING, Step.CREATED, Step.QUOTING})
# A click may claim a quote: QUOTING too, as the buttons are posted just before QUOTED.
TAKES_CLICKS = frozenset({Step.QUOTED, Step.QUOTING})
# A claim whose allocate is queued or in flight.
BEING_ALLOCATED = frozenset({Step.CLAIMED, Step.ALLOCATING})
# The label is bought or being bought but not yet in the thread.
LABEL_ON_ITS_WAY = frozenset({Step.CLAIMED, Step.ALLOCATING, Step.ALLOCATED, Step.LABEL_SAVED})
# Allocated with the carrier, not yet manifested.
ALLOCATED = frozenset({Step.ALLOCATED, Step.LABEL_SAVED, Step.UPLOADED})
# Ready for the manifest: the documents are in the thread.
MANIFESTABLE = frozenset({Step.UPLOADED})
# Cancel may go ahead (CANCELLING: a cancel that died half-way is finished).
CANCELLABLE = frozenset(
    {
        Step.QUOTED,
        Step.AWAITING_APPROVAL,
        Step.EXPIRED,
        Step.FAILED,
        Step.ALLOCATED,
        Step.LABEL_SAVED,
        Step.UPLOADED,
        Step.CANCELLING,
    }
)
CANCELLED = frozenset({Step.CANCELLING, Step.CANCELLED})
# Nothing more happens to these: `/ship list open` leaves them out.
CLOSED = frozenset({Step.MANIFESTED, Step.CANCELLED})
# Waiting for an agent: App Home's first group.
NEEDS_AGENT = frozenset({Step.QUOTED, Step.EXPIRED, Step.FAILED, Step.REQUOTED})
# Booked with a carrier, so "Ship with another service" can start from here.
RESHIPPABLE = frozenset({Step.UPLOADED, Step.MANIFESTED})
# "Ship with another service" under way: quotes being fetched or shown, or releasing.
RESHIPPING = frozenset({Step.REQUOTING, Step.REQUOTED, Step.RELEASING})
# A click on its list is answered by the re-ship (RELEASING: the second click of a pair).
RESHIP_CLICKS = frozenset({Step.REQUOTED, Step.RELEASING})
# "Fix the address" may start here: a booking waiting for its manifest, or quotes shown.
FIXABLE = frozenset({Step.UPLOADED, Step.QUOTED, Step.EXPIRED})
# "Get fresh quotes" starts over from here (FAILED only once the booking was released).
FRESH_QUOTES_FROM = frozenset({Step.EXPIRED, Step.FAILED})
# The thread's quotes message shows the allocation.
SHOWS_ALLOCATION = frozenset({Step.ALLOCATED, Step.LABEL_SAVED, Step.UPLOADED})
# A reprint is possible (the label is in the store and the thread).
HAS_LABEL = frozenset({Step.UPLOADED, Step.MANIFESTING, Step.MANIFESTED, Step.FAILED})

# What the manifest holds while its carrier call is in flight.
MANIFEST_HOLD = frozenset({Step.MANIFESTING})

# Work under way (the flow's, a manifest's or a cancel's): a "⏳" state, shown only when slow.
WORKING = IN_FLIGHT | MANIFEST_HOLD | {Step.CANCELLING}

STEP_GROUPS: dict[str, frozenset[Step]] = {
    "in_flight": IN_FLIGHT,
    "still_quoting": STILL_QUOTING,
    "takes_clicks": TAKES_CLICKS,
    "being_allocated": BEING_ALLOCATED,
    "label_on_its_way": LABEL_ON_ITS_WAY,
    "allocated": ALLOCATED,
    "manifestable": MANIFESTABLE,
    "cancellable": CANCELLABLE,
    "cancelled": CANCELLED,
    "closed": CLOSED,
    "needs_agent": NEEDS_AGENT,
    "shows_allocation": SHOWS_ALLOCATION,
    "has_label": HAS_LABEL,
    "manifest_hold": MANIFEST_HOLD,
    "working": WORKING,
    "reshippable": RESHIPPABLE,
    "reshipping": RESHIPPING,
    "reship_clicks": RESHIP_CLICKS,
    "fresh_quotes_from": FRESH_QUOTES_FROM,
    "fixable": FIXABLE,
}


class Problem(_Model):
    """Why a consignment stopped, in words for the agent, and where "Try again" resumes."""

    step: Step
    kind: str
    message: str
    correlation_id: str | None = None
    retryable: bool = True
    # Form fields (block ids) the carrier refused: "Edit the form" reopens it on them.
    fields: tuple[str, ...] = ()


class ConsignmentRecord(_Model):
    """One conversation: a consignment, its Slack message and thread, and how far it got."""

    id: int
    request: ShipmentRequest
    channel_id: str
    created_by: str
    created_at: datetime
    step: Step
    message_ts: str | None = None
    quotes_ts: str | None = None
    response_url: str | None = None
    carrier_reference: str | None = None
    quotes: tuple[Quote, ...] = ()
    unqualified: tuple[UnqualifiedService, ...] = ()
    claimed_by: str | None = None
    claimed_quote: str | None = None
    allocation: Allocation | None = None
    allocated_at: datetime | None = None
    problem: Problem | None = None
    manifested_at: datetime | None = None
    approval_ts: str | None = None
    # When the allocate request in flight can no longer complete (epoch seconds).
    allocate_deadline: float | None = None
    # "Ship again": the consignment this one copied, and what agents call it.
    repeats: int | None = None
    repeats_reference: str | None = None
    # A return: the consignment it sends back, what agents call that one, and that one's
    # channel message, whose thread this return lives in.
    returns: int | None = None
    returns_reference: str | None = None
    returns_thread_ts: str | None = None

    @property
    def thread_ts(self) -> str | None:
        """Where this consignment's thread messages go: a return's are in its original's."""
        if self.returns is not None:
            return self.returns_thread_ts or self.message_ts
        return self.message_ts

    @property
    def is_return(self) -> bool:
        return self.returns is not None or self.request.is_return

    # The repeated one is the same order (its order number kept): a replacement.
    replaces: bool = False
    # Taken over from Sorted PRO (not made by our form): PRO's Source and creation date.
    found_source: str | None = None
    found_at: datetime | None = None
    # Set once a "Ship with another service" released the booking (the old service's name),
    # until the new one is allocated: a failure then says the old booking is gone.
    released_service: str | None = None
    # After the manifest: what the carrier last said happened to the parcel (issue 25).
    delivery: DeliveryState | None = None

    @property
    def chosen_quote(self) -> Quote | None:
        return next((q for q in self.quotes if q.reference == self.claimed_quote), None)

    @property
    def reference(self) -> str:
        """What agents call it: the carrier's reference once there is one."""
        return self.carrier_reference or self.request.shipper_reference


class AuditEntry(_Model):
    at: datetime
    actor: str
    action: str
    outcome: str
    consignment_id: int | None = None
    detail: str | None = None
    correlation_id: str | None = None


class ManifestRecord(_Model):
    """One `/ship manifest` as the store keeps it: who, when, and what went with it."""

    id: int
    at: datetime
    requested_by: str
    channel_id: str
    message: str
    queued: tuple[int, ...] = ()
    failed: tuple[str, ...] = ()
