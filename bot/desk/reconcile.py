"""The store follows the carrier: when a lookup shows a consignment moved on outside shipbot
(manifested or cancelled in Sorted PRO's web app, say), the step is brought in line at once,
audited, and the channel message says so. Only settled steps are moved: a flow, cancel or
manifest in flight owns its consignment until it ends.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.carrier_states import ConsignmentState
from bot.core import BOT, Shipbot
from bot.desk.show import show_channel
from bot.models import MANIFESTABLE, NEEDS_AGENT, ConsignmentRecord, Step

# What a lookup may move: settled steps, which no flow, hold or click owns right now.
_AT_REST = NEEDS_AGENT | MANIFESTABLE


def follow_carrier(
    bot: Shipbot,
    c: ConsignmentRecord,
    state: ConsignmentState,
    *,
    holder: Collection[Step] = (),
) -> bool:
    """True when the store was moved to what the carrier says.

    `holder`: the hold steps the caller owns (a manifest's MANIFESTING), which it may move too.
    """
    leaving: frozenset[Step]
    if state is ConsignmentState.CANCELLED and c.step in _AT_REST | set(holder):
        to, outcome, when = Step.CANCELLED, "found cancelled at the carrier", None
        leaving = _AT_REST | frozenset(holder)
    elif state.manifested_or_later and c.step in MANIFESTABLE:
        to, outcome = Step.MANIFESTED, "found manifested at the carrier"
        when = bot.now().isoformat()
        leaving = MANIFESTABLE
    else:
        return False
    with bot.locked(c.id):
        moved = (
            bot.store.transition(c.id, leaving, to, manifested_at=when)
            if when
            else bot.store.transition(c.id, leaving, to)
        )
        if not moved:
            return False
    bot.store.audit(BOT, "lookup", outcome, consignment_id=c.id, detail=state.value)
    show_channel(bot, bot.store.require(c.id))
    return True
