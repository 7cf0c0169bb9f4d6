"""What agents read back from `/ship status|find|list|label|cancel|audit` and the App Home.

Pure functions from our models to Block Kit, within Slack's limits (50 blocks a message,
100 a Home tab, 3000 characters a section). Nothing here calls Slack or the carrier.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from blocks import Block, Message, actions, button, context, escape, plain, section
from blocks.consignment import (
    headline,
    price_text,
    service_label,
    short_name,
    slack_time,
    status_line,
)
from blocks.ids import ActionId
from blocks.payloads import ListPageValue
from blocks.returns import customer_sentence as return_sentence
from blocks.returns import marker as return_marker
from blocks.thread_buttons import (
    cancel_button,
    reprint_button,
    return_button,
    ship_again_button,
    status_button,
)
from blocks.tracking import customer_update, tracking_url, window
from bot.carrier_states import ConsignmentState, TrackingEvent
from bot.models import (
    CANCELLED,
    CLOSED,
    HAS_LABEL,
    MANIFESTABLE,
    NEEDS_AGENT,
    AuditEntry,
    ConsignmentRecord,
    ConsignmentStatus,
    ManifestRecord,
    Step,
)

SECTION_MAX = 2900  # under Slack's 3000, leaving room for a "+N more" tail
MESSAGE_BLOCKS_MAX = 50
HOME_BLOCKS_MAX = 100
DAY_TIME = "{date_short_pretty} {time}"
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def notice(text: str) -> Message:
    return Message(text=text, blocks=[section(text)])


def carrier_notice(problem: str, correlation_id: str | None) -> Message:
    """A carrier failure told privately: the sentence, and the correlation id for support."""
    text = f"⚠️ {problem}"
    blocks = [section(text)]
    if correlation_id:
        blocks.append(context(f"Carrier correlation id for support: `{correlation_id}`"))
    return Message(text=text, blocks=blocks)


def who(actor: str) -> str:
    """A Slack user id as a mention; the bot and anything else as plain text."""
    if _USER_ID.fullmatch(actor):
        return f"<@{actor}>"
    return escape(actor)


def when(moment: datetime) -> str:
    return slack_time(moment, DAY_TIME)


def ref(c: ConsignmentRecord) -> str:
    return escape(c.reference)


# -- one line per consignment: find, list, App Home ------------------------------------

_STEP_LABELS: dict[Step, str] = {
    Step.NEW: "⏳ starting",
    Step.CREATING: "⏳ creating",
    Step.CREATED: "⏳ getting quotes",
    Step.QUOTING: "⏳ getting quotes",
    Step.QUOTED: "⚠️ choose a quote",
    Step.EXPIRED: "⚠️ quotes expired",
    Step.CLAIMED: "⏳ allocating",
    Step.ALLOCATING: "⏳ allocating",
    Step.ALLOCATED: "⏳ getting the label",
    Step.LABEL_SAVED: "⏳ uploading the label",
    Step.UPLOADED: "✅ allocated",
    Step.MANIFESTING: "⏳ manifesting",
    Step.MANIFESTED: "✅ manifested",
    Step.CANCELLING: "⏳ cancelling",
    Step.CANCELLED: "❌ cancelled",
    Step.FAILED: "❌ stopped",
}


def step_label(c: ConsignmentRecord) -> str:
    if c.is_return and c.step is Step.UPLOADED:
        return "✅ return label made"
    return _STEP_LABELS.get(c.step) or "⏳ " + c.step.value.replace("_", " ")


def service_of(c: ConsignmentRecord) -> str:
    if c.allocation:
        return service_label(c.allocation.carrier_name, c.allocation.service_name)
    quote = c.chosen_quote
    return service_label(quote.carrier_name, quote.service_name) if quote else ""


def row_text(c: ConsignmentRecord, *, channel: bool = False) -> str:
    r = c.request
    bits = [
        f"*{ref(c)}*",
        *([return_marker(c)] if c.is_return else []),
        step_label(c),
        escape(short_name(r.recipient.name)),
        f"{escape(r.recipient.postcode)}, {r.recipient.country}",
    ]
    if service := service_of(c):
        bits.append(escape(service))
    if r.order_number:
        bits.append(f"order {escape(r.order_number)}")
    if channel:
        bits.append(f"<#{c.channel_id}>")
    bits.append(when(c.created_at))
    return " · ".join(bits)


def _rows(records: Sequence[ConsignmentRecord], *, channel: bool = False) -> list[Block]:
    return [
        section(
            row_text(c, channel=channel),
            block_id=f"row-{c.id}",
            accessory=status_button(c),
        )
        for c in records
    ]


def find_results(
    shown_text: str, records: Sequence[ConsignmentRecord], total: int, *, limit: int
) -> Message:
    noun = "consignment matches" if total == 1 else "consignments match"
    title = f"🔎 {total} {noun} “{shown_text}”"
    blocks: list[Block] = [section(title), *_rows(records, channel=True)]
    if total > len(records):
        blocks.append(
            context(
                f"Showing the newest {len(records)} of {total}. Add more of the order number, "
                "name or postcode to narrow it."
            )
        )
    return Message(text=title, blocks=blocks[: MESSAGE_BLOCKS_MAX - 1])


LIST_TITLES = {
    "open": "Open consignments",
    "today": "Today's consignments",
    "all": "All consignments",
}


def list_page(
    mode: str,
    channel_id: str,
    records: Sequence[ConsignmentRecord],
    total: int,
    *,
    offset: int,
    page_size: int,
) -> Message:
    """One page (at most `page_size` rows, each one block) and a Next page button."""
    title = f"📦 {LIST_TITLES[mode]} in <#{channel_id}> · {total}"
    blocks: list[Block] = [section(title), *_rows(records)]
    first, last = offset + 1, offset + len(records)
    notes = [f"Showing {first}–{last} of {total}, newest first"]
    if mode == "open":
        notes.append("open means not yet manifested or cancelled")
    blocks.append(context(" · ".join(notes)))
    if last < total:
        blocks.append(
            actions(
                button("Next page", ActionId.LIST_PAGE, ListPageValue(mode, last).encode()),
                block_id=f"page-{mode}-{last}",
            )
        )
    return Message(text=f"{LIST_TITLES[mode]}: {total}", blocks=blocks[:MESSAGE_BLOCKS_MAX])


# -- /ship status ------------------------------------------------------------------------

_CARRIER_STATES: dict[ConsignmentState, str] = {
    ConsignmentState.UNALLOCATED: "⚠️ Not booked yet: no quote chosen",
    ConsignmentState.ALLOCATING: "⏳ Being booked",
    ConsignmentState.ALLOCATION_FAILED: "❌ Booking failed",
    ConsignmentState.ALLOCATED: "✅ Booked · label ready, waiting for the manifest",
    ConsignmentState.READY_TO_SHIP: "✅ Ready to ship · waiting for the manifest",
    ConsignmentState.MANIFESTING: "⏳ Being manifested",
    ConsignmentState.MANIFESTED: "✅ Manifested · waiting for the carrier to collect it",
    ConsignmentState.MANIFEST_FAILED: "⚠️ Manifest failed · run `/ship manifest` again",
    ConsignmentState.DISPATCHED: "🚚 Dispatched",
    ConsignmentState.COLLECTED: "🚚 Collected by the carrier",
    ConsignmentState.IN_TRANSIT: "🚚 In transit",
    ConsignmentState.OUT_FOR_DELIVERY: "🚚 Out for delivery",
    ConsignmentState.DELIVERED: "✅ Delivered",
    ConsignmentState.DELIVERY_FAILED: "⚠️ Delivery failed",
    ConsignmentState.CANCELLING: "⏳ Being cancelled",
    ConsignmentState.CANCELLED: "❌ Cancelled",
}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def carrier_state_text(status: ConsignmentStatus) -> str:
    known = _CARRIER_STATES.get(status.state)
    if known:
        return known
    words = _CAMEL.sub(" ", status.raw_state or "unknown").capitalize()
    return f"ℹ️ {escape(words)}"


@dataclass(frozen=True)
class StatusView:
    """Everything `/ship status` shows, gathered by `bot/operations.py`."""

    record: ConsignmentRecord
    history: Sequence[AuditEntry] = ()
    manifest: ManifestRecord | None = None
    checked: ConsignmentStatus | None = None  # from the carrier, just now
    checked_at: datetime | None = None
    events: Sequence[TrackingEvent] = ()
    carrier_note: str | None = None  # why the carrier couldn't be asked
    correlation_id: str | None = None
    permalink: str | None = None


def status_card(view: StatusView, tz: ZoneInfo) -> Message:
    c = view.record
    checked = view.checked
    blocks: list[Block] = [section(headline(c))]
    if checked is not None and view.checked_at is not None:
        state = f"*{carrier_state_text(checked)}* · Sorted PRO, {when(view.checked_at)}"
    else:
        state = f"*{status_line(c)}* · shipbot's record"
    blocks.append(section(state))
    if view.carrier_note:
        blocks.append(section(f"⚠️ {view.carrier_note}"))

    numbers = tuple(checked.tracking_numbers if checked and checked.tracking_numbers else ())
    numbers = numbers or (c.allocation.tracking_numbers if c.allocation else ())
    carrier_code = (checked.carrier_code if checked else None) or (
        c.allocation.carrier_code if c.allocation else None
    )
    carrier_name = (checked.carrier_name if checked else None) or (
        c.allocation.carrier_name if c.allocation else ""
    )
    facts = _facts(c, checked, numbers, carrier_code)
    if facts:
        blocks.append(section("\n".join(facts)))

    quote = c.chosen_quote
    expected = window(
        (checked.earliest_delivery if checked else None)
        or (quote.earliest_delivery if quote else None),
        (checked.latest_delivery if checked else None)
        or (quote.latest_delivery if quote else None),
    )
    cancelled = c.step in CANCELLED
    sentence = customer_update(
        carrier=carrier_name,
        state=ConsignmentState.CANCELLED if c.step is Step.CANCELLED else _state(checked),
        booked=c.allocation is not None and not cancelled,
        events=view.events,
        numbers=numbers,
        carrier_code=carrier_code,
        expected=expected,
        tz=tz,
    )
    if c.is_return and c.allocation is not None and not cancelled:
        sentence = return_sentence(c)  # how to send it back, not where it is
    blocks.append(section(f"*For the customer* (copy and paste):\n>{escape(sentence)}"))
    if view.events:
        lines = [
            f"• {when(e.at)} · {escape(e.description)}"
            + (f" · {escape(e.location)}" if e.location else "")
            for e in reversed(view.events[-3:])
        ]
        blocks.append(section("*Latest scans*\n" + "\n".join(lines)))
    blocks.append(context(history_line(c, view.history, view.manifest)))
    links = []
    if view.permalink:
        links.append(f"<{view.permalink}|Open the thread> in <#{c.channel_id}>")
    if view.correlation_id:
        links.append(f"Carrier correlation id for support: `{escape(view.correlation_id)}`")
    if links:
        blocks.append(context(" · ".join(links)))
    buttons = []
    if c.allocation and c.step in HAS_LABEL:
        buttons.append(reprint_button(c))
    if not c.is_return:
        buttons.append(ship_again_button(c))  # any consignment, even a cancelled one
        if c.allocation and not cancelled:
            buttons.append(return_button(c))
    if c.step not in CLOSED | CANCELLED:
        buttons.append(cancel_button(c))
    if buttons:
        blocks.append(actions(*buttons))
    return Message(text=f"{ref(c)}: {state}", blocks=blocks)


def _state(checked: ConsignmentStatus | None) -> ConsignmentState | None:
    return checked.state if checked else None


def _facts(
    c: ConsignmentRecord,
    checked: ConsignmentStatus | None,
    numbers: Sequence[str],
    carrier_code: str | None,
) -> list[str]:
    facts = []
    service = service_of(c)
    if not service and checked and checked.service_name:
        service = service_label(checked.carrier_name or "", checked.service_name)
    quote = c.chosen_quote
    if service:
        price = f" · {price_text(quote.price)} (incl. VAT)" if quote else ""
        facts.append(f"*Service:* {escape(service)}{price}")
    if numbers:
        shown = []
        for n in numbers[:10]:
            url = tracking_url(carrier_code, n)
            shown.append(f"<{url}|{escape(n)}>" if url else escape(n))
        facts.append("*Tracking:* " + ", ".join(shown))
    r = c.request
    refs = [f"ref {escape(r.shipper_reference)}"]
    if r.order_number:
        refs.insert(0, f"order {escape(r.order_number)}")
    facts.append("*Order:* " + " · ".join(refs))
    return facts


def history_line(
    c: ConsignmentRecord, entries: Sequence[AuditEntry], manifest: ManifestRecord | None
) -> str:
    """Who did what, from the audit: created, allocated, manifested, reprinted, cancelled."""
    bits = [f"Created by {who(c.created_by)} {when(c.created_at)}"]
    if c.allocation and c.allocated_at:
        by = f" by {who(c.claimed_by)}" if c.claimed_by else ""
        bits.append(f"allocated{by} {when(c.allocated_at)}")
    if manifest is not None:
        bits.append(f"manifested by {who(manifest.requested_by)} {when(manifest.at)}")
    elif c.manifested_at:
        bits.append(f"manifested {when(c.manifested_at)}")
    reprints = [e for e in entries if e.action == "reprint" and e.outcome == "ok"]
    if reprints:
        bits.append(f"label reprinted by {who(reprints[-1].actor)} {when(reprints[-1].at)}")
    made = [e for e in entries if e.action == "return label" and e.outcome == "made"]
    if made:
        returns = ", ".join(escape(e.detail or "") for e in made[-3:])
        bits.append(f"↩️ return label {returns} made by {who(made[-1].actor)}")
    cancels = [e for e in entries if e.action == "cancel" and e.outcome.startswith("ok")]
    if cancels:
        bits.append(f"cancelled by {who(cancels[-1].actor)} {when(cancels[-1].at)}")
    return " · ".join(bits)


# -- /ship audit -------------------------------------------------------------------------

_ERROR_WORDS = {
    "CarrierUnavailable": "Sorted PRO not answering",
    "OutcomeUnknown": "no answer in time",
    "RateLimited": "Sorted PRO busy",
    "InvalidRequest": "refused by Sorted PRO",
    "NotFound": "not found at Sorted PRO",
    "Unauthorized": "API key refused",
    "UnexpectedResponse": "unreadable answer",
    "QuoteExpired": "quote expired",
    "CarrierError": "carrier error",
}
# Details worth showing: references, tracking numbers and file names. Others (quote and
# request GUIDs, carrier error codes) are ids no agent can use.
_SHOWN_DETAILS = frozenset(
    {"submit", "create", "allocate", "documents", "upload", "reprint", "cancel", "return label"}
)


def outcome_words(outcome: str) -> str:
    head, sep, kind = outcome.partition(": ")
    if sep and kind in _ERROR_WORDS:
        return f"{head} ({_ERROR_WORDS[kind]})"
    return outcome


def audit_message(
    c: ConsignmentRecord,
    entries: Sequence[AuditEntry],
    manifest: ManifestRecord | None,
    *,
    limit: int = 60,
) -> Message:
    lines: list[tuple[datetime, str]] = []
    for e in entries:
        what = f"{escape(e.action)} · {escape(outcome_words(e.outcome))}"
        line = f"• {when(e.at)} · {who(e.actor)} · {what}"
        if e.detail and e.action in _SHOWN_DETAILS:
            line += f" · {escape(e.detail[:120])}"
        if e.correlation_id:
            line += f" · support id `{escape(e.correlation_id)}`"
        lines.append((e.at, line))
    if manifest is not None:
        lines.append(
            (
                manifest.at,
                f"• {when(manifest.at)} · {who(manifest.requested_by)} · manifest · "
                f"queued with {len(manifest.queued)} consignment(s)",
            )
        )
    lines.sort(key=lambda item: item[0])
    hidden = max(0, len(lines) - limit)
    shown = [text for _, text in lines[hidden:]]
    title = f"🧾 *Audit of {ref(c)}* · {len(lines)} entr{'y' if len(lines) == 1 else 'ies'}"
    if c.is_return:
        title += f" · {return_marker(c)}"
    blocks: list[Block] = [section(title)]
    if hidden:
        blocks.append(context(f"The {hidden} oldest entries are not shown."))
    blocks += [section(chunk) for chunk in _chunks(shown)]
    blocks.append(context("Times show in your own time zone."))
    return Message(text=f"Audit of {ref(c)}", blocks=blocks[:MESSAGE_BLOCKS_MAX])


def _chunks(lines: Sequence[str], limit: int = SECTION_MAX) -> list[str]:
    """Lines packed into as few sections as fit; a line never splits."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


# -- /ship cancel ------------------------------------------------------------------------


def cancel_confirm(c: ConsignmentRecord) -> Message:
    """The ephemeral answer to `/ship cancel`: the button opens Slack's confirm dialog."""
    what = escape(service_of(c)) or "no service chosen yet"
    bought = (
        "Its label becomes void: don't send the parcel."
        if c.allocation
        else "Nothing was bought yet, so nothing is lost."
    )
    text = f"Cancel *{ref(c)}* ({what} · {escape(short_name(c.request.recipient.name))})? {bought}"
    return Message(
        text=f"Cancel {ref(c)}?",
        blocks=[
            section(text),
            actions(cancel_button(c, f"Cancel {c.reference}"), status_button(c, "Status first")),
        ],
    )


def cancelled_note(c: ConsignmentRecord, user: str, at: datetime) -> Message:
    """Posted in the thread: the record of who cancelled it, and when."""
    void = " Any label printed for it is void: don't send the parcel." if c.allocation else ""
    what = f"Return {ref(c)} cancelled" if c.is_return else "Cancelled"
    text = f"❌ {what} with Sorted PRO by {who(user)} at {slack_time(at)}.{void}"
    return Message(text=text, blocks=[section(text)])


def cancelled_replacement(c: ConsignmentRecord) -> Message:
    """Replaces the quotes/allocation message, so its buttons can't be pressed again."""
    if c.allocation:
        tracking = ", ".join(c.allocation.tracking_numbers) or "none"
        text = f"❌ ~{escape(service_of(c))} · tracking {tracking}~ · cancelled, label void"
    else:
        text = "❌ ~Quotes~ · withdrawn: the consignment was cancelled"
    return Message(text=text, blocks=[section(text)])


# -- App Home ----------------------------------------------------------------------------

_WAITING_MANIFEST = MANIFESTABLE
_MANIFESTED = frozenset({Step.MANIFESTED})
_CANCELLED = frozenset({Step.CANCELLED})
HOME_GROUPS: tuple[tuple[str, frozenset[Step]], ...] = (
    ("⚠️ Needs an agent", NEEDS_AGENT),
    # Everything else: steps the flow moves through by itself, including any added later.
    (
        "⏳ In progress",
        frozenset(Step) - NEEDS_AGENT - _WAITING_MANIFEST - _MANIFESTED - _CANCELLED,
    ),
    ("✅ Allocated, waiting for the manifest", _WAITING_MANIFEST),
    # Returns are not manifested by us (docs/returns.md): made is as far as they go here.
    ("↩️ Return labels made", _WAITING_MANIFEST),
    ("🚚 Manifested", _MANIFESTED),
    ("❌ Cancelled", _CANCELLED),
)
# Which groups hold returns only (True) or none (False); None: both.
HOME_GROUP_RETURNS: dict[str, bool] = {
    "✅ Allocated, waiting for the manifest": False,
    "↩️ Return labels made": True,
}
HOME_LINES_PER_GROUP = 15


HomeGroup = tuple[str, Sequence[ConsignmentRecord], int]  # title, the newest few, how many


def home_view(
    groups: Sequence[HomeGroup],
    last_manifest: ManifestRecord | None,
    *,
    midnight: datetime,
    now: datetime,
    tz_name: str,
    attention: tuple[Sequence[str], int] = ((), 0),
) -> dict[str, Any]:
    """Today's consignments by state, and the last manifest: a few blocks, never 100.

    `attention` (open delivery exceptions and late parcels, newest first, any day) comes first.
    """
    total = sum(count for _, _, count in groups)
    blocks: list[Block] = [
        {"type": "header", "text": plain("📦 shipbot · today")},
        context(
            f"{total} consignment{'s' if total != 1 else ''} since {when(midnight)} "
            f"({escape(tz_name)}) · updated {when(now)}"
        ),
    ]
    lines, waiting = attention
    if waiting:
        shown = [f"• {line}" for line in lines]
        if waiting > len(lines):
            shown.append(f"…and {waiting - len(lines)} more.")
        for i, chunk in enumerate(_chunks([f"*🚨 Needs attention · {waiting}*", *shown])):
            blocks.append(section(chunk, block_id=f"home-attention-{i}"))
    if not total:
        blocks.append(section("Nothing shipped yet today. Start with `/ship` in a channel."))
    for number, (title, records, count) in enumerate(groups):
        if not count:
            continue
        lines = [f"• {row_text(c, channel=True)}" for c in records[:HOME_LINES_PER_GROUP]]
        more = count - len(lines)
        if more > 0:
            lines.append(f"…and {more} more: `/ship list today` in their channel.")
        for i, chunk in enumerate(_chunks([f"*{title} · {count}*", *lines])):
            blocks.append(section(chunk, block_id=f"home-{number}-{i}"))
    blocks.append({"type": "divider"})
    blocks.append(section(manifest_line(last_manifest)))
    blocks.append(
        context(escape("`/ship status <ref>` · `/ship find <text>` · `/ship list` · `/ship help`"))
    )
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS_MAX]}


def manifest_line(m: ManifestRecord | None) -> str:
    if m is None:
        return "*Last manifest:* none yet. Run `/ship manifest` when parcels are ready."
    failed = f", {len(m.failed)} failed" if m.failed else ""
    return (
        f"*Last manifest:* {when(m.at)} by {who(m.requested_by)} in <#{m.channel_id}> · "
        f"{len(m.queued)} queued{failed}"
    )
