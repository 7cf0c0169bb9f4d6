"""The consignment repository: every conversation's state, its documents and the audit log.

With `bot/store/db.py` (connections, schema) and the job queue in `bot/store/jobs.py`, the only
code that knows SQL. A consignment's step changes only through `transition` (compare-and-set in one
`BEGIN IMMEDIATE` transaction), so exactly one click, cancel or manifest wins.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import lifecycle
from bot.models import (
    TAKES_CLICKS,
    Allocation,
    Document,
    Price,
    Problem,
    Quote,
    QuoteSet,
    ShipmentRequest,
    Step,
)
from bot.store.db import Database, now_iso
from bot.store.delivery import DeliveryRecords
from bot.store.reads import StoreReads


@dataclass(frozen=True)
class Claim:
    """The outcome of a click: who holds the quote now, and whether it was this click."""

    won: bool
    holder: str | None
    step: Step
    quote: Quote | None


class ReferenceTaken(Exception):
    """A new form names a shipper reference another consignment already has."""

    def __init__(self, holder: int) -> None:
        super().__init__(f"shipper reference taken by consignment {holder}")
        self.holder = holder


class Store(DeliveryRecords, StoreReads):
    """The consignment repository: each conversation's state, its documents and audit.

    The writes are here, each one transaction; the reads are in `bot/store/reads.py`.
    """

    def __init__(self, path: str | Path | Database, *, busy_timeout: float | None = None) -> None:
        if not isinstance(path, Database):
            path = (
                Database(path)
                if busy_timeout is None
                else Database(path, busy_timeout=busy_timeout)
            )
        super().__init__(path)
        self._tx = self.database.tx

    def close(self) -> None:
        self.database.close()

    def journal_mode(self) -> str:
        return self.database.journal_mode()

    def add_consignment(
        self,
        request: ShipmentRequest,
        *,
        channel_id: str,
        created_by: str,
        response_url: str | None,
        view_id: str | None,
        repeats: int | None = None,
        returns: int | None = None,
    ) -> tuple[int, bool]:
        """Store the form; (id, created). The same view submitted twice gives the first id
        (a replay); another form with a reference already in use raises ReferenceTaken.

        `repeats`: the consignment a "Ship again" form copied, named in the new one's thread.
        `returns`: the consignment a return sends back; the return lives in its thread.
        """
        now = now_iso()
        with self._tx() as conn:
            if view_id:
                row = conn.execute(
                    "SELECT id FROM consignments WHERE view_id = ?", (view_id,)
                ).fetchone()
                if row:
                    return int(row["id"]), False
            row = conn.execute(
                "SELECT id FROM consignments WHERE shipper_reference = ?",
                (request.shipper_reference,),
            ).fetchone()
            if row:
                raise ReferenceTaken(int(row["id"]))
            cur = conn.execute(
                """INSERT INTO consignments (view_id, shipper_reference, order_number,
                recipient_name, postcode, country, channel_id, response_url, created_by,
                created_at, updated_at, step, request_json, repeats, returns)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    view_id,
                    request.shipper_reference,
                    request.order_number,
                    request.recipient.name,
                    request.recipient.postcode,
                    request.recipient.country,
                    channel_id,
                    response_url,
                    created_by,
                    now,
                    now,
                    Step.NEW.value,
                    request.model_dump_json(),
                    repeats,
                    returns,
                ),
            )
            cid = int(cur.lastrowid or 0)
            _insert_parcels(conn, cid, request)
            return cid, True

    def adopt(
        self,
        request: ShipmentRequest,
        *,
        carrier_reference: str,
        step: Step,
        channel_id: str,
        user: str,
        source: str | None,
        made_at: datetime | None,
        allocation: Allocation | None = None,
        price: Price | None = None,
    ) -> tuple[int, bool]:
        """Take over a consignment found at Sorted PRO: (id, created). One row per carrier
        reference, so two agents at once get the same id and only the first `created`."""
        now = now_iso()
        with self._tx() as conn:
            row = conn.execute(
                "SELECT id FROM consignments WHERE carrier_reference = ? COLLATE NOCASE",
                (carrier_reference,),
            ).fetchone()
            if row:
                return int(row["id"]), False
            shipper_reference = request.shipper_reference
            if conn.execute(
                "SELECT 1 FROM consignments WHERE shipper_reference = ?", (shipper_reference,)
            ).fetchone():
                shipper_reference = f"{shipper_reference}-{carrier_reference}"
                request = request.model_copy(update={"shipper_reference": shipper_reference})
            cur = conn.execute(
                """INSERT INTO consignments (shipper_reference, order_number, carrier_reference,
                recipient_name, postcode, country, channel_id, created_by, created_at,
                updated_at, step, request_json, found_source, found_at, manifested_at)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    shipper_reference,
                    request.order_number,
                    carrier_reference,
                    request.recipient.name,
                    request.recipient.postcode,
                    request.recipient.country,
                    channel_id,
                    user,
                    now,
                    now,
                    step.value,
                    request.model_dump_json(),
                    source,
                    made_at.isoformat() if made_at else None,
                    # The carrier has its data already (we don't know since when).
                    now if step is Step.MANIFESTED else None,
                ),
            )
            cid = int(cur.lastrowid or 0)
            _insert_parcels(conn, cid, request)
            if allocation is not None:
                _insert_allocation(conn, cid, allocation, price, None, None)
            return cid, True

    def release_booking(self, consignment_id: int, service: str) -> bool:
        """The carrier confirmed the deallocation: RELEASING -> CLAIMED (the chosen quote is
        allocated next), the old allocation and documents void, and the old service kept
        so a failure can say the booking is gone."""
        with self._tx() as conn:
            if not self._move(
                conn, consignment_id, {Step.RELEASING}, Step.CLAIMED, released_service=service
            ):
                return False
            conn.execute("DELETE FROM allocations WHERE consignment_id = ?", (consignment_id,))
            conn.execute(
                "UPDATE documents SET name = 'void-' || id || '-' || name "
                "WHERE consignment_id = ? AND name NOT LIKE 'void-%'",
                (consignment_id,),
            )
            return True

    def start_fix(
        self, consignment_id: int, request: ShipmentRequest, leaving: Collection[Step]
    ) -> bool:
        """ "Fix the address": the agent's destination recorded and the move to UPDATING in one
        transaction (UPDATING sends it to Sorted PRO and reads it back)."""
        with self._tx() as conn:
            if not self._move(conn, consignment_id, leaving, Step.UPDATING):
                return False
            _set_request(conn, consignment_id, request)
            return True

    def void_booking(self, consignment_id: int, service: str) -> None:
        """Sorted PRO confirmed a deallocation while UPDATING: the old allocation and its
        documents are void; the old service is kept so a failure can say it was released."""
        with self._tx() as conn:
            conn.execute("DELETE FROM allocations WHERE consignment_id = ?", (consignment_id,))
            conn.execute(
                "UPDATE documents SET name = 'void-' || id || '-' || name "
                "WHERE consignment_id = ? AND name NOT LIKE 'void-%'",
                (consignment_id,),
            )
            conn.execute(
                "UPDATE consignments SET released_service = ?, updated_at = ? WHERE id = ?",
                (service, now_iso(), consignment_id),
            )

    def replace_request(self, consignment_id: int, request: ShipmentRequest) -> bool:
        """A corrected form for a consignment the carrier refused (FAILED before creation)."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT carrier_reference FROM consignments WHERE id = ?", (consignment_id,)
            ).fetchone()
            if row is None or row["carrier_reference"]:
                return False
            clash = conn.execute(
                "SELECT 1 FROM consignments WHERE shipper_reference = ? AND id != ?",
                (request.shipper_reference, consignment_id),
            ).fetchone()
            if clash or not self._move(conn, consignment_id, {Step.FAILED}, Step.CREATING):
                return False
            conn.execute(
                """UPDATE consignments SET request_json = ?, shipper_reference = ?,
                order_number = ?, recipient_name = ?, postcode = ?, country = ? WHERE id = ?""",
                (
                    request.model_dump_json(),
                    request.shipper_reference,
                    request.order_number,
                    request.recipient.name,
                    request.recipient.postcode,
                    request.recipient.country,
                    consignment_id,
                ),
            )
            conn.execute("DELETE FROM parcels WHERE consignment_id = ?", (consignment_id,))
            _insert_parcels(conn, consignment_id, request)
            return True

    def transition(
        self,
        consignment_id: int,
        leaving: Collection[Step],
        to: Step,
        *,
        problem: Problem | None = None,
        **fields: Any,
    ) -> bool:
        """The one way a step changes: from one of `leaving` to `to`, atomically, or not at all.

        False when the consignment was elsewhere (another click, a cancel or a manifest got
        there first): the caller reads it again and says what really happened.
        """
        with self._tx() as conn:
            return self._move(conn, consignment_id, leaving, to, problem=problem, **fields)

    def _move(
        self,
        conn: sqlite3.Connection,
        consignment_id: int,
        leaving: Collection[Step],
        to: Step,
        *,
        problem: Problem | None = None,
        **fields: Any,
    ) -> bool:
        """Compare-and-set of the step inside the caller's transaction: the only UPDATE of it.

        Every step in `leaving` must have its move to `to` in bot/lifecycle.py, or this raises
        `IllegalMove` whatever the consignment's step is now.
        """
        lifecycle.check(leaving, to)
        unknown = set(fields) - _MOVE_FIELDS
        if unknown:
            raise ValueError(f"unknown consignment fields: {sorted(unknown)}")
        row = conn.execute(
            "SELECT step FROM consignments WHERE id = ?", (consignment_id,)
        ).fetchone()
        if row is None or Step(row["step"]) not in leaving:
            return False
        source = Step(row["step"])
        sets = ["step = ?", "updated_at = ?", "problem_json = ?"]
        args: list[Any] = [to.value, now_iso(), problem.model_dump_json() if problem else None]
        for name, value in fields.items():
            sets.append(f"{name} = ?")
            args.append(value)
        sql = f"UPDATE consignments SET {', '.join(sets)} WHERE id = ? AND step IN (?)"
        conn.execute(sql, [*args, consignment_id, source.value])
        lifecycle.moved(source, to)
        return True

    def update_fields(self, consignment_id: int, **fields: Any) -> None:
        allowed = {"message_ts", "quotes_ts", "response_url", "channel_id", "approval_ts"}
        if set(fields) - allowed:
            raise ValueError(f"unknown consignment fields: {sorted(set(fields) - allowed)}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._tx() as conn:
            conn.execute(
                f"UPDATE consignments SET {sets}, updated_at = ? WHERE id = ?",
                [*fields.values(), now_iso(), consignment_id],
            )

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
            _insert_allocation(conn, consignment_id, allocation, price, quote_reference, user)
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

    def mark_manifested(self, consignment_id: int) -> None:
        """The carrier manifested it while its label was still on its way: the flow records
        the step once the upload is done."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE consignments SET manifested_at = ?, updated_at = ? WHERE id = ?",
                (now_iso(), now_iso(), consignment_id),
            )

    def record_manifest(
        self,
        *,
        requested_by: str,
        channel_id: str,
        message: str,
        queued: Sequence[int],
        failed: Sequence[str],
        leaving: Collection[Step],
    ) -> list[int]:
        """The manifest as the carrier confirmed it; returns the consignments moved by it."""
        now = now_iso()
        with self._tx() as conn:
            moved = [
                cid
                for cid in queued
                if self._move(conn, cid, leaving, Step.MANIFESTED, manifested_at=now)
            ]
            conn.execute(
                "INSERT INTO manifests (at, requested_by, channel_id, message, queued_json, "
                "failed_json) VALUES (?,?,?,?,?,?)",
                (
                    now,
                    requested_by,
                    channel_id,
                    message,
                    json.dumps(moved),
                    json.dumps(list(failed)),
                ),
            )
            return moved

    def audit(
        self,
        actor: str,
        action: str,
        outcome: str,
        *,
        consignment_id: int | None = None,
        detail: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        # One autocommit INSERT, queued with the transactions. (sqlite-utils' insert ran six
        # statements, two of them scans of sqlite_master: each one a GIL hand-off while the
        # write lock is held, so every click's ack waited longer behind it.)
        self.database.execute_write(
            "INSERT INTO audit (at, consignment_id, actor, action, outcome, detail, "
            "correlation_id) VALUES (?,?,?,?,?,?,?)",
            (now_iso(), consignment_id, actor, action, outcome, detail, correlation_id),
        )

    def save_draft(self, view_id: str, request: ShipmentRequest) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO drafts (view_id, request_json, saved_at) VALUES (?,?,?)",
                (view_id, request.model_dump_json(), now_iso()),
            )

    def drop_draft(self, view_id: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM drafts WHERE view_id = ?", (view_id,))

    def first_sighting(self, event_id: str) -> bool:
        """True once per Events API event_id; retries of the same event get False."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO seen_events (event_id, at) VALUES (?, ?)",
                (event_id, now_iso()),
            )
            return cur.rowcount == 1


_MOVE_FIELDS = frozenset(
    {
        "message_ts",
        "quotes_ts",
        "carrier_reference",
        "claimed_by",
        "claimed_quote",
        "claimed_at",
        "manifested_at",
        "response_url",
        "channel_id",
        "approval_ts",
        "allocate_deadline",
        "released_service",
    }
)


def _set_request(conn: sqlite3.Connection, cid: int, request: ShipmentRequest) -> None:
    conn.execute(
        """UPDATE consignments SET request_json = ?, recipient_name = ?, postcode = ?,
        country = ? WHERE id = ?""",
        (
            request.model_dump_json(),
            request.recipient.name,
            request.recipient.postcode,
            request.recipient.country,
            cid,
        ),
    )


def _insert_allocation(
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


def _insert_parcels(conn: sqlite3.Connection, cid: int, request: ShipmentRequest) -> None:
    p = request.parcel
    conn.executemany(
        "INSERT INTO parcels (consignment_id, position, weight_kg, length_cm, "
        "width_cm, height_cm) VALUES (?,?,?,?,?,?)",
        [
            (cid, i, str(p.weight_kg), str(p.length_cm), str(p.width_cm), str(p.height_cm))
            for i in range(request.parcel_count)
        ],
    )
