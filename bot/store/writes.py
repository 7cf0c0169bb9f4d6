"""The consignment repository: every conversation's state, its documents and the audit log.

With `bot/store/db.py` (connections, schema) and the job queue in `bot/store/jobs.py`, the only
code that knows SQL. A consignment's step changes only through `transition` (compare-and-set in one
`BEGIN IMMEDIATE` transaction), so exactly one click, cancel or manifest wins.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import lifecycle
from bot.models import (
    Allocation,
    Price,
    Problem,
    ShipmentRequest,
    Step,
)
from bot.store.db import Database, now_iso
from bot.store.delivery import DeliveryRecords
from bot.store.quote_writes import QuoteWrites, insert_allocation
from bot.store.reads import StoreReads


class ReferenceTaken(Exception):
    """A new form names a shipper reference another consignment already has."""

    def __init__(self, holder: int) -> None:
        super().__init__(f"shipper reference taken by consignment {holder}")
        self.holder = holder


class Store(QuoteWrites, DeliveryRecords, StoreReads):
    """The consignment repository: each conversation's state, its documents and audit.

    The writes are here, each one transaction (a quote's, its claim's and its label's in
    `bot/store/quote_writes.py`); the reads are in `bot/store/reads.py`.
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
            cid = _insert_consignment(
                conn,
                request,
                Step.NEW,
                now,
                channel_id,
                created_by,
                view_id=view_id,
                response_url=response_url,
                repeats=repeats,
                returns=returns,
            )
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
            cid = _insert_consignment(
                conn,
                request,
                step,
                now,
                channel_id,
                user,
                carrier_reference=carrier_reference,
                found_source=source,
                found_at=made_at.isoformat() if made_at else None,
                # The carrier has its data already (we don't know since when).
                manifested_at=now if step is Step.MANIFESTED else None,
            )
            if allocation is not None:
                insert_allocation(conn, cid, allocation, price, None, None)
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


def _insert_consignment(
    conn: sqlite3.Connection,
    request: ShipmentRequest,
    step: Step,
    now: str,
    channel_id: str,
    created_by: str,
    **columns: Any,
) -> int:
    """A new consignment's row (what every one has, then the caller's `columns`) and its
    parcels: the one INSERT of both, for the form and for a take-over. Its id."""
    row: dict[str, Any] = {
        "shipper_reference": request.shipper_reference,
        "order_number": request.order_number,
        "recipient_name": request.recipient.name,
        "postcode": request.recipient.postcode,
        "country": request.recipient.country,
        "channel_id": channel_id,
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
        "step": step.value,
        "request_json": request.model_dump_json(),
        **columns,
    }
    cur = conn.execute(
        f"INSERT INTO consignments ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        tuple(row.values()),
    )
    cid = int(cur.lastrowid or 0)
    _insert_parcels(conn, cid, request)
    return cid


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
