"""The delivery desk: find any consignment at Sorted PRO, take it over, ship it again.

`/ship status` and `/ship find` look in the store first; what the store doesn't know is
looked up at Sorted PRO (Search Consignments, then Get Consignment for the card), from a job
so the ack never waits on the carrier. A button on the card first *takes it over*: a store
row marked as found at Sorted PRO, its own channel message and thread, an audit line. After
that it is one of ours: list, status, label, cancel, audit and manifest work on it.

"Ship with another service" works on any booked consignment of ours (found or made here):
the quotes go into its thread beside the current service (REQUOTING -> REQUOTED), and a
click releases the booking and books the new one (RELEASING -> CLAIMED ...), the steps in
`bot/desk/advance.py`.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from blocks import Message
from blocks import consignment as thread_render
from blocks import operations as render
from blocks import rescue as cards
from blocks.form_fields import View
from blocks.form_prefill import ship_again_modal
from blocks.payloads import FixAddressMetadata, FormMetadata
from bot.carrier.errors import CarrierError
from bot.carrier_states import ConsignmentState
from bot.core import Asker, Refused, Shipbot
from bot.desk import lookup, messages
from bot.desk.access import asker_of, new_shipper_reference, permalink
from bot.desk.advance import advance_later
from bot.desk.show import put_channel_message, show_later
from bot.intake.address_places import UK_POSTCODE_IN
from bot.intake.arguments import log_operation, shown
from bot.models import (
    FIXABLE,
    RESHIPPABLE,
    RESHIPPING,
    Allocation,
    ConsignmentDetail,
    ConsignmentRecord,
    FoundConsignment,
    Recipient,
    Step,
)
from bot.permissions import Action
from bot.slack.slackio import SlackProblem
from bot.store.job_payloads import ActJob, FixJob, LookupJob

log = logging.getLogger("shipbot.rescue")

SEARCH_LIMIT = 20

# What each card action does once the consignment is ours.
QUOTES = "quotes"
RESHIP = "reship"
REFRESH = "refresh"

_EC = re.compile(r"EC-[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}", re.IGNORECASE)
_BOOKED = frozenset(
    {
        ConsignmentState.ALLOCATED,
        ConsignmentState.READY_TO_SHIP,
        ConsignmentState.MANIFESTED,
        ConsignmentState.MANIFEST_FAILED,
    }
)


# == looking up at Sorted PRO =================================================================
def search_filters(text: str) -> list[dict[str, str]]:
    """The Search Consignments queries to try for what an agent typed, most precise first:
    an EC- reference, a postcode, else an order number (the customer's reference) and
    then a tracking number."""
    cleaned = text.strip()
    if _EC.fullmatch(cleaned):
        return [{"reference": cleaned.upper()}]
    if UK_POSTCODE_IN.fullmatch(cleaned.upper()):
        return [{"postCode": cleaned.upper()}]
    return [{"referenceProvidedByCustomer": cleaned}, {"trackingReference": cleaned}]


def live_matches(text: str, found: tuple[FoundConsignment, ...]) -> list[FoundConsignment]:
    """A customer's reference is not unique (an order re-made after a cancel shares it):
    match it exactly, and leave cancelled ones out when a live one exists."""
    wanted = text.strip().lower()
    exact = [f for f in found if (f.order_number or "").lower() == wanted]
    rows = exact or list(found)
    live = [f for f in rows if f.state is not ConsignmentState.CANCELLED]
    return live or rows


def search(bot: Shipbot, text: str) -> list[FoundConsignment]:
    """Raises CarrierError; [] when Sorted PRO knows nothing of it either."""
    for filters in search_filters(text):
        found = bot.carrier.search_consignments(filters, limit=SEARCH_LIMIT)
        if found:
            return (
                live_matches(text, found)
                if "referenceProvidedByCustomer" in filters
                else list(found)
            )
    return []


def status(bot: Shipbot, argument: str, asker: Asker) -> Message:
    """`/ship status`: the store first; what it has never heard of, at Sorted PRO."""
    if bot.store.find_by_reference(argument) is not None:
        return lookup.status(bot, argument, asker)  # ours (or another channel's: not found)
    return look_up_later(bot, argument, asker)


def find(bot: Shipbot, text: str, asker: Asker) -> Message:
    """`/ship find`: the store's matches; none, then Sorted PRO's."""
    answer = lookup.find(bot, text, asker)
    everywhere = bot.permissions.sees_everything(asker.user)
    _, total = bot.store.search_consignments(
        text, limit=1, channel_id=None if everywhere else asker.channel, user=asker.user
    )
    if total:
        return answer
    look_up_later(bot, text, asker)
    return render.notice(messages.FIND_THEN_SORTED.format(text=shown(text)))


def look_up_later(bot: Shipbot, text: str, asker: Asker) -> Message:
    """`/ship status` / `/ship find` for something the store doesn't know."""
    bot.jobs.submit(
        LookupJob(text=text, **asker.asked()),
    )
    return render.notice(messages.FOUND_LOOKING.format(ref=shown(text)))


def _job_lookup(bot: Shipbot, payload: LookupJob) -> None:
    started = time.monotonic()
    asker = asker_of(payload)
    text = payload.text
    try:
        found = search(bot, text)
        if len(found) == 1:
            answer = cards.found_card(bot.carrier.get_consignment_detail(found[0].reference))
        elif found:
            answer = cards.found_list(shown(text), found)
        else:
            answer = render.notice(messages.NOT_FOUND_ANYWHERE.format(ref=shown(text)))
    except CarrierError as exc:
        answer = render.carrier_notice(messages.carrier_problem("search", exc), exc.correlation_id)
        log_operation("found-lookup", None, f"carrier-failed:{type(exc).__name__}", started)
        bot.send(asker, answer)
        return
    bot.send(asker, answer)
    log_operation("found-lookup", None, f"found:{len(found)}", started)


# == taking over ==============================================================================
@dataclass(frozen=True)
class TakeOver:
    record: ConsignmentRecord
    created: bool


def resting_step(state: ConsignmentState) -> Step:
    """Where a found consignment sits in our flow, by what Sorted PRO says it is."""
    if state in (ConsignmentState.UNALLOCATED, ConsignmentState.ALLOCATION_FAILED):
        return Step.CREATED  # in flight: its quotes are fetched at once
    if state in (
        ConsignmentState.ALLOCATED,
        ConsignmentState.READY_TO_SHIP,
        ConsignmentState.MANIFEST_FAILED,
    ):
        return Step.UPLOADED
    if state is ConsignmentState.CANCELLED:
        return Step.CANCELLED
    return Step.MANIFESTED  # manifested, or with the carrier already


def take_over(
    bot: Shipbot, detail: ConsignmentDetail, *, channel: str, user: str, step: Step | None = None
) -> TakeOver:
    """Adopt a consignment made elsewhere: one store row per EC- reference (two agents at
    once get the same one; only the first posts), a channel message and a thread like our
    own, an audit line. Raises Refused when PRO's record lacks what a thread needs.

    Callable by other features (a watcher of carrier events, returns)."""
    bot.permit(Action.SHIP, user)
    if detail.request is None:
        raise Refused(messages.FOUND_INCOMPLETE.format(ref=detail.reference), "incomplete record")
    allocation = None
    if detail.state in _BOOKED and detail.service_name:
        allocation = Allocation(
            consignment_reference=detail.reference,
            carrier_code=detail.carrier_code or "",
            carrier_name=detail.carrier_name or "",
            service_code=detail.service_code,
            service_name=detail.service_name,
            tracking_numbers=detail.tracking_numbers,
        )
    cid, created = bot.store.adopt(
        detail.request,
        carrier_reference=detail.reference,
        step=step or resting_step(detail.state),
        channel_id=channel,
        user=user,
        source=detail.source or "",
        made_at=detail.created_at,
        allocation=allocation,
        price=detail.price,
    )
    record = bot.store.require(cid)
    if not created:
        return TakeOver(record, False)
    bot.store.audit(
        user,
        "take over",
        f"ok ({detail.raw_state or detail.state.value})",
        consignment_id=cid,
        detail=f"{detail.reference} · {detail.source or '-'} · order {detail.order_number or '-'}",
    )
    try:
        put_channel_message(bot, record)
        record = bot.store.require(cid)
        assert record.message_ts
        bot.slack.post(
            record.channel_id,
            thread_render.taken_over(record, detail.raw_state, detail.failure),
            thread_ts=record.message_ts,
        )
    except SlackProblem as exc:
        log.warning("taken-over consignment %s not posted: %s", cid, exc.error)
        bot.store.audit(user, "take over", f"slack failed: {exc.error}", consignment_id=cid)
    return TakeOver(bot.store.require(cid), True)


def ours_or_taken_over(bot: Shipbot, reference: str, asker: Asker) -> ConsignmentRecord:
    """The store's row for a card's consignment, else Sorted PRO's record taken over now
    (a form opened from the card needs a row to name). Raises Refused."""
    c = bot.store.find_by_reference(reference)
    if c is not None:
        return c
    try:
        detail = bot.carrier.get_consignment_detail(reference)
    except CarrierError as exc:
        raise Refused(messages.carrier_problem("lookup", exc), "carrier failed") from exc
    bot.store.audit(asker.user, "found lookup", f"ok ({detail.raw_state})", detail=reference)
    return take_over(bot, detail, channel=asker.channel, user=asker.user).record


# == the card's buttons =======================================================================
def act_later(bot: Shipbot, reference: str, action: str, asker: Asker) -> None:
    """A card button: the role is checked now, the carrier read and take-over in a job."""
    if action != REFRESH:
        bot.permit(Action.SHIP, asker.user)
    bot.jobs.submit(
        ActJob(reference=reference, action=action, **asker.asked()),
        dedupe_key=f"found:{reference}:{action}:{asker.user}",
    )


def _job_act(bot: Shipbot, payload: ActJob) -> None:
    asker = asker_of(payload)
    reference = payload.reference
    action = payload.action
    existing = bot.store.find_by_reference(reference)
    if existing is not None and action != REFRESH:
        _pointed(bot, existing, asker, action)
        return
    try:
        detail = bot.carrier.get_consignment_detail(reference)
    except CarrierError as exc:
        bot.store.audit(
            asker.user, "found lookup", f"failed: {type(exc).__name__}", detail=reference
        )
        bot.send(
            asker,
            render.carrier_notice(messages.carrier_problem("lookup", exc), exc.correlation_id),
        )
        return
    bot.store.audit(asker.user, "found lookup", f"ok ({detail.raw_state})", detail=reference)
    if action == REFRESH:
        bot.send(asker, cards.found_card(detail))
        return
    if action == QUOTES and detail.state not in (
        ConsignmentState.UNALLOCATED,
        ConsignmentState.ALLOCATION_FAILED,
    ):
        bot.send(asker, cards.found_card(detail))  # it moved on since the card was shown
        return
    if action == RESHIP and detail.state not in _BOOKED:
        bot.send(asker, cards.found_card(detail))
        return
    try:
        taken = take_over(bot, detail, channel=asker.channel, user=asker.user)
    except Refused as exc:
        bot.send(asker, exc.text)
        return
    if not taken.created:
        _pointed(bot, taken.record, asker, action)
        return
    if action == QUOTES:
        advance_later(bot, taken.record.id)
    elif action == RESHIP:
        start_reship(bot, taken.record.id, asker.user)


def _pointed(bot: Shipbot, c: ConsignmentRecord, asker: Asker, action: str) -> None:
    """Someone took it over first: point at the thread (and carry on there if ours)."""
    if action == RESHIP and c.step in RESHIPPABLE and c.created_by == asker.user:
        start_reship(bot, c.id, asker.user)
        return
    link = permalink(bot, c)
    where = f"<{link}|its thread>" if link else f"its thread in <#{c.channel_id}>"
    bot.send(asker, messages.FOUND_TAKEN.format(user=c.created_by, ref=render.ref(c), where=where))


# == ship with another service ================================================================
def start_reship(bot: Shipbot, cid: int, user: str) -> None:
    """Quotes for the other services into the thread; nothing is released until a click."""
    bot.permit(Action.SHIP, user, cid)
    c = bot.store.get(cid)
    if c is None:
        raise Refused(messages.UNKNOWN_CONSIGNMENT, "unknown consignment")
    if c.step in RESHIPPING:
        raise Refused(messages.RESHIP_UNDER_WAY.format(ref=render.ref(c)), "reship under way")
    if not bot.store.transition(cid, RESHIPPABLE, Step.REQUOTING, claimed_by=user):
        raise Refused(messages.RESHIP_NOT_NOW.format(ref=render.ref(c)), "not reshippable")
    bot.store.audit(user, "reship", "quotes asked", consignment_id=cid)
    advance_later(bot, cid)


def reship_clicked(bot: Shipbot, cid: int, asker: Asker) -> None:
    start_reship(bot, cid, asker.user)
    show_channel_soon(bot, cid)


def show_channel_soon(bot: Shipbot, cid: int) -> None:
    show_later(bot, cid)


# == Ship a replacement =======================================================================
def replacement_form(bot: Shipbot, reference: str, asker: Asker) -> View:
    """The form filled in from the carrier's record (recipient, address, parcels), the order
    number kept; the new consignment's thread says "🔁 Replaces EC-…". It takes the found
    consignment over first, so the replacement can name it."""
    bot.permit(Action.SHIP, asker.user)
    c = ours_or_taken_over(bot, reference, asker)
    metadata = FormMetadata(
        channel=asker.channel or c.channel_id, response_url=asker.response_url, repeats=c.id
    )
    view = ship_again_modal(
        metadata.encode(),
        request=c.request,
        shipper_reference=new_shipper_reference(bot),
        presets=bot.settings.shipbot_parcel_presets,
        keep_order_number=True,
    )
    bot.store.audit(asker.user, "replacement", "form opened", consignment_id=c.id)
    return view


# == Fix the address =========================================================================
def fix_address_form(bot: Shipbot, reference: str, asker: Asker) -> View:
    """The modal with the current destination, read from Sorted PRO just now."""
    bot.permit(Action.SHIP, asker.user)
    try:
        detail = bot.carrier.get_consignment_detail(reference)
    except CarrierError as exc:
        raise Refused(messages.carrier_problem("lookup", exc), "carrier failed") from exc
    bot.store.audit(asker.user, "found lookup", f"ok ({detail.raw_state})", detail=reference)
    if detail.request is None:
        raise Refused(messages.FOUND_INCOMPLETE.format(ref=reference), "incomplete record")
    if detail.state not in cards.FIXABLE_STATES:
        raise Refused(
            messages.FIX_TOO_LATE.format(ref=reference, state=cards.state_words(detail)),
            "not fixable",
        )
    metadata = FixAddressMetadata(reference, asker.channel, asker.response_url)
    return cards.fix_address_modal(detail, metadata.encode())


def fix_address_submitted(
    bot: Shipbot, metadata: FixAddressMetadata, recipient: Recipient, user: str
) -> None:
    """Saved: taken over (if need be) straight into UPDATING, which does the carrier work."""
    bot.permit(Action.SHIP, user)
    bot.jobs.submit(
        FixJob(
            reference=metadata.reference,
            user=user,
            channel=metadata.channel,
            response_url=metadata.response_url,
            recipient=recipient,
        ),
    )


def _job_fix(bot: Shipbot, payload: FixJob) -> None:
    asker = asker_of(payload)
    reference = payload.reference
    typed = payload.recipient
    existing = bot.store.find_by_reference(reference)
    if existing is not None:
        # Fields the form doesn't show (line 3, region) stay as they were.
        recipient = existing.request.recipient.model_copy(update=_shown(typed))
        request = existing.request.model_copy(update={"recipient": recipient})
        if not bot.store.start_fix(existing.id, request, FIXABLE):
            bot.send(asker, messages.FIX_BUSY.format(ref=render.ref(existing)))
            return
        bot.store.audit(asker.user, "fix address", "saved", consignment_id=existing.id)
        advance_later(bot, existing.id)
        return
    try:
        detail = bot.carrier.get_consignment_detail(reference)
    except CarrierError as exc:
        bot.send(
            asker,
            render.carrier_notice(messages.carrier_problem("lookup", exc), exc.correlation_id),
        )
        return
    if detail.request is None:
        bot.send(asker, messages.FOUND_INCOMPLETE.format(ref=reference))
        return
    recipient = detail.request.recipient.model_copy(update=_shown(typed))
    fixed = detail.model_copy(
        update={"request": detail.request.model_copy(update={"recipient": recipient})}
    )
    taken = take_over(bot, fixed, channel=asker.channel, user=asker.user, step=Step.UPDATING)
    if not taken.created:
        _pointed(bot, taken.record, asker, "fix")
        return
    bot.store.audit(asker.user, "fix address", "saved", consignment_id=taken.record.id)
    advance_later(bot, taken.record.id)


def _shown(recipient: Recipient) -> dict[str, Any]:
    """The fields the Fix the address form shows."""
    names = ("name", "email", "phone", "company", "line1", "line2", "town", "postcode", "country")
    return {name: getattr(recipient, name) for name in names}


def register(bot: Shipbot) -> None:
    bot.jobs.register(FixJob, lambda payload: _job_fix(bot, payload))
    bot.jobs.register(LookupJob, lambda payload: _job_lookup(bot, payload))
    bot.jobs.register(ActJob, lambda payload: _job_act(bot, payload))
