"""`/ship manifest`: what is ready is manifested with the carrier, and Slack says only what the
carrier confirmed.

Ready means allocated with its documents in the thread (UPLOADED). Each is held as
MANIFESTING by a guarded transition under its lock, so a cancel and a manifest of one
consignment exclude each other. Manifest From Query takes whatever the carrier holds as
Allocated, so after the call we trust the carrier's own count and, when it does not add up,
look each consignment up: the summary and the thread lines never claim more than that.

The query also takes consignments the bot does not consider ready: one whose label step
failed (FAILED, bought at the carrier) and one still getting its label. Our choice (issue 22)
is to look each of those up afterwards and record it as the carrier has it, rather than hold
them out with Set Not Ready To Ship (a call per consignment before every manifest, and a
state to undo): one found manifested gets `manifested_at`, so its label step ends in
"Manifested"; one that had failed is told so in its thread, with Try again for the label.
"""

from __future__ import annotations

import logging
from collections import Counter

from blocks import Message
from blocks import manifest as manifest_blocks
from bot.carrier.errors import CarrierError
from bot.carrier_states import ConsignmentState
from bot.core import Asker, Shipbot
from bot.desk import messages
from bot.desk.reconcile import follow_carrier
from bot.desk.show import show, show_channel
from bot.models import (
    ALLOCATED,
    BEING_ALLOCATED,
    LABEL_ON_ITS_WAY,
    MANIFEST_HOLD,
    MANIFESTABLE,
    RESHIPPING,
    ConsignmentRecord,
    ManifestResult,
    Step,
)
from bot.permissions import Action
from bot.slack.outbox import COSMETIC
from bot.slack.slackio import SlackProblem
from bot.store.job_payloads import ManifestJob, ManifestLineJob
from bot.store.jobs import RetryLater

log = logging.getLogger("shipbot.manifest")


def request_manifest(bot: Shipbot, asker: Asker) -> None:
    bot.permit(Action.MANIFEST, asker.user)
    bot.store.audit(asker.user, "manifest requested", "queued")
    bot.jobs.submit(
        ManifestJob(**asker.asked()),
        dedupe_key="manifest",
    )


def _hold_ready(bot: Shipbot) -> list[ConsignmentRecord]:
    held = []
    for c in bot.store.ready_for_manifest():
        with bot.locked(c.id):
            if bot.store.transition(c.id, MANIFESTABLE, Step.MANIFESTING):
                held.append(bot.store.require(c.id))
    return held


def _release(bot: Shipbot, records: list[ConsignmentRecord]) -> None:
    for c in records:
        with bot.locked(c.id):
            bot.store.transition(c.id, MANIFEST_HOLD, Step.UPLOADED)


def _job_manifest(bot: Shipbot, payload: ManifestJob) -> None:
    user = payload.user
    asker = Asker.of(payload)
    held = _hold_ready(bot)
    if not held:
        on_its_way = len([c for c in bot.store.list_in(ALLOCATED) if c.returns is None])
        text = messages.NOTHING_TO_MANIFEST
        if on_its_way:
            text += " " + messages.LABELS_ON_THEIR_WAY.format(n=on_its_way)
        bot.send(asker, text)
        bot.store.audit(user, "manifest", "nothing to manifest")
        return
    failure: CarrierError | None = None
    result: ManifestResult | None = None
    try:
        result = bot.carrier.manifest_from_query(
            [bot.settings.shipping_location], states=("Allocated",)
        )
    except CarrierError as exc:
        failure = exc  # a lost reply may still have manifested: the lookups below decide
    held_ids = {c.id for c in held}
    others = exposed(bot)  # the held ones are MANIFESTING: not among these
    states: dict[int, ConsignmentState] = {}
    if result is not None and result.queued == len(held) and not result.failed and not others:
        confirmed = held_ids  # the carrier's count is exactly ours
    else:
        states = _looked_up(bot, held + others)
        confirmed = _manifested(states)
    if failure is not None and not confirmed:
        _release(bot, held)
        bot.store.audit(
            user,
            "manifest",
            f"failed: {type(failure).__name__}",
            correlation_id=failure.correlation_id,
        )
        reason = messages.carrier_problem("manifest", failure)
        bot.send(asker, manifest_blocks.manifest_failed(reason, failure.correlation_id))
        return
    cancelled = {cid for cid, state in states.items() if state is ConsignmentState.CANCELLED}
    _record(bot, user, asker, held, others, confirmed, cancelled, result.message if result else "")


def exposed(bot: Shipbot) -> list[ConsignmentRecord]:
    """What the carrier's query may take that the bot does not hold as ready: allocated (or
    being allocated) but without its label in the thread, including failed label steps."""
    # Being shipped with another service (issue 24): still booked at the carrier meanwhile.
    found = bot.store.list_in(ALLOCATED | BEING_ALLOCATED | RESHIPPING)
    for c in bot.store.list_in({Step.FAILED}):
        if c.carrier_reference and (
            c.allocation is not None or (c.problem and c.problem.step in LABEL_ON_ITS_WAY)
        ):
            found.append(c)
    # Not returns: the query names our shipping location, and "from the specified shipping
    # location" (the search docs) is the origin, which a return coming back to it is not.
    # GUESS: undocumented for manifests; a return the carrier took anyway is found by a
    # status look-up (reconcile), without costing every manifest a look-up per return.
    return [c for c in found if c.returns is None]


def _looked_up(bot: Shipbot, records: list[ConsignmentRecord]) -> dict[int, ConsignmentState]:
    """When in doubt: each consignment's state as the carrier itself shows it."""
    states: dict[int, ConsignmentState] = {}
    for c in records:
        if not c.carrier_reference:
            continue
        try:
            states[c.id] = bot.carrier.get_consignment(c.carrier_reference).state
        except CarrierError as exc:
            log.warning("manifest lookup of %s failed: %s", c.id, type(exc).__name__)
    return states


def _manifested(states: dict[int, ConsignmentState]) -> set[int]:
    return {cid for cid, state in states.items() if state.manifested_or_later}


def _record(
    bot: Shipbot,
    user: str,
    asker: Asker,
    held: list[ConsignmentRecord],
    others: list[ConsignmentRecord],
    confirmed: set[int],
    cancelled: set[int],
    carrier_message: str,
) -> None:
    taken = [c for c in held if c.id in confirmed]
    gone = [c for c in held if c.id in cancelled]
    not_taken = [c for c in held if c.id not in confirmed | cancelled]
    moved = bot.store.record_manifest(
        requested_by=user,
        channel_id=asker.channel,
        message=carrier_message,
        queued=[c.id for c in taken],
        failed=[c.reference for c in not_taken],
        leaving=MANIFEST_HOLD,
    )
    _release(bot, not_taken)
    for c in gone:  # cancelled at the carrier behind our back: the store follows the carrier
        follow_carrier(bot, c, ConsignmentState.CANCELLED, holder=MANIFEST_HOLD)
    # Still getting or uploading its label, yet the carrier's query took it: the flow
    # finishes its upload and then records it manifested.
    swept = [c for c in others if c.id in confirmed]
    for c in swept:
        _swept(bot, c, user)
    done = [c for c in held if c.id in moved] + swept
    by_carrier = Counter((c.allocation.carrier_name if c.allocation else "unknown") for c in done)
    bot.store.audit(
        user,
        "manifest",
        f"queued {len(done)}, not taken {len(not_taken)}, cancelled at carrier {len(gone)}",
        detail=carrier_message or "(reply lost: looked up)",
    )
    summary = manifest_blocks.summary(
        user,
        by_carrier,
        not_taken,
        [c.reference for c in not_taken],
        cancelled=[c.reference for c in gone],
    )
    _post_summary(bot, asker, summary)
    # One summary; each consignment's mark is its channel message's "✅ Manifested", an
    # outbox edit behind every click's and flow's edit (paced under chat.update's tier).
    for c in done:
        fresh = bot.store.get(c.id)
        if fresh is not None:
            show_channel(bot, fresh, priority=COSMETIC)


def _swept(bot: Shipbot, c: ConsignmentRecord, user: str) -> None:
    """Manifested by the carrier's query though its label is not in the thread: recorded so
    its label step ends in "Manifested"; a failed one is told in its thread at once.

    Not under the consignment's lock: a flow still getting the label holds it, and reads
    `manifested_at` when its upload is done."""
    bot.store.mark_manifested(c.id)
    bot.store.audit(user, "manifest", "taken by the carrier's query", consignment_id=c.id)
    fresh = bot.store.require(c.id)
    if fresh.step in MANIFESTABLE:  # its upload finished just before the mark
        follow_carrier(bot, fresh, ConsignmentState.MANIFESTED)
        return
    if fresh.step is not Step.FAILED or fresh.problem is None:
        return  # the flow finishes its upload and records it manifested
    with bot.locked(c.id):
        problem = fresh.problem.model_copy(
            update={
                "message": messages.MANIFESTED_WITHOUT_LABEL.format(user=user),
                "retryable": True,
            }
        )
        if bot.store.transition(c.id, {Step.FAILED}, Step.FAILED, problem=problem):
            show(bot, bot.store.require(c.id))


def _post_summary(bot: Shipbot, asker: Asker, summary: Message) -> None:
    try:
        bot.slack.post_joining(asker.channel, summary)
    except SlackProblem as exc:
        log.warning("manifest summary not posted in channel: %s", exc.error)
        bot.send(asker, summary)


def _job_thread_line(bot: Shipbot, payload: ManifestLineJob) -> None:
    """Only for lines queued by an earlier version before an upgrade."""
    text = manifest_blocks.thread_line(payload.user)
    try:
        bot.slack.post_joining(
            payload.channel,
            Message(text=text, blocks=manifest_blocks.text_blocks(text)),
            thread_ts=payload.thread_ts,
        )
    except SlackProblem as exc:
        if exc.membership:
            log.warning("manifest line in %s dropped: %s", payload.channel, exc.error)
            return
        raise RetryLater(exc.error) from exc


def resume_held(bot: Shipbot) -> None:
    """After a restart: a manifest that died mid-call leaves holds; the carrier decides."""
    held = bot.store.list_in(MANIFEST_HOLD)
    if not held:
        return
    states = _looked_up(bot, held)
    confirmed = _manifested(states)
    for c in held:
        if states.get(c.id) is ConsignmentState.CANCELLED:
            follow_carrier(bot, c, ConsignmentState.CANCELLED, holder=MANIFEST_HOLD)
            continue
        with bot.locked(c.id):
            if c.id in confirmed:
                bot.store.record_manifest(
                    requested_by="shipbot",
                    channel_id=c.channel_id,
                    message="(after a restart: looked up)",
                    queued=[c.id],
                    failed=[],
                    leaving=MANIFEST_HOLD,
                )
            else:
                bot.store.transition(c.id, MANIFEST_HOLD, Step.UPLOADED)
        show_channel(bot, bot.store.require(c.id))


def register(bot: Shipbot) -> None:
    bot.jobs.register(ManifestJob, lambda payload: _job_manifest(bot, payload))
    bot.jobs.register(ManifestLineJob, lambda payload: _job_thread_line(bot, payload))
