"""Every error and refusal as a sentence an agent understands: what happened, what to do.

No stack trace, token, raw JSON or carrier text alone reaches Slack; the carrier's
CorrelationId travels separately, in a context line for support.
"""

from __future__ import annotations

from blocks import escape
from bot.carrier import errors
from bot.carrier.fields import refused_fields
from bot.models import Step

STEP_WORDS = {
    "create": "creating the consignment",
    "quotes": "getting quotes",
    "allocate": "allocating",
    "label": "getting the label",
    "customs": "getting the customs documents",
    "manifest": "manifesting",
    "lookup": "checking the consignment",
    "cancel": "cancelling",
    "search": "searching Sorted PRO",
    "release": "releasing the booking",
    "update": "updating the address",
}


# What each carrier error says, first match wins (subclasses before their bases).
# {doing} is a STEP_WORDS phrase, {bought} " Nothing was bought." or "", {where} the fields.
_CARRIER_SAYS: tuple[tuple[type[errors.CarrierError], str], ...] = (
    (errors.QuoteExpired, "These quotes expired. Get fresh quotes.{bought}"),
    (
        errors.RateLimited,
        "Sorted PRO is busy right now (too many requests) while {doing}.{bought} "
        "Try again in a minute.",
    ),
    (errors.OutcomeUnknown, "Sorted PRO didn't answer in time while {doing}.{bought} Try again."),
    (
        errors.CarrierUnavailable,
        "Sorted PRO isn't answering while {doing}.{bought} Try again in a minute.",
    ),
    (
        errors.Unauthorized,
        "Sorted PRO refused our API key while {doing}.{bought} "
        "Ask whoever runs shipbot to check ELECTIO_API_KEY.",
    ),
    (errors.NotFound, "Sorted PRO doesn't know this consignment (while {doing}).{bought}"),
    (
        errors.InvalidRequest,
        "Sorted PRO refused the request while {doing}{where}.{bought} Check the details.",
    ),
)


def carrier_problem(step: str, exc: errors.CarrierError, *, nothing_bought: bool = False) -> str:
    """One sentence for a carrier failure at `step` (a key of STEP_WORDS)."""
    fields = escape(", ".join(d.target for d in exc.details if d.target))
    words = {
        "doing": STEP_WORDS.get(step, step),
        "bought": " Nothing was bought." if nothing_bought else "",
        "where": f" ({fields})" if fields else "",
    }
    for kind, sentence in _CARRIER_SAYS:
        if isinstance(exc, kind):
            return sentence.format(**words)
    return "Something went wrong while {doing}.{bought} Try again.".format(**words)


def form_refused(exc: errors.CarrierError) -> str:
    fields = refused_fields(exc)
    names = " and ".join(label for label, _ in fields) or "some details"
    # The carrier's own words, escaped: they go into mrkdwn.
    # Their sentences end in a full stop of their own; ours follows the bracket.
    said = (d.message.strip().rstrip(".") for d in exc.details if d.message)
    reasons = escape("; ".join(m for m in said if m)[:300])
    why = f" ({reasons})" if reasons else ""
    return f"Sorted PRO refused the {names}{why}. Nothing was bought. Edit the form to fix it."


def retryable(exc: errors.CarrierError) -> bool:
    return isinstance(exc, errors.RateLimited | errors.OutcomeUnknown | errors.CarrierUnavailable)


# A listener raised ({kind} is the exception's type: no message, no trace).
FORM_FAILED = (
    "Something went wrong on our side ({kind}). Your form is kept: check the channel for "
    "the consignment, and if it isn't there, submit again. If it keeps happening, tell "
    "whoever runs shipbot."
)
VIEW_FAILED = (
    "Something went wrong on our side ({kind}). Close this and try again; if it keeps "
    "happening, tell whoever runs shipbot."
)
LISTENER_FAILED = (
    "Something went wrong on our side ({kind}). Check the thread before you try again; "
    "if it keeps happening, tell whoever runs shipbot."
)

NOT_IN_CHANNEL = (
    "I'm not a member of <#{channel}>, so I can't post the consignment there. "
    "Type `/invite @shipbot` in that channel, then press Try again. Your form is saved."
)
# Slack errors a retry can't fix, each with who should act ({where} is a channel mention).
SLACK_CHANNEL_GONE = (
    "I can't find {where}: it was deleted, or it's private and I was never added. "
    "Nothing is lost: run `/ship` in another channel, or ask a channel member to add me."
)
SLACK_CHANNEL_ARCHIVED = (
    "{where} is archived, so I can't post there. Nothing is lost: run `/ship` in another "
    "channel, or ask a workspace admin to unarchive it."
)
SLACK_AUTH_BROKEN = (
    "Slack refused shipbot's token ({error}), so I can't post anything. Trying again won't "
    "help: ask whoever runs shipbot to check SLACK_BOT_TOKEN and that the app is still "
    "installed."
)
SLACK_MISSING_SCOPE = (
    "Slack refused: shipbot lacks a permission it needs ({error}). Trying again won't help: "
    "ask your Slack admin to reinstall the app from app_manifest.yml."
)
SLACK_PASSING = "Slack refused a message ({error}). Press Try again."
AWAITING_APPROVAL = (
    "⚠️ <@{user}> already chose a quote and it is waiting for approval. Nothing more to do."
)
CANCELLED_ALREADY = "❌ This consignment was cancelled. Run `/ship` to start a new one."
ALREADY_DECIDED = "This approval was already decided. Nothing more to do."
ALREADY_CLAIMED = "⚠️ This consignment is already being allocated by <@{user}>. Nothing more to do."
ALREADY_DONE = "This consignment is already allocated. Nothing more to do."
STILL_QUOTING = "⏳ Quotes are still coming in. Try again in a moment."
QUOTE_GONE = "⚠️ That quote is no longer offered. Choose one from the latest list in the thread."
NOTHING_TO_MANIFEST = "Nothing to manifest: no allocated consignment is waiting with its label."
UNKNOWN_CONSIGNMENT = "I can't find that consignment any more. Run `/ship help` to start again."

# -- agent operations (/ship status, find, list, label, cancel, audit) --------------------
# Placeholders are filled with text already escaped for mrkdwn.
ARGUMENT_MISSING = "⚠️ `/ship {command}` needs {what}, e.g. `{example}`."
MANIFEST_QUEUED = "⏳ Manifesting the allocated consignments… the channel will say when it's done."
NOT_A_POSTCODE = (
    "⚠️ {said} isn't a postcode I can fill in. `/ship new SW1A 2AA` opens the form with one; "
    "`/ship new` alone opens it empty."
)
UNKNOWN_COMMAND = (
    "⚠️ I don't know {word}. `/ship help` lists every command with an example ({names})."
)
ARGUMENT_TOO_LONG = (
    "⚠️ That's {length:,} characters: too long for a reference or a search. "
    "Paste just the reference, order number or postcode (at most {limit})."
)
ARGUMENT_NOT_TEXT = (
    "⚠️ That has characters in it that aren't text. Type the reference again, "
    "or paste it as plain text."
)
NOT_FOUND = (
    "⚠️ I can't find a consignment called `{ref}`. Check it, or search with `/ship find`: "
    "part of the order number, the recipient's name or the postcode."
)
FIND_TOO_SHORT = "⚠️ Give me at least {least} characters to look for, e.g. `/ship find SW1A`."
FIND_NOTHING = (
    "🔎 Nothing matches “{text}”. Try part of the order number, the recipient's surname "
    "or the postcode."
)
LIST_UNKNOWN = "⚠️ `/ship list` takes `open`, `today` or `all` (you gave `{got}`)."
LIST_EMPTY = "Nothing to list: no {what} in this channel. Start one with `/ship`."
LABEL_FORMAT_UNKNOWN = "⚠️ Labels come as `pdf` or `zpl` (you gave `{got}`), e.g. `{example}`."
LABEL_NOT_YET = "⚠️ {ref} has no label yet: choose a quote in its thread first."
LABEL_ON_ITS_WAY = "⏳ {ref}'s label is on its way to the thread right now. Nothing more to do."
LABEL_VOID = "❌ {ref} was cancelled, so its label is void. Nothing to print."
LABEL_NO_THREAD = "⚠️ {ref} has no thread to put the label in. Ask whoever runs shipbot."
LABEL_QUEUED = "⏳ Putting the {fmt} label of {ref} in its thread…"
LABEL_UPLOAD_FAILED = (
    "⚠️ Slack didn't take the label of {ref} just now. Nothing is lost: "
    "run `/ship label {ref}` again in a minute."
)
STATUS_LOOKING = "⏳ Looking up {ref}…"
STATUS_STALE = "Showing what shipbot last knew."
CANCEL_ALREADY = "{ref} is already cancelled. Nothing more to do."
CANCEL_TOO_LATE = (
    "❌ {ref} was manifested{when}: {carrier} has it now, so it can't be cancelled here. "
    "Contact {carrier}'s customer desk with tracking {tracking} to stop or return it."
)
CANCEL_TOO_LATE_AT_CARRIER = (
    "❌ Sorted PRO says {ref} is already {state}, so it can't be cancelled here. "
    "Contact {carrier}'s customer desk with tracking {tracking} to stop or return it."
)
CANCEL_STILL_QUOTING = "⏳ {ref} is still getting its quotes. Try again in a moment."
CANCEL_ALLOCATING = (
    "⏳ {ref} is being allocated right now. Wait until its label is in the thread, then cancel."
)
CANCEL_DONE = "❌ Cancelled {ref}. Its thread says so; any label printed for it is void."
CANCEL_UNCLEAR = (
    "⚠️ Sorted PRO didn't confirm the cancel of {ref}, and I couldn't check. "
    "Press Cancel again in a minute: cancelling twice is safe."
)
CANCEL_BUSY = "{ref} is busy ({state}). Try again once its thread settles."

FORM_ALREADY_SENT = "That form was already sent again."
# A modal's field error: plain text (Slack renders no mrkdwn there).
REFERENCE_USED_BY = (
    "Already used by {ref} in {where}. Shipper references are unique: enter another one."
)
REFERENCE_TAKEN = (
    "Already used by another consignment. Shipper references are unique: enter another one."
)
FORM_ALREADY_SENT_OR_MOVED = "That form was already sent again, or the consignment moved on."
CANCEL_MANIFESTING = (
    "⏳ {ref} is being manifested with the carrier right now, so it can't be cancelled. "
    "Run `/ship status {ref}` in a minute to see where it stands."
)
CANCEL_LOST_TO_MANIFEST = (
    "❌ {ref} was not cancelled: {carrier} had already manifested it (tracking {tracking}). "
    "Call the carrier's desk to stop the parcel."
)
TRACKING_UNREADABLE = (
    "Sorted PRO's tracking answer had parcels but no scans I could read; "
    "the carrier's own tracking link below still works."
)
TRACKING_UNAVAILABLE = "Sorted PRO didn't answer for tracking just now; the carrier's link works."
LABELS_ON_THEIR_WAY = (
    "{n} allocated consignment(s) are still getting their labels: run `/ship manifest` again "
    "once the labels are in their threads."
)
STILL_ALLOCATING_AT_CARRIER = (
    "Sorted PRO is still allocating this consignment, so the label may yet be bought. "
    "Press Try again in a minute to look again (it never allocates twice)."
)


# A job that kept failing for a reason of ours (bot/desk/advance.py gave_up): what happened,
# then what Try again does from the step it stopped at.
DATABASE_BUSY = (
    "shipbot's database stayed locked by another program (a backup or a sqlite3 shell?) "
    "while I worked on this, so I stopped."
)
UNEXPECTED_ERROR = "shipbot hit an unexpected error ({kind}) while I worked on this, so I stopped."
RESUME_FROM = {
    Step.NEW: "Nothing was bought: press Try again.",
    Step.CREATING: "Nothing was bought: press Try again.",
    Step.CREATED: "Nothing was bought: press Try again to get quotes.",
    Step.QUOTING: "Nothing was bought: press Try again to get quotes.",
    Step.CLAIMED: "Nothing was bought yet: press Try again to allocate the chosen quote.",
    Step.ALLOCATING: (
        "The label may have been bought: press Try again and I'll ask the carrier first "
        "(nothing is bought twice)."
    ),
    Step.ALLOCATED: "The label is bought: press Try again to fetch it.",
    Step.LABEL_SAVED: "The label is bought and saved: press Try again to post it here.",
    Step.REQUOTING: "The current booking still stands: press Try again for other quotes.",
    Step.RELEASING: (
        "The current booking may have been released: press Try again and I'll ask the "
        "carrier first (nothing is released or booked twice)."
    ),
}
RESUME_ANYWHERE = "Press Try again: I'll carry on from where it stopped."

# A consignment whose label step failed, manifested by the carrier's query all the same.
MANIFESTED_WITHOUT_LABEL = (
    "Manifested with the carrier by <@{user}>'s `/ship manifest`, but its label isn't in this "
    "thread yet: press Try again to get it (nothing is bought again)."
)

# -- the delivery desk (consignments found at Sorted PRO) ----------------------------------
FOUND_LOOKING = "⏳ Not one of shipbot's: looking up `{ref}` at Sorted PRO…"
NOT_FOUND_ANYWHERE = (
    "⚠️ Neither shipbot nor Sorted PRO knows a consignment `{ref}` (order number, tracking "
    "number, EC- reference or postcode). Check it, or search with `/ship find`."
)
FOUND_INCOMPLETE = (
    "⚠️ Sorted PRO's record of {ref} lacks the recipient's address or its parcels, so I "
    "can't take it over. Open it in Sorted PRO instead."
)
FOUND_TAKEN = "📥 <@{user}> has taken {ref} over already: carry on in {where}."
RESHIP_UNDER_WAY = "⏳ {ref} is already being shipped with another service: see its thread."
RESHIP_NOT_NOW = (
    "⚠️ {ref} can't be shipped with another service right now: only a booked one with its "
    "label in the thread can. Run `/ship status {ref}` to see where it stands."
)
RESHIP_QUOTES_GONE = (
    "⏳ Those quotes for {ref} had expired, so nothing changed: fresh ones are on their way "
    "to its thread."
)
RELEASED_THEN_FAILED = "The {old} booking was released; the new one failed: {why}"
RELEASE_REFUSED = (
    "Sorted PRO refused to release the {old} booking ({why}), so it still stands: nothing "
    "changed. Try again, or run `/ship status {ref}`."
)
RELEASE_TOO_LATE = (
    "Sorted PRO says {ref} is {state} now, so its {old} booking can't be released: nothing "
    "changed. Ship a replacement instead."
)
RELEASE_UNCLEAR = (
    "Sorted PRO hasn't confirmed releasing the {old} booking yet (it says {state}). "
    "Press Try again to look again: it never releases or books twice."
)
FIND_THEN_SORTED = "🔎 Nothing matches “{text}” in shipbot. ⏳ Looking at Sorted PRO…"
FIX_TOO_LATE = (
    "⚠️ Sorted PRO says {ref} is {state}: the carrier has its data or the parcel, so the "
    "address can't be changed here. Ship a replacement to the right address instead."
)
FIX_BUSY = "⏳ {ref} is busy right now (see its thread): fix the address once it settles."
FIX_UPDATE_FAILED = "Sorted PRO didn't take the new address: {why}"
FIX_NOT_KEPT = (
    "Sorted PRO answered the address update but its record still says {postcode}: the new "
    "address was not kept. Press Try again."
)
