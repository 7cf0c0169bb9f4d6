"""The store's writes from quotes to label: the quotes shown, the click that claims one
(first click wins), the approval, the allocation and the documents.

A mixin of `Store` (bot/store/writes.py), whose `_move` is the one compare-and-set of the
step: every move here goes through it inside the same transaction as its rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from bot.models import TAKES_CLICKS, Allocation, Document, Price, Quote, QuoteSet, Step
from bot.store.db import now_iso


@dataclass(frozen=True)
class Claim:
    """The outcome of a click: who holds the quote now, and whether it was this click."""

    won: bool
    holder: str | None
    step: Step
    quote: Quote | None


class QuoteWrites:
    _tx: Callable[[], AbstractContextManager[sqlite3.Connection]]
    # Store._move: the step's compare-and-set inside the caller's transaction.
    _move: Callable[..., bool]

    def save_quotes(self, consignment_id: int, quote_set: QuoteSet) -> None:
        """Replace the current quotes (older ones stay, marked not current, for the audit)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE quotes SET current = 0 WHERE consignment_id = ?", (consignment_id,)
            )
            conn.executemany(
                """INSERT OR REPLACE INTO quotes (reference, consignment_id, position, current,
                expires_at, gross, carrier_code, service_name, quote_json)
                VALUES (?,?,?,1,?,?,?,?,?)""",
                [
                    (
                        q.reference,
                        consignment_id,
                        i,
                        q.expires_at.isoformat(),
                        str(q.price.gross),
                        q.carrier_code,
                        q.service_name,
                        q.model_dump_json(),
                    )
                    for i, q in enumerate(quote_set.quotes)
                ],
            )
            conn.execute(
                """UPDATE consignments SET quote_request_reference = ?, unqualified_json = ?,
                claimed_by = NULL, claimed_quote = NULL, claimed_at = NULL, updated_at = ?
                WHERE id = ?""",
                (
                    quote_set.request_reference,
                    json.dumps([u.model_dump(mode="json") for u in quote_set.unqualified]),
                    now_iso(),
                    consignment_id,
                ),
            )

    def claim_quote(
        self,
        consignment_id: int,
        quote_reference: str,
        user: str,
        *,
        to: Step,
        leaving: Collection[Step] = TAKES_CLICKS,
    ) -> Claim:
        """First click wins: one IMMEDIATE transaction reads the quote and moves the step.

        `to` is CLAIMED, or AWAITING_APPROVAL when the caller's policy says so, or
        RELEASING for a "Ship with another service" (leaving REQUOTED).
        """
        with self._tx() as conn:
            row = conn.execute(
                "SELECT step, claimed_by FROM consignments WHERE id = ?", (consignment_id,)
            ).fetchone()
            if row is None:
                return Claim(False, None, Step.FAILED, None)
            qrow = conn.execute(
                "SELECT quote_json FROM quotes WHERE reference = ? AND consignment_id = ? "
                "AND current = 1",
                (quote_reference, consignment_id),
            ).fetchone()
            quote = Quote.model_validate_json(qrow["quote_json"]) if qrow else None
            if quote is None or not self._move(
                conn,
                consignment_id,
                leaving,
                to,
                claimed_by=user,
                claimed_quote=quote_reference,
                claimed_at=now_iso(),
            ):
                return Claim(False, row["claimed_by"], Step(row["step"]), quote)
            return Claim(True, user, to, quote)

    def decide_approval(self, consignment_id: int, to: Step) -> bool:
        """Exactly one decision per claim: CLAIMED (approved), or released to QUOTED/EXPIRED."""
        with self._tx() as conn:
            if to is Step.CLAIMED:
                return self._move(conn, consignment_id, {Step.AWAITING_APPROVAL}, to)
            return self._move(
                conn,
                consignment_id,
                {Step.AWAITING_APPROVAL},
                to,
                claimed_by=None,
                claimed_quote=None,
            )

    def save_allocation(
        self,
        consignment_id: int,
        allocation: Allocation,
        *,
        leaving: Collection[Step],
        price: Price | None,
        quote_reference: str | None,
        user: str | None,
    ) -> bool:
        """What the carrier allocated, and the move to ALLOCATED, in one transaction."""
        with self._tx() as conn:
            if not self._move(conn, consignment_id, leaving, Step.ALLOCATED, released_service=None):
                return False
            insert_allocation(conn, consignment_id, allocation, price, quote_reference, user)
            return True

    def save_documents(self, consignment_id: int, documents: Sequence[Document]) -> None:
        with self._tx() as conn:
            conn.executemany(
                """INSERT INTO documents (consignment_id, kind, name, content_type, data, saved_at)
                VALUES (?,?,?,?,?,?) ON CONFLICT (consignment_id, name) DO UPDATE SET
                data = excluded.data, content_type = excluded.content_type,
                saved_at = excluded.saved_at""",
                [
                    (consignment_id, d.kind.value, d.name, d.content_type, d.data, now_iso())
                    for d in documents
                ],
            )

    def mark_uploaded(self, consignment_id: int, name: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE documents SET uploaded_at = ? WHERE consignment_id = ? AND name = ?",
                (now_iso(), consignment_id, name),
            )


def insert_allocation(
    conn: sqlite3.Connection,
    cid: int,
    allocation: Allocation,
    price: Price | None,
    quote_reference: str | None,
    user: str | None,
) -> None:
    conn.execute(
        """INSERT OR REPLACE INTO allocations (consignment_id, quote_reference,
        carrier_code, carrier_name, service_name, tracking_json, net, gross, currency,
        allocated_by, allocated_at, allocation_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
        (
            cid,
            quote_reference,
            allocation.carrier_code,
            allocation.carrier_name,
            allocation.service_name,
            json.dumps(list(allocation.tracking_numbers)),
            str(price.net) if price else None,
            str(price.gross) if price else None,
            price.currency if price else None,
            user,
            now_iso(),
            allocation.model_dump_json(),
        ),
    )
