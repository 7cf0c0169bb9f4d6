"""The delivery desk's card: a consignment found at Sorted PRO, with what its state allows.

Pure Block Kit from a `ConsignmentDetail` (or a search row when several match); the
buttons carry the EC- reference, since it may not be in our store yet.
"""

from __future__ import annotations

from collections.abc import Sequence

from blocks import Block, Message, actions, button, context, escape, mrkdwn, plain, section
from blocks.consignment import price_text, slack_time, source_words
from blocks.form_fields import View, with_notice
from blocks.ids import ActionId, CallbackId
from blocks.payloads import CarrierReferenceValue
from blocks.ship_form import shipment_modal
from bot.carrier_states import ConsignmentState
from bot.models import ConsignmentDetail, Direction, FoundConsignment

DAY_TIME = "{date_short_pretty} {time}"
MAX_LISTED = 10

_QUOTABLE = frozenset({ConsignmentState.UNALLOCATED, ConsignmentState.ALLOCATION_FAILED})
_BOOKED = frozenset(
    {
        ConsignmentState.ALLOCATED,
        ConsignmentState.READY_TO_SHIP,
        ConsignmentState.MANIFESTED,
        ConsignmentState.MANIFEST_FAILED,
    }
)
_IN_PROGRESS = frozenset(
    {ConsignmentState.ALLOCATING, ConsignmentState.MANIFESTING, ConsignmentState.CANCELLING}
)


def state_words(found: FoundConsignment) -> str:
    raw = found.raw_state or found.state.value
    # "ReadyToShip" -> "Ready To Ship", as Sorted PRO's own screens spell the states.
    return "".join(f" {ch}" if ch.isupper() and i else ch for i, ch in enumerate(raw))


def _facts(found: FoundConsignment) -> str:
    where = ", ".join(x for x in (found.town, found.postcode) if x) or "destination not given"
    made = source_words(found.source)
    if found.created_at:
        made += f", {slack_time(found.created_at, DAY_TIME)}"
    order = f"Order {escape(found.order_number)}" if found.order_number else "No order number"
    return f"*{escape(found.reference)}* · {order} · to {escape(where)} · {made}"


def _value(found: FoundConsignment) -> str:
    return CarrierReferenceValue(found.reference).encode()


def _actions(found: ConsignmentDetail) -> tuple[list[Block], str | None]:
    """The buttons this state allows (and Return label once it went out to the customer),
    and a sentence when it allows none of the rescues."""
    buttons, why = _rescues(found)
    if _returnable(found):
        buttons.append(button("Return label", ActionId.FOUND_RETURN, _value(found)))
    return buttons, why


def _returnable(found: ConsignmentDetail) -> bool:
    """Booked or with the carrier, as ours get the button once allocated; a return made
    elsewhere (Inbound) is not returned again."""
    booked = found.state in _BOOKED or found.state.manifested_or_later
    settled = found.state not in _IN_PROGRESS and found.state is not ConsignmentState.CANCELLED
    return booked and settled and found.direction is Direction.OUTBOUND


def _rescues(found: ConsignmentDetail) -> tuple[list[Block], str | None]:
    value = _value(found)
    state = found.state
    fix = button("Fix the address", ActionId.FOUND_ADDRESS, value)
    if state in _QUOTABLE:
        return [button("Get quotes", ActionId.FOUND_QUOTES, value, style="primary"), fix], None
    if state in _BOOKED:
        confirm = None
        if state is ConsignmentState.MANIFESTED:
            confirm = {
                "title": plain("Ship with another service?"),
                "text": mrkdwn(
                    "It is manifested: the carrier already has its data. Choosing another "
                    "service releases this booking; tell the carrier not to collect it."
                ),
                "confirm": plain("Show other services"),
                "deny": plain("Keep it"),
            }
        reship = button("Ship with another service", ActionId.FOUND_RESHIP, value, confirm=confirm)
        if state is ConsignmentState.MANIFESTED:
            return [reship], None  # the carrier has its data: a new address is a new parcel
        return [reship, fix], None
    if state in _IN_PROGRESS:
        why = f"Sorted PRO is working on it right now ({state_words(found)}): refresh in a moment."
        return [button("Refresh", ActionId.FOUND_REFRESH, value)], why
    if state is ConsignmentState.CANCELLED:
        why = "It was cancelled, so nothing can be changed on it: ship a replacement instead."
    else:
        why = (
            "The carrier has it already, so it can't be released or changed: ship a "
            "replacement instead."
        )
    return [button("Ship a replacement", ActionId.FOUND_REPLACE, value, style="primary")], why


def found_card(found: ConsignmentDetail) -> Message:
    """State, service, tracking, destination, when and by what it was made, and actions."""
    state = f"*{escape(state_words(found))}* at Sorted PRO"
    if found.service_name:
        state += f" · {escape(found.service_name)}"
    if found.price:
        state += f" · {price_text(found.price)}"
    if found.tracking_numbers:
        state += f" · tracking {escape(', '.join(found.tracking_numbers))}"
    blocks: list[Block] = [section(f"🔎 {_facts(found)}"), section(state)]
    if found.failure and found.state is ConsignmentState.ALLOCATION_FAILED:
        blocks.append(section(f"⚠️ Allocation failed: {escape(found.failure)}"))
    buttons, why = _actions(found)
    if why:
        blocks.append(section(why))
    blocks.append(actions(*buttons, block_id=f"found-{found.reference}"[:255]))
    blocks.append(context("Not made in shipbot: any action first takes it over into a thread."))
    return Message(text=f"{found.reference}: {state_words(found)} at Sorted PRO", blocks=blocks)


def found_list(text: str, found: Sequence[FoundConsignment]) -> Message:
    """Several live consignments share the order number: one line each, to pick from."""
    title = f"🔎 {len(found)} consignments at Sorted PRO match “{text}”: pick one"
    blocks: list[Block] = [section(title)]
    for f in found[:MAX_LISTED]:
        line = f"{_facts(f)} · *{escape(state_words(f))}*"
        if f.service_name:
            line += f" · {escape(f.service_name)}"
        blocks.append(section(line, accessory=button("Show", ActionId.FOUND_REFRESH, _value(f))))
    if len(found) > MAX_LISTED:
        blocks.append(context(f"+{len(found) - MAX_LISTED} more: search more precisely."))
    return Message(text=title, blocks=blocks)


FIXABLE_STATES = _QUOTABLE | (_BOOKED - {ConsignmentState.MANIFESTED})
ADDRESS_BLOCKS = frozenset(
    {
        "recipient_name",
        "recipient_email",
        "recipient_phone",
        "recipient_company",
        "address_line1",
        "address_line2",
        "address_town",
        "address_postcode",
        "address_country",
    }
)


def fix_address_modal(found: ConsignmentDetail, private_metadata: str) -> View:
    """The current destination, from Sorted PRO's record; an allocated one says that saving
    releases its booking (addresses are locked once allocated)."""
    assert found.request is not None
    page = shipment_modal(private_metadata, shipper_reference=found.reference, draft=found.request)
    page["callback_id"] = CallbackId.FIX_ADDRESS
    page["title"] = plain("Fix the address")
    page["submit"] = plain("Save the address")
    kept = [
        b for b in page["blocks"] if b.get("block_id") in ADDRESS_BLOCKS or b["type"] == "header"
    ]
    page["blocks"] = [b for b in kept if not _empty_header(b, kept)]
    if found.state in _BOOKED:
        service = found.service_name or "current"
        note = (
            f"{found.reference} is booked with {service}. Sorted PRO locks the address once "
            "it is booked, so saving *releases that booking* (its label becomes void), "
            "updates the address and lists fresh quotes in its thread."
        )
    else:
        note = (
            f"{found.reference} is not booked yet: saving updates the address at Sorted PRO "
            "and lists fresh quotes in its thread."
        )
    return with_notice(page, note, emoji="🏠")


def _empty_header(block: Block, blocks: list[Block]) -> bool:
    """A header with no input after it before the next header (e.g. "Parcels")."""
    if block["type"] != "header":
        return False
    after = blocks[blocks.index(block) + 1 :]
    return not after or after[0]["type"] == "header"
