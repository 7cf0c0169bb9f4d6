"""State events and late consignments: their wire shapes and their mapping to our models.

Kept apart from `wire.py`/`mapping_*.py` (like `tracking.py`) because only the delivery
watcher uses them, and they are the least documented part of PRO v1:

- `POST /events/consignments/stateevents` with `{ConsignmentStates, Start, End}` (all
  required, SDK) answers a **bare array** of `ConsignmentPayload` (SDK, both the attribute
  and the method). CONFLICT on the path: the reference pages say
  `/events/consignments/stateevents`, the SDK's attribute `/events/consignmentstateevents`;
  the client tries the first and falls back to the second. No example JSON exists
  anywhere: every field here is optional, and a `{"Events": [...]}` envelope (what the
  non-state events query is also said to return) is read too.
- GUESS: what Start/End filter on (the time of the state change) and whether a
  consignment can appear several times in one window are undocumented; the watcher
  de-duplicates on (reference, state), so either way each change is told once.
- `Packages[].TrackingDetails` may arrive empty (the SDK's classes have no DataMember on
  them, GUESS): tracking numbers come from `ConsignmentLegs` or `ConsignmentTrackingReference`.
- `GET /consignments/late` answers `{TotalNumberOfLateConsignments, ConsignmentSummaries[]}`
  (SDK, MPD SDK); its rows are Search Consignments' `ConsignmentSummary` (note `State`,
  not `ConsignmentState`). A bare array of rows is read too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, TypeAdapter

from bot.carrier.mapping_lookup import SDK_STATE_NAMES
from bot.carrier.wire import ConsignmentLeg, NullableList, WireDateTime, WireModel
from bot.carrier_states import ConsignmentState, LateConsignment, StateChange


class StateEventsRequest(WireModel):
    consignment_states: list[str]
    start: WireDateTime
    end: WireDateTime


class ConsignmentPayload(WireModel):
    consignment_reference: str | None = None
    consignment_reference_provided_by_customer: str | None = None
    consignment_tracking_reference: str | None = None
    consignment_state: str | int | None = None
    consignment_legs: NullableList[ConsignmentLeg] = Field(default_factory=list)
    carrier_service_reference: str | None = None
    carrier_service_name: str | None = None
    earliest_delivery_date: WireDateTime = None
    latest_delivery_date: WireDateTime = None
    date_delivered: WireDateTime = None


def _bare_or_enveloped(value: object) -> object:
    """A bare array (SDK); `{"Events": [...]}` or `{"Consignments": [...]}` tolerated."""
    if isinstance(value, dict):
        for key in ("Events", "Consignments", "ConsignmentSummaries"):
            if isinstance(value.get(key), list):
                return value[key]
        return []
    return [] if value is None else value


STATE_EVENTS: TypeAdapter[list[ConsignmentPayload]] = TypeAdapter(
    Annotated[list[ConsignmentPayload], BeforeValidator(_bare_or_enveloped)]
)


class LateSummary(WireModel):
    reference: str | None = None
    consignment_reference_provided_by_customer: str | None = None
    state: str | int | None = None
    destination_address_town: str | None = None
    destination_address_postcode: str | None = None
    destination_address_country: str | None = None
    estimated_delivery_date: WireDateTime = None
    delivery_date: WireDateTime = None
    requested_delivery_date: Any = None


def _late_rows(value: object) -> object:
    if isinstance(value, list):
        # A one-element array of the wrapper (the PHP client's reading of Search) or rows.
        if len(value) == 1 and isinstance(value[0], dict) and "ConsignmentSummaries" in value[0]:
            return value[0]["ConsignmentSummaries"] or []
        return value
    if isinstance(value, dict):
        return value.get("ConsignmentSummaries") or []
    return []


LATE: TypeAdapter[list[LateSummary]] = TypeAdapter(
    Annotated[list[LateSummary], BeforeValidator(_late_rows)]
)


def _state_name(raw: str | int | None) -> str:
    return SDK_STATE_NAMES.get(raw, str(raw)) if isinstance(raw, int) else (raw or "")


def state_changes(payloads: list[ConsignmentPayload]) -> tuple[StateChange, ...]:
    """Rows without a reference or a state say nothing we can act on: dropped."""
    found = []
    for p in payloads:
        raw = _state_name(p.consignment_state)
        if not p.consignment_reference or not raw:
            continue
        numbers: list[str] = []
        for leg in p.consignment_legs:
            numbers += [n for n in leg.tracking_references if n and n not in numbers]
        if not numbers and p.consignment_tracking_reference:
            numbers.append(p.consignment_tracking_reference)
        found.append(
            StateChange(
                reference=p.consignment_reference.upper(),
                state=ConsignmentState.parse(raw),
                raw_state=raw,
                order_number=p.consignment_reference_provided_by_customer or None,
                tracking_numbers=tuple(numbers),
                service_name=p.carrier_service_name,
                latest_delivery=p.latest_delivery_date,
                delivered_at=p.date_delivered,
            )
        )
    return tuple(found)


def late_consignments(rows: list[LateSummary]) -> tuple[LateConsignment, ...]:
    found = []
    for row in rows:
        if not row.reference:
            continue
        raw = _state_name(row.state)
        place = " ".join(
            p for p in (row.destination_address_town, row.destination_address_postcode) if p
        )
        where = ", ".join(p for p in (place, row.destination_address_country) if p)
        due: datetime | None = row.estimated_delivery_date or row.delivery_date
        found.append(
            LateConsignment(
                reference=row.reference.upper(),
                order_number=row.consignment_reference_provided_by_customer or None,
                state=ConsignmentState.parse(raw),
                raw_state=raw,
                destination=where or None,
                due=due,
            )
        )
    return tuple(found)
