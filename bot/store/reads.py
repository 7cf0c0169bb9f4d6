"""The store's read side: consignments, documents, the audit log and the look-ups agents run.

Read-only queries on this thread's connection (WAL: never waits for a writer). The writes,
each a guarded transaction, are in `bot/store/writes.py`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.models import (
    CANCELLED,
    IN_FLIGHT,
    MANIFESTABLE,
    Allocation,
    AuditEntry,
    ConsignmentRecord,
    Document,
    DocumentKind,
    ManifestRecord,
    Problem,
    Quote,
    ShipmentRequest,
    Step,
    UnqualifiedService,
)
from bot.store.db import Database
from bot.store.delivery import delivery_row


class StoreReads:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.path = database.path

    def _conn(self) -> sqlite3.Connection:
        return self.database.conn()

    def shipper_reference_taken(self, reference: str) -> bool:
        return self.holder_of_reference(reference) is not None

    def holder_of_reference(self, reference: str) -> int | None:
        """The consignment that already has this shipper reference (they are unique)."""
        row = (
            self._conn()
            .execute("SELECT id FROM consignments WHERE shipper_reference = ?", (reference,))
            .fetchone()
        )
        return int(row["id"]) if row is not None else None

    def get(self, consignment_id: int) -> ConsignmentRecord | None:
        conn = self._conn()
        row = conn.execute("SELECT * FROM consignments WHERE id = ?", (consignment_id,)).fetchone()
        return self._record(conn, row) if row else None

    def require(self, consignment_id: int) -> ConsignmentRecord:
        """A consignment that must exist (we hold it or just wrote it): a bug if not."""
        record = self.get(consignment_id)
        if record is None:
            raise LookupError(f"consignment {consignment_id} is not in the store")
        return record

    def find_by_reference(self, text: str) -> ConsignmentRecord | None:
        """Carrier reference, shipper reference or order number (exact, case-insensitive)."""
        conn = self._conn()
        row = conn.execute(
            """SELECT * FROM consignments WHERE carrier_reference = ? COLLATE NOCASE
            OR shipper_reference = ? COLLATE NOCASE OR order_number = ? COLLATE NOCASE
            ORDER BY id DESC LIMIT 1""",
            (text, text, text),
        ).fetchone()
        return self._record(conn, row) if row else None

    def unattended(self, steps: Collection[Step], kind: str, *, settled_for: float) -> list[int]:
        """Consignments at one of `steps`, unchanged for `settled_for` seconds, that no queued
        or running job of `kind` names: work nobody is doing (the sweep resumes it)."""
        cutoff = (datetime.now(UTC) - timedelta(seconds=settled_for)).isoformat()
        marks = ",".join("?" * len(steps))
        rows = (
            self._conn()
            .execute(
                f"""SELECT c.id FROM consignments c WHERE c.step IN ({marks})
                AND c.updated_at < ? AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = ?
                AND j.state IN ('pending', 'running')
                AND json_extract(j.payload_json, '$.cid') = c.id) ORDER BY c.id""",
                [*sorted(s.value for s in steps), cutoff, kind],
            )
            .fetchall()
        )
        return [int(r["id"]) for r in rows]

    def in_flight(self) -> list[int]:
        rows = (
            self._conn()
            .execute(
                "SELECT id FROM consignments WHERE step IN ({}) ORDER BY id".format(
                    ",".join("?" * len(IN_FLIGHT))
                ),
                sorted(s.value for s in IN_FLIGHT),
            )
            .fetchall()
        )
        return [int(r["id"]) for r in rows]

    def count_by_step(self) -> dict[Step, int]:
        """How many consignments are at each step (the metrics' gauge)."""
        rows = self._conn().execute("SELECT step, COUNT(*) AS n FROM consignments GROUP BY step")
        return {Step(r["step"]): int(r["n"]) for r in rows}

    def spend(self, since: datetime) -> list[dict[str, Any]]:
        """Labels bought since `since` (not cancelled): one row per agent, carrier, currency."""
        rows = (
            self._conn()
            .execute(
                """SELECT COALESCE(a.allocated_by, c.created_by) AS agent,
            a.carrier_name AS carrier, COALESCE(a.currency, 'GBP') AS currency, COUNT(*) AS count,
            GROUP_CONCAT(a.net, '|') AS nets, GROUP_CONCAT(a.gross, '|') AS grosses
            FROM allocations a JOIN consignments c ON c.id = a.consignment_id
            WHERE a.allocated_at >= ? AND c.step NOT IN (?, ?)
            GROUP BY agent, carrier, currency ORDER BY agent, carrier""",
                (since.astimezone(UTC).isoformat(), *sorted(s.value for s in CANCELLED)),
            )
            .fetchall()
        )
        out = []
        for r in rows:
            # Sum the stored decimal strings exactly; SQLite would sum floats.
            nets = [Decimal(v) for v in (r["nets"] or "").split("|") if v]
            grosses = [Decimal(v) for v in (r["grosses"] or "").split("|") if v]
            out.append(
                {
                    "agent": r["agent"],
                    "carrier": r["carrier"],
                    "currency": r["currency"],
                    "count": int(r["count"]),
                    "net": sum(nets, Decimal(0)),
                    "gross": sum(grosses, Decimal(0)),
                }
            )
        return out

    def documents(self, consignment_id: int, *, pending_only: bool = False) -> list[Document]:
        # A released booking's documents are kept for the audit, renamed "void-…": never
        # reprinted or uploaded again.
        sql = (
            "SELECT kind, name, content_type, data FROM documents WHERE consignment_id = ? "
            "AND name NOT LIKE 'void-%'"
        )
        if pending_only:
            sql += " AND uploaded_at IS NULL"
        rows = self._conn().execute(sql + " ORDER BY id", (consignment_id,)).fetchall()
        return [
            Document(
                kind=DocumentKind(r["kind"]),
                name=r["name"],
                content_type=r["content_type"],
                data=bytes(r["data"]),
            )
            for r in rows
        ]

    def ready_for_manifest(self) -> list[ConsignmentRecord]:
        """What a manifest may take: allocated, and its documents are in the thread.

        Not returns: the customer hands those in; `/ship manifest` is for what leaves us.
        """
        return [c for c in self.list_in(MANIFESTABLE) if c.returns is None]

    def list_in(self, steps: Collection[Step]) -> list[ConsignmentRecord]:
        """Every consignment at one of `steps`, oldest first."""
        conn = self._conn()
        marks = ",".join("?" * len(steps))
        rows = conn.execute(
            f"SELECT * FROM consignments WHERE step IN ({marks}) ORDER BY id",
            sorted(s.value for s in steps),
        ).fetchall()
        return [self._record(conn, r) for r in rows]

    def _record(self, conn: sqlite3.Connection, row: sqlite3.Row) -> ConsignmentRecord:
        cid = int(row["id"])
        quotes = tuple(
            Quote.model_validate_json(q["quote_json"])
            for q in conn.execute(
                "SELECT quote_json FROM quotes WHERE consignment_id = ? AND current = 1 "
                "ORDER BY position",
                (cid,),
            )
        )
        alloc_row = conn.execute(
            "SELECT allocation_json, allocated_at FROM allocations WHERE consignment_id = ?",
            (cid,),
        ).fetchone()
        return ConsignmentRecord(
            id=cid,
            request=ShipmentRequest.model_validate_json(row["request_json"]),
            channel_id=row["channel_id"],
            created_by=row["created_by"],
            created_at=datetime.fromisoformat(row["created_at"]),
            step=Step(row["step"]),
            message_ts=row["message_ts"],
            quotes_ts=row["quotes_ts"],
            response_url=row["response_url"],
            carrier_reference=row["carrier_reference"],
            quotes=quotes,
            unqualified=tuple(
                UnqualifiedService.model_validate(u) for u in json.loads(row["unqualified_json"])
            ),
            claimed_by=row["claimed_by"],
            claimed_quote=row["claimed_quote"],
            allocation=(
                Allocation.model_validate_json(alloc_row["allocation_json"]) if alloc_row else None
            ),
            allocated_at=_dt(alloc_row["allocated_at"]) if alloc_row else None,
            problem=Problem.model_validate_json(row["problem_json"])
            if row["problem_json"]
            else None,
            manifested_at=_dt(row["manifested_at"]),
            approval_ts=row["approval_ts"],
            allocate_deadline=row["allocate_deadline"],
            repeats=row["repeats"],
            repeats_reference=_reference_of(conn, row["repeats"]),
            returns=row["returns"],
            returns_reference=_reference_of(conn, row["returns"]),
            returns_thread_ts=_message_ts_of(conn, row["returns"]),
            replaces=_same_order(conn, row["repeats"], row["order_number"]),
            found_source=row["found_source"],
            found_at=_dt(row["found_at"]),
            released_service=row["released_service"],
            delivery=delivery_row(conn, cid),
        )

    def audit_log(self, consignment_id: int | None = None) -> list[AuditEntry]:
        sql = "SELECT * FROM audit"
        args: tuple[Any, ...] = ()
        if consignment_id is not None:
            sql += " WHERE consignment_id = ?"
            args = (consignment_id,)
        return [
            AuditEntry(
                at=datetime.fromisoformat(r["at"]),
                actor=r["actor"],
                action=r["action"],
                outcome=r["outcome"],
                consignment_id=r["consignment_id"],
                detail=r["detail"],
                correlation_id=r["correlation_id"],
            )
            for r in self._conn().execute(sql + " ORDER BY id", args)
        ]

    def draft(self, view_id: str) -> ShipmentRequest | None:
        row = (
            self._conn()
            .execute("SELECT request_json FROM drafts WHERE view_id = ?", (view_id,))
            .fetchone()
        )
        return ShipmentRequest.model_validate_json(row["request_json"]) if row else None

    def search_consignments(
        self,
        text: str,
        *,
        limit: int = 20,
        channel_id: str | None = None,
        user: str | None = None,
    ) -> tuple[list[ConsignmentRecord], int]:
        """Case-insensitive substring of order number, references, recipient or postcode.

        Newest first; (the first `limit`, how many match in all). A postcode also matches
        without its space ("sw1a2aa"). LIKE folds ASCII case only, as SQLite does.
        """
        pattern = "%" + _like_escape(text) + "%"
        compact = "%" + _like_escape("".join(text.split())) + "%"
        where = (
            "order_number LIKE :p ESCAPE '\\' OR shipper_reference LIKE :p ESCAPE '\\' "
            "OR carrier_reference LIKE :p ESCAPE '\\' OR recipient_name LIKE :p ESCAPE '\\' "
            "OR postcode LIKE :p ESCAPE '\\' OR REPLACE(postcode, ' ', '') LIKE :c ESCAPE '\\'"
        )
        if channel_id is not None:
            # Scoped: this channel's consignments and the ones this user worked on.
            where = f"({where}) AND (channel_id = :ch OR created_by = :u OR claimed_by = :u)"
        args = {"p": pattern, "c": compact, "limit": limit, "ch": channel_id, "u": user}
        conn = self._conn()
        total = int(
            conn.execute(f"SELECT COUNT(*) FROM consignments WHERE {where}", args).fetchone()[0]
        )
        rows = conn.execute(
            f"SELECT * FROM consignments WHERE {where} ORDER BY id DESC LIMIT :limit", args
        ).fetchall()
        return [self._record(conn, r) for r in rows], total

    def list_consignments(
        self,
        *,
        channel_id: str | None = None,
        since: datetime | None = None,
        steps: Sequence[Step] = (),
        exclude_steps: Sequence[Step] = (),
        limit: int = 20,
        offset: int = 0,
        involving: str | None = None,
        returns: bool | None = None,
    ) -> tuple[list[ConsignmentRecord], int]:
        """Newest first; (this page, how many match in all). `since` is compared in UTC.

        `returns`: only returns (True), none of them (False), or both (None).
        """
        clauses: list[str] = []
        args: list[Any] = []
        if returns is not None:
            clauses.append("returns IS NOT NULL" if returns else "returns IS NULL")
        if involving is not None:
            clauses.append("(created_by = ? OR claimed_by = ?)")
            args += [involving, involving]
        if channel_id is not None:
            clauses.append("channel_id = ?")
            args.append(channel_id)
        if since is not None:
            clauses.append("created_at >= ?")
            args.append(since.astimezone(UTC).isoformat())
        if steps:
            clauses.append("step IN ({})".format(",".join("?" * len(steps))))
            args += [s.value for s in steps]
        if exclude_steps:
            clauses.append("step NOT IN ({})".format(",".join("?" * len(exclude_steps))))
            args += [s.value for s in exclude_steps]
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        conn = self._conn()
        total = int(conn.execute(f"SELECT COUNT(*) FROM consignments{where}", args).fetchone()[0])
        rows = conn.execute(
            f"SELECT * FROM consignments{where} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return [self._record(conn, r) for r in rows], total

    def last_manifest(self) -> ManifestRecord | None:
        row = self._conn().execute("SELECT * FROM manifests ORDER BY id DESC LIMIT 1").fetchone()
        return _manifest_record(row) if row else None

    def manifest_of(self, consignment_id: int) -> ManifestRecord | None:
        """The manifest that took this consignment (the latest, should there be two)."""
        row = (
            self._conn()
            .execute(
                "SELECT m.* FROM manifests m, json_each(m.queued_json) q WHERE q.value = ? "
                "ORDER BY m.id DESC LIMIT 1",
                (consignment_id,),
            )
            .fetchone()
        )
        return _manifest_record(row) if row else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _like_escape(text: str) -> str:
    """People type % and _ in references; they mean the characters, not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _manifest_record(row: sqlite3.Row) -> ManifestRecord:
    return ManifestRecord(
        id=int(row["id"]),
        at=datetime.fromisoformat(row["at"]),
        requested_by=row["requested_by"],
        channel_id=row["channel_id"],
        message=row["message"],
        queued=tuple(int(i) for i in json.loads(row["queued_json"])),
        failed=tuple(str(r) for r in json.loads(row["failed_json"])),
    )


def _message_ts_of(conn: sqlite3.Connection, cid: int | None) -> str | None:
    """A consignment's channel message: the thread its returns are posted in."""
    if cid is None:
        return None
    row = conn.execute("SELECT message_ts FROM consignments WHERE id = ?", (cid,)).fetchone()
    return row["message_ts"] if row else None


def _same_order(conn: sqlite3.Connection, cid: int | None, order_number: str | None) -> bool:
    if cid is None or not order_number:
        return False
    row = conn.execute("SELECT order_number FROM consignments WHERE id = ?", (cid,)).fetchone()
    return bool(row and row["order_number"] == order_number)


def _reference_of(conn: sqlite3.Connection, cid: int | None) -> str | None:
    """What agents call a consignment (its carrier reference once there is one)."""
    if cid is None:
        return None
    row = conn.execute(
        "SELECT carrier_reference, shipper_reference FROM consignments WHERE id = ?", (cid,)
    ).fetchone()
    return (row["carrier_reference"] or row["shipper_reference"]) if row else None
