"""What the carrier says about a parcel: Sorted PRO's consignment states and their groups,
tracking scans, state changes, late consignments and our record of the latest word.

Apart from `bot/models.py` (which builds on it) because the delivery desk, the sandbox and
the carrier read these alone; nothing here knows our flow's steps.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ConsignmentState(StrEnum):
    """Sorted PRO's consignment states, as spelt on the wire (the SDK's enum names)."""

    UNALLOCATED = "Unallocated"
    ALLOCATING = "Allocating"
    ALLOCATION_FAILED = "AllocationFailed"
    ALLOCATED = "Allocated"
    READY_TO_SHIP = "ReadyToShip"
    MANIFESTING = "Manifesting"
    MANIFESTED = "Manifested"
    MANIFEST_FAILED = "ManifestFailed"
    DISPATCHED = "Dispatched"
    COLLECTED = "Collected"
    IN_TRANSIT = "InTransit"
    OUT_FOR_DELIVERY = "OutForDelivery"
    DELIVERED = "Delivered"
    DELIVERY_FAILED = "DeliveryFailed"
    CANCELLING = "Cancelling"
    CANCELLED = "Cancelled"
    # After the manifest (the SDK's enum; the states page spells them with spaces).
    AT_DROP_OFF_POINT = "AtDropOffPoint"
    COLLECTION_FAILED = "CollectionFailed"
    CARRIER_UNABLE_TO_COLLECT = "CarrierUnableToCollect"
    EXCHANGE_FAILED = "ExchangeFailed"
    IN_TRANSIT_WAITING = "InTransitWaiting"
    AT_CUSTOMS = "AtCustoms"
    DELAYED = "Delayed"
    HELD_BY_CARRIER = "HeldByCarrier"
    ACTION_REQUIRED = "ActionRequired"
    MISSING = "Missing"
    LOST = "Lost"
    DAMAGED = "Damaged"
    DELIVERED_DAMAGED = "DeliveredDamaged"
    PARTIALLY_DELIVERED = "PartiallyDelivered"
    AT_COLLECTION_POINT = "AtCollectionPoint"
    DELIVERY_FAILED_CARD_LEFT = "DeliveryFailedCardLeft"
    RETURN_TO_SENDER = "ReturnToSender"
    OTHER = "Other"

    @classmethod
    def parse(cls, value: str | None) -> ConsignmentState:
        """Tolerant: the docs spell some states with spaces ("Manifest Failed")."""
        if not value:
            return cls.OTHER
        squashed = value.replace(" ", "").replace("-", "").lower()
        for state in cls:
            if state.value.lower() == squashed:
                return state
        return cls.OTHER

    @property
    def allocated_or_later(self) -> bool:
        """A label has been bought (whatever happened to the parcel since)."""
        return self in _ALLOCATED_OR_LATER

    @property
    def cancellable(self) -> bool:
        """Cancel Consignment can still work (before the manifest, per Sorted's docs)."""
        return self in _CARRIER_CANCELLABLE

    @property
    def manifested_or_later(self) -> bool:
        return self in _MANIFESTED_OR_LATER

    @property
    def exception(self) -> bool:
        """Something went wrong on the way: the desk should act (issue 25's list)."""
        return self in EXCEPTION_STATES

    @property
    def on_the_way(self) -> bool:
        """Handed to the carrier and still moving: what the delivery watcher follows."""
        return self in _ON_THE_WAY

    @property
    def journey_over(self) -> bool:
        """Nothing more will happen to the parcel (or it is coming back to us)."""
        return self in _JOURNEY_OVER


_MANIFESTED_OR_LATER = frozenset(
    {
        ConsignmentState.MANIFESTING,
        ConsignmentState.MANIFESTED,
        ConsignmentState.DISPATCHED,
        ConsignmentState.COLLECTED,
        ConsignmentState.IN_TRANSIT,
        ConsignmentState.OUT_FOR_DELIVERY,
        ConsignmentState.DELIVERED,
        ConsignmentState.DELIVERY_FAILED,
        ConsignmentState.AT_DROP_OFF_POINT,
        ConsignmentState.COLLECTION_FAILED,
        ConsignmentState.CARRIER_UNABLE_TO_COLLECT,
        ConsignmentState.EXCHANGE_FAILED,
        ConsignmentState.IN_TRANSIT_WAITING,
        ConsignmentState.AT_CUSTOMS,
        ConsignmentState.DELAYED,
        ConsignmentState.HELD_BY_CARRIER,
        ConsignmentState.ACTION_REQUIRED,
        ConsignmentState.MISSING,
        ConsignmentState.LOST,
        ConsignmentState.DAMAGED,
        ConsignmentState.DELIVERED_DAMAGED,
        ConsignmentState.PARTIALLY_DELIVERED,
        ConsignmentState.AT_COLLECTION_POINT,
        ConsignmentState.DELIVERY_FAILED_CARD_LEFT,
        ConsignmentState.RETURN_TO_SENDER,
    }
)


# Delayed, held, failed, action required, missing, lost, damaged, return to sender,
# collection failed: each brings the consignment to the desk (issue 25).
EXCEPTION_STATES = frozenset(
    {
        ConsignmentState.DELAYED,
        ConsignmentState.HELD_BY_CARRIER,
        ConsignmentState.DELIVERY_FAILED,
        ConsignmentState.DELIVERY_FAILED_CARD_LEFT,
        ConsignmentState.ACTION_REQUIRED,
        ConsignmentState.MISSING,
        ConsignmentState.LOST,
        ConsignmentState.DAMAGED,
        ConsignmentState.DELIVERED_DAMAGED,
        ConsignmentState.RETURN_TO_SENDER,
        ConsignmentState.COLLECTION_FAILED,
        ConsignmentState.CARRIER_UNABLE_TO_COLLECT,
        ConsignmentState.EXCHANGE_FAILED,
    }
)


_JOURNEY_OVER = frozenset(
    {
        ConsignmentState.DELIVERED,
        ConsignmentState.DELIVERED_DAMAGED,
        ConsignmentState.LOST,
        ConsignmentState.RETURN_TO_SENDER,
        ConsignmentState.CANCELLED,
    }
)


_ON_THE_WAY = (_MANIFESTED_OR_LATER - {ConsignmentState.MANIFESTING}) - _JOURNEY_OVER


_ALLOCATED_OR_LATER = _MANIFESTED_OR_LATER | {
    ConsignmentState.ALLOCATED,
    ConsignmentState.READY_TO_SHIP,
    ConsignmentState.MANIFEST_FAILED,
}


_CARRIER_CANCELLABLE = frozenset(
    {
        ConsignmentState.UNALLOCATED,
        ConsignmentState.ALLOCATION_FAILED,
        ConsignmentState.ALLOCATED,
        ConsignmentState.READY_TO_SHIP,
        ConsignmentState.MANIFEST_FAILED,
    }
)


class TrackingEvent(_Model):
    at: datetime
    description: str
    location: str | None = None
    # Who signed for it (the carrier's SignedBy), on a delivery scan.
    signed_by: str | None = None


class StateChange(_Model):
    """One consignment's state as the state events query (or Get Consignment) reports it."""

    reference: str
    state: ConsignmentState
    raw_state: str
    order_number: str | None = None
    tracking_numbers: tuple[str, ...] = ()
    service_name: str | None = None
    latest_delivery: datetime | None = None
    delivered_at: datetime | None = None


class LateConsignment(_Model):
    """A row of Get Late Consignments (or one of ours past its latest delivery date)."""

    reference: str
    order_number: str | None = None
    state: ConsignmentState = ConsignmentState.OTHER
    raw_state: str = ""
    destination: str | None = None
    due: datetime | None = None
    consignment_id: int | None = None


class DeliveryState(_Model):
    """The carrier's latest word on one of our consignments after its manifest."""

    state: ConsignmentState
    raw_state: str
    at: datetime
    signed_by: str | None = None
    notice_ts: str | None = None
    handled_by: str | None = None
    handled_at: datetime | None = None

    @property
    def open_exception(self) -> bool:
        return self.state.exception and self.handled_at is None
