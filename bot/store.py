"""The SQLite store: every conversation's state, the job queue and the audit log.

The only module that knows SQL. One connection per thread (sqlite3 connections are not
shared across threads), WAL so readers never wait for the writer, and `BEGIN IMMEDIATE`
for the claim so that exactly one click wins.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.models import (
    IN_FLIGHT_STEPS,
    Allocation,
    AuditEntry,
    ConsignmentRecord,
    Document,
    DocumentKind,
    ManifestRecord,
    Problem,
    Quote,
    QuoteSet,
    ShipmentRequest,
    Step,
    UnqualifiedService,
)

BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS consignments (
    id INTEGER PRIMARY KEY,
    view_id TEXT UNIQUE,
    shipper_reference TEXT NOT NULL UNIQUE,
    order_number TEXT,
    carrier_reference TEXT UNIQUE,
    recipient_name TEXT NOT NULL,
    postcode TEXT NOT NULL,
    country TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    message_ts TEXT,
    quotes_ts TEXT,
    response_url TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    step TEXT NOT NULL,
    request_json TEXT NOT NULL,
    quote_request_reference TEXT,
    unqualified_json TEXT NOT NULL DEFAULT '[]',
    claimed_by TEXT,
    claimed_quote TEXT,
    claimed_at TEXT,
    problem_json TEXT,
    manifested_at TEXT,
    approval_ts TEXT
);
CREATE INDEX IF NOT EXISTS consignments_step ON consignments(step);
CREATE INDEX IF NOT EXISTS consignments_channel ON consignments(channel_id, created_at);
CREATE TABLE IF NOT EXISTS parcels (
    id INTEGER PRIMARY KEY,
    consignment_id INTEGER NOT NULL REFERENCES consignments(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    weight_kg TEXT NOT NULL,
    length_cm TEXT NOT NULL,
    width_cm TEXT NOT NULL,
    height_cm TEXT NOT NULL,
    UNIQUE (consignment_id, position)
);
CREATE TABLE IF NOT EXISTS quotes (
    reference TEXT PRIMARY KEY,
    consignment_id INTEGER NOT NULL REFERENCES consignments(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    current INTEGER NOT NULL DEFAULT 1,
    expires_at TEXT NOT NULL,
    gross TEXT NOT NULL,
    carrier_code TEXT NOT NULL,
    service_name TEXT NOT NULL,
    quote_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quotes_consignment ON quotes(consignment_id, current);
CREATE TABLE IF NOT EXISTS allocations (
    consignment_id INTEGER PRIMARY KEY REFERENCES consignments(id) ON DELETE CASCADE,
    quote_reference TEXT,
    carrier_code TEXT NOT NULL,
    carrier_name TEXT NOT NULL,
    service_name TEXT NOT NULL,
    tracking_json TEXT NOT NULL,
    net TEXT,
    gross TEXT,
    currency TEXT,
    allocated_by TEXT,
    allocated_at TEXT NOT NULL,
    allocation_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    consignment_id INTEGER NOT NULL REFERENCES consignments(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data BLOB NOT NULL,
    saved_at TEXT NOT NULL,
    uploaded_at TEXT,
    UNIQUE (consignment_id, name)
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    payload_json TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after REAL NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, run_after);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    consignment_id INTEGER REFERENCES consignments(id) ON DELETE SET NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT,
    correlation_id TEXT
);
CREATE INDEX IF NOT EXISTS audit_consignment ON audit(consignment_id, id);
CREATE TABLE IF NOT EXISTS manifests (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    message TEXT NOT NULL,
    queued_json TEXT NOT NULL,
    failed_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_events (
    event_id TEXT PRIMARY KEY,
    at TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Claim:
    """The outcome of a click: who holds the quote now, and whether it was this click."""

    won: bool
    holder: str | None
    step: Step
    quote: Quote | None


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


class _Lease:
    """A thread's connection. The HTTP server starts a thread per request: when that thread
    ends its locals go, and the connection goes back to the idle list instead of staying
    open (one leaked connection per request: 2 fds and ~150 KB each)."""

    def __init__(self, conn: sqlite3.Connection, idle: list[sqlite3.Connection]) -> None:
        self.conn = conn
        self._idle = idle

    def __del__(self) -> None:
        self._idle.append(self.conn)


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Writers queue here rather than in SQLite's busy handler, which sleeps 1, 2, 5, 10 ...
        # 100 ms between tries: under contention a click's ack waited hundreds of ms.
        self._write = threading.RLock()
        # executescript manages its own transaction; the statements are idempotent.
        self._conn().executescript(_SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A database made by an earlier version gains the columns added since."""
        table = self.db.table("consignments")
        if "approval_ts" not in table.columns_dict:
            table.add_column("approval_ts", str)

    # -- connections --------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        lease: _Lease | None = getattr(self._local, "lease", None)
        if lease is not None:
            return lease.conn
        try:
            conn: sqlite3.Connection | None = self._idle.pop()
        except IndexError:
            conn = None
        if conn is None:
            # isolation_level=None: we issue BEGIN ourselves, so each transaction is explicit.
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            with self._lock:
                self._all.append(conn)
        self._local.lease = _Lease(conn, self._idle)
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over this thread's connection, for simple inserts and lookups."""
        return sqlite_utils.Database(self._conn())

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        with self._write:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with suppress(sqlite3.ProgrammingError):
                    conn.close()
            self._all.clear()
        self._local = threading.local()
        self._idle = []  # leases still alive return their closed connections to the old list

    def journal_mode(self) -> str:
        return str(self._conn().execute("PRAGMA journal_mode").fetchone()[0])

    # -- consignments -------------------------------------------------------------
    def add_consignment(
        self,
        request: ShipmentRequest,
        *,
        channel_id: str,
        created_by: str,
        response_url: str | None,
        view_id: str | None,
    ) -> tuple[int, bool]:
        """Store the form; (id, created). The same view submitted twice gives the first id."""
        now = _now()
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
                return int(row["id"]), False
            cur = conn.execute(
                """INSERT INTO consignments (view_id, shipper_reference, order_number,
                recipient_name, postcode, country, channel_id, response_url, created_by,
                created_at, updated_at, step, request_json)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
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
                ),
            )
            cid = int(cur.lastrowid or 0)
            p = request.parcel
            conn.executemany(
                "INSERT INTO parcels (consignment_id, position, weight_kg, length_cm, "
                "width_cm, height_cm) VALUES (?,?,?,?,?,?)",
                [
                    (cid, i, str(p.weight_kg), str(p.length_cm), str(p.width_cm), str(p.height_cm))
                    for i in range(request.parcel_count)
                ],
            )
            return cid, True

    def replace_request(self, consignment_id: int, request: ShipmentRequest) -> bool:
        """A corrected form for a consignment the carrier refused (FAILED before creation)."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT step, carrier_reference FROM consignments WHERE id = ?", (consignment_id,)
            ).fetchone()
            if row is None or row["step"] != Step.FAILED.value or row["carrier_reference"]:
                return False
            clash = conn.execute(
                "SELECT 1 FROM consignments WHERE shipper_reference = ? AND id != ?",
                (request.shipper_reference, consignment_id),
            ).fetchone()
            if clash:
                return False
            conn.execute(
                """UPDATE consignments SET request_json = ?, shipper_reference = ?,
                order_number = ?, recipient_name = ?, postcode = ?, country = ?, step = ?,
                problem_json = NULL, updated_at = ? WHERE id = ?""",
                (
                    request.model_dump_json(),
                    request.shipper_reference,
                    request.order_number,
                    request.recipient.name,
                    request.recipient.postcode,
                    request.recipient.country,
                    Step.CREATING.value,
                    _now(),
                    consignment_id,
                ),
            )
            conn.execute("DELETE FROM parcels WHERE consignment_id = ?", (consignment_id,))
            p = request.parcel
            conn.executemany(
                "INSERT INTO parcels (consignment_id, position, weight_kg, length_cm, "
                "width_cm, height_cm) VALUES (?,?,?,?,?,?)",
                [
                    (
                        consignment_id,
                        i,
                        str(p.weight_kg),
                        str(p.length_cm),
                        str(p.width_cm),
                        str(p.height_cm),
                    )
                    for i in range(request.parcel_count)
                ],
            )
            return True

    def shipper_reference_taken(self, reference: str) -> bool:
        row = (
            self._conn()
            .execute("SELECT 1 FROM consignments WHERE shipper_reference = ?", (reference,))
            .fetchone()
        )
        return row is not None

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

    def in_flight(self) -> list[int]:
        rows = (
            self._conn()
            .execute(
                "SELECT id FROM consignments WHERE step IN ({}) ORDER BY id".format(
                    ",".join("?" * len(_IN_FLIGHT))
                ),
                _IN_FLIGHT,
            )
            .fetchall()
        )
        return [int(r["id"]) for r in rows]

    def set_step(
        self,
        consignment_id: int,
        step: Step,
        *,
        expect: Sequence[Step] | None = None,
        problem: Problem | None = None,
        **fields: Any,
    ) -> bool:
        """Move to `step` (only from one of `expect`, if given); False if it was elsewhere."""
        allowed = {
            "message_ts",
            "quotes_ts",
            "carrier_reference",
            "claimed_by",
            "claimed_quote",
            "manifested_at",
            "response_url",
            "channel_id",
            "approval_ts",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown consignment fields: {sorted(unknown)}")
        sets = ["step = ?", "updated_at = ?", "problem_json = ?"]
        args: list[Any] = [step.value, _now(), problem.model_dump_json() if problem else None]
        for name, value in fields.items():
            sets.append(f"{name} = ?")
            args.append(value)
        sql = f"UPDATE consignments SET {', '.join(sets)} WHERE id = ?"
        args.append(consignment_id)
        if expect is not None:
            sql += " AND step IN ({})".format(",".join("?" * len(expect)))
            args += [s.value for s in expect]
        with self._tx() as conn:
            return conn.execute(sql, args).rowcount == 1

    def update_fields(self, consignment_id: int, **fields: Any) -> None:
        allowed = {"message_ts", "quotes_ts", "response_url", "channel_id", "approval_ts"}
        if set(fields) - allowed:
            raise ValueError(f"unknown consignment fields: {sorted(set(fields) - allowed)}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._tx() as conn:
            conn.execute(
                f"UPDATE consignments SET {sets}, updated_at = ? WHERE id = ?",
                [*fields.values(), _now(), consignment_id],
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
                    _now(),
                    consignment_id,
                ),
            )

    def claim_quote(
        self,
        consignment_id: int,
        quote_reference: str,
        user: str,
        *,
        approval_above: Decimal | None = None,
    ) -> Claim:
        """First click wins: one IMMEDIATE transaction reads and moves the step.

        A quote dearer than `approval_above` is claimed as awaiting approval instead.
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
            step = Step(row["step"])
            # QUOTING too: the buttons are posted just before the step is stored as QUOTED.
            if step not in (Step.QUOTED, Step.QUOTING) or quote is None:
                return Claim(False, row["claimed_by"], step, quote)
            needs_approval = approval_above is not None and quote.price.gross > approval_above
            claimed = Step.AWAITING_APPROVAL if needs_approval else Step.CLAIMED
            conn.execute(
                """UPDATE consignments SET step = ?, claimed_by = ?, claimed_quote = ?,
                claimed_at = ?, updated_at = ?, problem_json = NULL WHERE id = ?""",
                (claimed.value, user, quote_reference, _now(), _now(), consignment_id),
            )
            return Claim(True, user, claimed, quote)

    def decide_approval(self, consignment_id: int, *, approve: bool, expired: bool) -> bool:
        """Exactly one decision per claim: approve -> claimed; decline/expired -> released."""
        released = Step.EXPIRED if expired else Step.QUOTED
        target = Step.CLAIMED if approve else released
        with self._tx() as conn:
            cur = conn.execute(
                """UPDATE consignments SET step = ?, updated_at = ?,
                claimed_by = CASE WHEN ? THEN claimed_by END,
                claimed_quote = CASE WHEN ? THEN claimed_quote END
                WHERE id = ? AND step = ?""",
                (
                    target.value,
                    _now(),
                    approve,
                    approve,
                    consignment_id,
                    Step.AWAITING_APPROVAL.value,
                ),
            )
            return cur.rowcount == 1

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
                (since.astimezone(UTC).isoformat(), Step.CANCELLED.value, Step.CANCELLING.value),
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

    def save_allocation(
        self, consignment_id: int, allocation: Allocation, quote: Quote | None, user: str | None
    ) -> None:
        with self._tx() as conn:
            conn.execute(
                """INSERT OR REPLACE INTO allocations (consignment_id, quote_reference,
                carrier_code, carrier_name, service_name, tracking_json, net, gross, currency,
                allocated_by, allocated_at, allocation_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    consignment_id,
                    quote.reference if quote else None,
                    allocation.carrier_code,
                    allocation.carrier_name,
                    allocation.service_name,
                    json.dumps(list(allocation.tracking_numbers)),
                    str(quote.price.net) if quote else None,
                    str(quote.price.gross) if quote else None,
                    quote.price.currency if quote else None,
                    user,
                    _now(),
                    allocation.model_dump_json(),
                ),
            )
            conn.execute(
                "UPDATE consignments SET step = ?, problem_json = NULL, updated_at = ? "
                "WHERE id = ?",
                (Step.ALLOCATED.value, _now(), consignment_id),
            )

    def save_documents(self, consignment_id: int, documents: Sequence[Document]) -> None:
        with self._tx() as conn:
            conn.executemany(
                """INSERT INTO documents (consignment_id, kind, name, content_type, data, saved_at)
                VALUES (?,?,?,?,?,?) ON CONFLICT (consignment_id, name) DO UPDATE SET
                data = excluded.data, content_type = excluded.content_type,
                saved_at = excluded.saved_at""",
                [
                    (consignment_id, d.kind.value, d.name, d.content_type, d.data, _now())
                    for d in documents
                ],
            )

    def documents(self, consignment_id: int, *, pending_only: bool = False) -> list[Document]:
        sql = "SELECT kind, name, content_type, data FROM documents WHERE consignment_id = ?"
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

    def mark_uploaded(self, consignment_id: int, name: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE documents SET uploaded_at = ? WHERE consignment_id = ? AND name = ?",
                (_now(), consignment_id, name),
            )

    def allocated_for_manifest(self, channel_id: str | None = None) -> list[ConsignmentRecord]:
        """What we hold as allocated (label bought) and not yet manifested."""
        conn = self._conn()
        sql = "SELECT * FROM consignments WHERE step IN (?, ?, ?)"
        args: list[Any] = [Step.ALLOCATED.value, Step.LABEL_SAVED.value, Step.UPLOADED.value]
        if channel_id:
            sql += " AND channel_id = ?"
            args.append(channel_id)
        rows = conn.execute(sql + " ORDER BY id", args).fetchall()
        return [self._record(conn, r) for r in rows]

    def record_manifest(
        self,
        *,
        requested_by: str,
        channel_id: str,
        message: str,
        queued: Sequence[int],
        failed: Sequence[str],
    ) -> int:
        now = _now()
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO manifests (at, requested_by, channel_id, message, queued_json, "
                "failed_json) VALUES (?,?,?,?,?,?)",
                (
                    now,
                    requested_by,
                    channel_id,
                    message,
                    json.dumps(list(queued)),
                    json.dumps(list(failed)),
                ),
            )
            if queued:
                conn.execute(
                    "UPDATE consignments SET step = ?, manifested_at = ?, updated_at = ? "
                    "WHERE id IN ({})".format(",".join("?" * len(queued))),
                    [Step.MANIFESTED.value, now, now, *queued],
                )
            return int(cur.lastrowid or 0)

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
        )

    # -- audit --------------------------------------------------------------------
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
        with self._write:
            self._conn().execute(
                "INSERT INTO audit (at, consignment_id, actor, action, outcome, detail, "
                "correlation_id) VALUES (?,?,?,?,?,?,?)",
                (_now(), consignment_id, actor, action, outcome, detail, correlation_id),
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

    # -- events -------------------------------------------------------------------
    def first_sighting(self, event_id: str) -> bool:
        """True once per Events API event_id; retries of the same event get False."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO seen_events (event_id, at) VALUES (?, ?)",
                (event_id, _now()),
            )
            return cur.rowcount == 1

    # -- jobs ---------------------------------------------------------------------
    def add_job(
        self, kind: str, payload: dict[str, Any], *, run_after: float, dedupe_key: str | None
    ) -> int | None:
        """Queue a job; None when a pending job with the same key already exists."""
        now = _now()
        with self._tx() as conn:
            if dedupe_key:
                row = conn.execute(
                    "SELECT id, state FROM jobs WHERE dedupe_key = ?", (dedupe_key,)
                ).fetchone()
                if row and row["state"] == "pending":
                    return None
                if row:
                    conn.execute("UPDATE jobs SET dedupe_key = NULL WHERE id = ?", (row["id"],))
            cur = conn.execute(
                "INSERT INTO jobs (kind, dedupe_key, payload_json, state, run_after, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?)",
                (kind, dedupe_key, json.dumps(payload), "pending", run_after, now, now),
            )
            return int(cur.lastrowid or 0)

    def take_job(self, job_id: int) -> Job | None:
        """Mark a pending job running; None if another worker got it first."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT * FROM jobs WHERE id = ? AND state = 'pending'", (job_id,)
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?, "
                "dedupe_key = NULL WHERE id = ?",
                (_now(), job_id),
            )
            return Job(
                id=job_id,
                kind=row["kind"],
                payload=json.loads(row["payload_json"]),
                attempts=int(row["attempts"]) + 1,
            )

    def finish_job(self, job_id: int, *, error: str | None = None) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE jobs SET state = ?, last_error = ?, updated_at = ? WHERE id = ?",
                ("failed" if error else "done", error, _now(), job_id),
            )

    def retry_job(self, job_id: int, *, run_after: float, error: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE jobs SET state = 'pending', run_after = ?, last_error = ?, updated_at = ? "
                "WHERE id = ?",
                (run_after, error, _now(), job_id),
            )

    def unfinished_jobs(self) -> list[tuple[int, float]]:
        """Jobs a previous process left pending or running (it died mid-job)."""
        with self._tx() as conn:
            conn.execute("UPDATE jobs SET state = 'pending' WHERE state = 'running'")
            rows = conn.execute(
                "SELECT id, run_after FROM jobs WHERE state = 'pending' ORDER BY id"
            ).fetchall()
        return [(int(r["id"]), float(r["run_after"])) for r in rows]

    def job_states(self) -> dict[str, int]:
        rows = self._conn().execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}

    # -- agent operations: find, list, App Home, manifests (read-only) ----------------
    def search_consignments(
        self, text: str, *, limit: int = 20
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
        args = {"p": pattern, "c": compact, "limit": limit}
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
    ) -> tuple[list[ConsignmentRecord], int]:
        """Newest first; (this page, how many match in all). `since` is compared in UTC."""
        clauses: list[str] = []
        args: list[Any] = []
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


# The steps the job runner owes work to, as stored (one definition: bot/models.py).
_IN_FLIGHT = sorted(s.value for s in IN_FLIGHT_STEPS)


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
