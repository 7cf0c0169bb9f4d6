"""The consignment's channel message and its thread messages (quotes, allocation, problems)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from blocks import Block, Message, actions, button, context, escape, section
from blocks.ids import CHOOSE_QUOTE, EDIT_FORM, REQUOTE, TRY_AGAIN, ActionId
from blocks.payloads import ConsignmentValue, QuoteValue
from blocks.states import state_words
from blocks.thread_buttons import thread_actions
from bot.models import RESHIPPABLE, ConsignmentRecord, Price, Quote, Step
from bot.money import format_money

RETRY_QUOTE = ActionId.RETRY_QUOTE
MAX_QUOTES_SHOWN = 20  # 2 blocks a quote + header/context stays well under 50 blocks


def money(amount: Decimal, currency: str) -> str:
    """`format_money`, escaped for mrkdwn (the currency code comes from the carrier)."""
    return escape(format_money(amount, currency))


def price_text(price: Price) -> str:
    return money(price.gross, price.currency)


def slack_time(moment: datetime, token: str = "{time}") -> str:
    """Rendered in each reader's own timezone; the fallback is UTC."""
    fallback = moment.strftime("%H:%M UTC") if token == "{time}" else moment.strftime("%d %b %H:%M")
    return f"<!date^{int(moment.timestamp())}^{token}|{fallback}>"


def delivery_window(quote: Quote) -> str:
    first, last = quote.earliest_delivery, quote.latest_delivery
    if first is None and last is None:
        return "delivery date not given"
    first = first or last
    last = last or first
    assert first is not None and last is not None
    if first.date() == last.date():
        return f"arrives {first:%a} {first.day} {first:%b}"
    return f"arrives {first:%a} {first.day} {first:%b}–{last:%a} {last.day} {last:%b}"


def service_label(carrier: str, service: str) -> str:
    """ "DPD" + "Next Day" -> "DPD Next Day", but "Evri" + "Evri Standard" stays as it is."""
    if not carrier or service.lower().startswith(carrier.lower()):
        return service
    return f"{carrier} {service}"


def short_name(name: str) -> str:
    """ "Rita Customer" -> "R. Customer": enough for agents scanning the channel."""
    parts = name.split()
    if len(parts) < 2:
        return name
    return f"{parts[0][0]}. {' '.join(parts[1:])}"


def headline(c: ConsignmentRecord) -> str:
    r = c.request
    parcels = f"{r.parcel_count} parcel{'s' if r.parcel_count != 1 else ''}"
    weight = f"{r.total_weight_kg.normalize():f} kg"
    ref = c.carrier_reference or "new consignment"
    if c.is_return:
        original = escape(c.returns_reference or "a consignment")
        return (
            f"↩️ *{escape(ref)}* · Return of {original} · from "
            f"{escape(short_name(r.recipient.name))} · {escape(r.recipient.postcode)}, "
            f"{r.recipient.country} · {parcels}, {weight}"
        )
    return (
        f"📦 *{escape(ref)}* · {escape(short_name(r.recipient.name))} · "
        f"{escape(r.recipient.postcode)}, {r.recipient.country} · {parcels}, {weight}"
    )


def status_line(c: ConsignmentRecord, *, thread_pending: bool = False) -> str:
    """`thread_pending`: a failure's thread post (its Try again) is not in the thread yet,
    so the line must not send anyone looking for it."""
    quote = c.chosen_quote
    service = quote.service_name if quote else (c.allocation.service_name if c.allocation else "")
    tracking = escape(", ".join(c.allocation.tracking_numbers)) if c.allocation else ""
    carrier = c.allocation.carrier_name if c.allocation else (quote.carrier_name if quote else "")
    match c.step:
        case Step.NEW | Step.CREATING:
            return "⏳ Creating consignment…"
        case Step.CREATED | Step.QUOTING:
            return "⏳ Getting quotes…"
        case Step.QUOTED:
            return "⚠️ Choose a quote in the thread"
        case Step.EXPIRED:
            return "⚠️ Quotes expired: get fresh quotes in the thread"
        case Step.AWAITING_APPROVAL:
            return f"⚠️ Waiting for approval: {escape(service)} chosen by <@{c.claimed_by}>"
        case Step.CLAIMED | Step.ALLOCATING:
            return f"⏳ Allocating with {escape(service)} for <@{c.claimed_by}>…"
        case Step.ALLOCATED:
            return f"⏳ Allocated to {escape(service_label(carrier, service))} · getting the label…"
        case Step.LABEL_SAVED:
            return "⏳ Uploading the label…"
        case Step.UPLOADED if c.is_return and c.delivery is not None:
            # Handed in by the customer: the watcher's latest word (docs/returns.md).
            words = state_words(c.delivery.state, c.delivery.raw_state, c.delivery.signed_by)
            return f"{words} · ↩️ on its way back · {escape(service_label(carrier, service))}"
        case Step.UPLOADED if c.is_return:
            return (
                f"✅ Return label made · {escape(service_label(carrier, service))} · "
                f"tracking {tracking}"
            )
        case Step.UPLOADED:
            return f"✅ {escape(service_label(carrier, service))} · tracking {tracking}"
        case Step.MANIFESTING:
            return (
                f"⏳ Manifesting · {escape(service_label(carrier, service))} · tracking {tracking}"
            )
        case Step.MANIFESTED if c.delivery is not None:
            # The watcher's latest word from the carrier (docs/watcher.md).
            words = state_words(c.delivery.state, c.delivery.raw_state, c.delivery.signed_by)
            return f"{words} · {escape(service_label(carrier, service))} · tracking {tracking}"
        case Step.MANIFESTED:
            return (
                f"✅ Manifested · {escape(service_label(carrier, service))} · tracking {tracking}"
            )
        case Step.CANCELLING:
            return "⏳ Cancelling with Sorted PRO…"
        case Step.CANCELLED:
            return "❌ Cancelled"
        case Step.FAILED:
            problem = c.problem.message if c.problem else "Something went wrong."
            if thread_pending:
                return f"❌ {problem} ⏳ Posting the next step in the thread…"
            return f"❌ {problem} See the thread."
        case Step.REQUOTING:
            return f"⏳ Getting quotes to ship it with another service · still {current(c)}"
        case Step.REQUOTED:
            return f"⚠️ Choose another service in the thread · still {current(c)}"
        case Step.UPDATING:
            return "⏳ Fixing the address with Sorted PRO…"
        case Step.RELEASING:
            return f"⏳ Releasing the {escape(c.released_service or current(c))} booking…"
    return ""


def current(c: ConsignmentRecord) -> str:
    """The booking a consignment holds now, as agents name it."""
    a = c.allocation
    if a is None:
        return "booked"
    tracking = escape(", ".join(a.tracking_numbers)) or "no tracking"
    return f"{escape(service_label(a.carrier_name, a.service_name))} · tracking {tracking}"


def source_words(source: str | None) -> str:
    """PRO's Source: "Api" is an integration (the webshop, the ERP); "Web" is PRO's own site."""
    if (source or "").lower() == "web":
        return "made in Sorted PRO's web app"
    return "from the webshop"


def found_line(c: ConsignmentRecord) -> str:
    """ "📥 Order 100234 · from the webshop · made 3 Dec 09:12" for a taken-over one."""
    bits = [f"📥 Order {escape(c.request.order_number)}" if c.request.order_number else "📥"]
    bits.append(source_words(c.found_source))
    if c.found_at:
        bits.append(f"made {slack_time(c.found_at, '{date_short_pretty} {time}')}")
    return " · ".join(bits)


def channel_message(c: ConsignmentRecord, *, thread_pending: bool = False) -> Message:
    r = c.request
    if c.found_source is not None or c.found_at is not None:
        bits = [found_line(c), f"taken over by <@{c.created_by}>"]
    else:
        bits = [f"{'Made' if c.is_return else 'Created'} by <@{c.created_by}>"]
        if r.return_reason:
            note = f": {escape(r.return_note)}" if r.return_note else ""
            bits.append(f"reason {escape(r.return_reason.value.lower())}{note}")
        if r.order_number:
            bits.append(f"order {escape(r.order_number)}")
        bits.append(f"ref {escape(r.shipper_reference)}")
    if c.repeats_reference and c.replaces:
        bits.append(f"🔁 Replaces {escape(c.repeats_reference)}")
    elif c.repeats_reference:
        bits.append(f"🔁 Repeats {escape(c.repeats_reference)}")
    status = status_line(c, thread_pending=thread_pending)
    return Message(
        text=f"{escape(c.reference)}: {status}",
        blocks=[
            section(headline(c), block_id=f"head-{c.id}-{c.step.value}"),
            section(status, block_id=f"status-{c.id}-{c.step.value}"),
            context(" · ".join(bits)),
        ],
    )


SANDBOX_NOTE = "🧪 *SANDBOX* — nothing is shipped: labels and tracking numbers here are not real."


def sandbox_marked(message: Message) -> Message:
    """A message from a bot whose carrier is a sandbox: it says so, so a team trying the bot
    in its own workspace can't mistake it for shipping."""
    return Message(text=message.text, blocks=[*message.blocks, context(SANDBOX_NOTE)])


def sandbox_comment(comment: str) -> str:
    """The label upload's message (text only) from a sandbox carrier."""
    return f"{comment}\n{SANDBOX_NOTE}"


def quote_list(c: ConsignmentRecord) -> Message:
    """One section per quote with its Choose button; cheapest and fastest marked."""
    quotes = sorted(c.quotes, key=lambda q: q.price.gross)[:MAX_QUOTES_SHOWN]
    cheapest = quotes[0].reference if quotes else None
    fastest = min(
        quotes,
        key=lambda q: (q.latest_delivery or q.earliest_delivery or q.expires_at, q.price.gross),
        default=None,
    )
    blocks: list[Block] = []
    for q in quotes:
        marks = []
        if q.reference == cheapest:
            marks.append("cheapest")
        if fastest is not None and q.reference == fastest.reference and len(quotes) > 1:
            marks.append("fastest")
        text = (
            f"*{escape(service_label(q.carrier_name, q.service_name))}* · {price_text(q.price)} "
            f"(incl. VAT) · {delivery_window(q)}"
        )
        if marks:
            text += " · " + ", ".join(marks)
        label = f"Choose {price_text(q.price)}"
        blocks.append(
            section(
                text,
                block_id=f"quote-{q.reference}"[:255],
                accessory=button(label, CHOOSE_QUOTE, QuoteValue(c.id, q.reference).encode()),
            )
        )
    if c.is_return:
        # In the original's thread: say whose quotes these are before any button.
        blocks.insert(
            0,
            section(
                f"↩️ Return services for *{escape(c.reference)}*, the return of "
                f"{escape(c.returns_reference or 'a consignment')}: choose one."
            ),
        )
    notes = []
    if quotes:
        expiry = min(q.expires_at for q in quotes)
        notes.append(f"Quotes expire at {slack_time(expiry)}")
    if c.unqualified:
        notes.append(unavailable_summary(c))
    if notes:
        blocks.append(context(" · ".join(notes)))
    return Message(
        text=f"{len(quotes)} quotes for {escape(c.reference)}: choose one", blocks=blocks
    )


_REASON_WORDS = (
    (("returns service",), "not a returns service"),
    (("between the selected addresses", "country", "destination"), "not to this destination"),
    (("heavy", "weight"), "too heavy"),
    (("large", "dimension", "size", "girth"), "too large"),
    (("date",), "not on these dates"),
    (("pricing", "rates", "cost"), "no price set up"),
)


def short_reason(reason: str) -> str:
    """The carrier's long exclusion reason as the two or three words an agent needs."""
    lowered = reason.lower()
    for needles, words in _REASON_WORDS:
        if any(n in lowered for n in needles):
            return words
    reason = reason.strip().rstrip(".")
    return reason if len(reason) <= 60 else reason[:57] + "…"


def unavailable_summary(c: ConsignmentRecord) -> str:
    """ "3 services unavailable: not to this destination (DHL Express, …); too heavy (Evri)"."""
    groups: dict[str, list[str]] = {}
    for u in c.unqualified:
        words = short_reason(u.reason)
        if c.is_return and words == "not to this destination":
            words = "not from this address"  # a return comes from the customer's address
        groups.setdefault(words, []).append(u.service_name)
    parts = []
    for words, names in groups.items():
        shown = ", ".join(escape(n) for n in names[:4])
        more = f", +{len(names) - 4}" if len(names) > 4 else ""
        parts.append(f"{escape(words)} ({shown}{more})")
    count = len(c.unqualified)
    return f"{count} service{'s' if count != 1 else ''} unavailable: " + "; ".join(parts[:6])


def claimed(c: ConsignmentRecord) -> Message:
    """The click's edit of the quotes message: no Choose buttons left, and words that stay
    true once the label is bought (the outcome comes with the upload), so this message is
    edited once on the happy path."""
    quote = c.chosen_quote
    what = service_label(quote.carrier_name, quote.service_name) if quote else "the chosen quote"
    price = f" · {price_text(quote.price)}" if quote else ""
    text = f"☑️ {escape(what)}{price} chosen by <@{c.claimed_by}> · the label follows in this thread"
    if c.is_return:
        text = f"↩️ Return {escape(c.reference)} · {text}"
    bought = "If the label was bought it becomes void: don't send the parcel."
    return Message(text=text, blocks=[section(text), thread_actions(c, bought=bought)])


def label_comment(c: ConsignmentRecord) -> str:
    """The label upload's message: the outcome, so no edit of the quotes message is needed."""
    return allocated(c).text


def allocated(c: ConsignmentRecord) -> Message:
    a = c.allocation
    if a is None:
        return claimed(c)
    quote = c.chosen_quote
    price = f" · {price_text(quote.price)}" if quote else ""
    who = f" by <@{c.claimed_by}>" if c.claimed_by else ""
    when = f" at {slack_time(c.allocated_at)}" if c.allocated_at else ""
    tracking = escape(", ".join(a.tracking_numbers)) or "not given"
    text = (
        f"✅ Allocated to {escape(service_label(a.carrier_name, a.service_name))}{who}{when}"
        f"{price} · tracking {tracking}"
    )
    if c.manifested_at is not None:
        # The carrier manifested it before the label reached the thread.
        text = f"✅ Manifested · {text[2:]}"
    return Message(text=text, blocks=[section(text), thread_actions(c)])


def taken_over(c: ConsignmentRecord, raw_state: str, failure: str | None) -> Message:
    """The thread's first line for a consignment taken over from Sorted PRO."""
    state = "".join(f" {ch}" if ch.isupper() and i else ch for i, ch in enumerate(raw_state))
    text = f"{found_line(c)} · taken over from Sorted PRO by <@{c.created_by}> · *{escape(state)}*"
    if c.allocation:
        text += f" · {current(c)}"
    if failure and raw_state == "AllocationFailed":
        text += f"\n⚠️ Allocation failed: {escape(failure)}"
    blocks: list[Block] = [section(text)]
    if c.step in RESHIPPABLE:
        blocks.append(thread_actions(c))
    return Message(text=text, blocks=blocks)


def requote_list(c: ConsignmentRecord, now_price: Price | None) -> Message:
    """The other services beside the current one; Choose releases the current booking."""
    listed = quote_list(c)
    price = f" · {price_text(now_price)}" if now_price else ""
    head = (
        f"🔀 *Ship with another service* · now {current(c)}{price}\n"
        "Choosing one releases the current booking (its label becomes void) and books the "
        "new one."
    )
    return Message(
        text=f"Other services for {escape(c.reference)}: {listed.text}",
        blocks=[section(head), *listed.blocks],
    )


def released(c: ConsignmentRecord, old_tracking: str) -> Message:
    """Said in the thread the moment Sorted PRO confirms the deallocation."""
    service = escape(c.released_service or "old")
    text = (
        f"🚫 The {service} booking is released (tracking {escape(old_tracking) or 'none'}): "
        "its label is void, don't use it. Booking the new service…"
    )
    return Message(text=text, blocks=[section(text)])


def address_fixed(c: ConsignmentRecord) -> Message:
    r = c.request.recipient
    where = ", ".join(x for x in (r.line1, r.line2, r.town, r.postcode) if x)
    text = (
        f"🏠 Address fixed at Sorted PRO (read back): {escape(where)}, {r.country}. "
        "Fresh quotes follow."
    )
    return Message(text=text, blocks=[section(text)])


def quotes_expired(c: ConsignmentRecord) -> Message:
    text = "⚠️ Quotes expired — get fresh quotes. Nothing was bought."
    if c.released_service:
        text = (
            f"⚠️ The {escape(c.released_service)} booking was released; the new one failed: "
            "the quote expired. Get fresh quotes."
        )
    return Message(
        text=text,
        blocks=[
            section(text),
            actions(
                button(
                    "Get fresh quotes", REQUOTE, ConsignmentValue(c.id).encode(), style="primary"
                )
            ),
        ],
    )


def problem(c: ConsignmentRecord) -> Message:
    """What happened · why · what to do, with the button that resumes from the failed step."""
    p = c.problem
    message = p.message if p else "Something went wrong."
    if c.is_return:  # in the original's thread: say which one it is about
        message = f"Return {c.reference}: {message}"
    blocks: list[Block] = [section(f"⚠️ {message}")]
    if p and p.retryable and c.released_service and p.step is Step.CLAIMED:
        # The old booking is gone: the same quote again, or a fresh list.
        value = ConsignmentValue(c.id).encode()
        blocks.append(
            actions(
                button("Get fresh quotes", REQUOTE, value, style="primary"),
                button("Try again", RETRY_QUOTE, value),
            )
        )
    elif p and p.retryable:
        blocks.append(
            actions(
                button("Try again", TRY_AGAIN, ConsignmentValue(c.id).encode(), style="primary")
            )
        )
    elif p and p.fields and p.step is Step.CREATING:
        blocks.append(
            actions(
                button("Edit the form", EDIT_FORM, ConsignmentValue(c.id).encode(), style="primary")
            )
        )
    if p and p.correlation_id:
        blocks.append(context(f"Carrier correlation id for support: `{escape(p.correlation_id)}`"))
    return Message(text=f"⚠️ {message}", blocks=blocks)


def failure_inline(c: ConsignmentRecord) -> Message:
    """The channel message when Slack refused the failure's thread post for good: the
    problem and its button in the channel message itself, so the next step is not lost."""
    shown = channel_message(c)
    note = problem(c)
    text = f"{shown.text} (Slack refused the post in the thread)"
    return Message(text=text, blocks=[shown.blocks[0], *note.blocks, shown.blocks[-1]])


def claimed_failed(c: ConsignmentRecord, *, thread_pending: bool = False) -> Message:
    """Replaces the spent quote buttons after an allocate that did not go through (no
    pointer below while the Try again post is not in the thread yet)."""
    text = "❌ Allocation didn't go through · nothing was bought"
    if not thread_pending:
        text += " · see below to try again"
    return Message(text=text, blocks=[section(text)])
