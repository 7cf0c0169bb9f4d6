"""The SQLite database: connections, transactions, the schema and its migrations.

One connection per thread (sqlite3 connections are not shared across threads), WAL so
readers never wait for the writer, and `BEGIN IMMEDIATE` for every write so a
read-then-write (a claim, a guarded transition) is one atomic step. The repositories
(`bot/store/writes.py`, the job queue in `bot/store/jobs.py`) hold the SQL that uses it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 10_000
# Raised when a change to the tables needs a migration step below.
SCHEMA_VERSION = 6

_SCHEMA = (
    """
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
    approval_ts TEXT,
    allocate_deadline REAL,
    repeats INTEGER,
    found_source TEXT,
    found_at TEXT,
    released_service TEXT,
    returns INTEGER
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
    last_error TEXT,
    owner TEXT
);
CREATE TABLE IF NOT EXISTS runners (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat REAL NOT NULL
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
CREATE TABLE IF NOT EXISTS drafts (
    view_id TEXT PRIMARY KEY,
    request_json TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    method TEXT NOT NULL,
    channel TEXT NOT NULL,
    ts TEXT,
    coalesce_key TEXT,
    priority INTEGER NOT NULL,
    payload_json TEXT NOT NULL,
    state TEXT NOT NULL,
    run_after REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, priority, run_after);
CREATE INDEX IF NOT EXISTS outbox_key ON outbox(coalesce_key, state);
CREATE TABLE IF NOT EXISTS response_urls (
    coalesce_key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    issued_at REAL NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    refused TEXT
);
CREATE INDEX IF NOT EXISTS response_urls_url ON response_urls(url);
CREATE TABLE IF NOT EXISTS seen_events (
    event_id TEXT PRIMARY KEY,
    at TEXT NOT NULL
);
"""
    + """
CREATE TABLE IF NOT EXISTS carrier_changes (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL,
    state TEXT NOT NULL,
    consignment_id INTEGER REFERENCES consignments(id) ON DELETE SET NULL,
    change_json TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    thread_done INTEGER NOT NULL DEFAULT 0,
    channel_done INTEGER NOT NULL DEFAULT 0,
    UNIQUE (reference, state)
);
CREATE INDEX IF NOT EXISTS carrier_changes_thread ON carrier_changes(thread_done, id);
CREATE INDEX IF NOT EXISTS carrier_changes_channel ON carrier_changes(channel_done, id);
CREATE TABLE IF NOT EXISTS delivery_states (
    consignment_id INTEGER PRIMARY KEY REFERENCES consignments(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    raw_state TEXT NOT NULL,
    at TEXT NOT NULL,
    signed_by TEXT,
    notice_ts TEXT,
    handled_by TEXT,
    handled_at TEXT,
    checked_at TEXT
);
CREATE TABLE IF NOT EXISTS watch_marks (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
)


# Columns added after the first release: (table, column, type), oldest first.
_ADDED_COLUMNS: tuple[tuple[str, str, type], ...] = (
    ("consignments", "approval_ts", str),
    ("consignments", "allocate_deadline", float),
    ("consignments", "repeats", int),  # schema 4: "Ship again" names what it repeats
    # schema 5: consignments taken over from Sorted PRO, and a released booking
    ("consignments", "found_source", str),
    ("consignments", "found_at", str),
    ("consignments", "released_service", str),
    ("consignments", "returns", int),  # schema 6: a return names the consignment it returns
    ("jobs", "owner", str),
)


class DatabaseProblem(Exception):
    """The file at SHIPBOT_DB can't be our database: said in one line, no traceback."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class _Lease:
    """A thread's connection. The HTTP server starts a thread per request: when that thread
    ends its locals go, and the connection goes back to the idle list instead of staying
    open (one leaked connection per request: 2 fds and ~150 KB each)."""

    def __init__(self, conn: sqlite3.Connection, idle: list[sqlite3.Connection]) -> None:
        self.conn = conn
        self._idle = idle

    def __del__(self) -> None:
        self._idle.append(self.conn)


class Database:
    def __init__(self, path: str | Path, *, busy_timeout: float | None = None) -> None:
        self.path = str(path)
        # SHIPBOT_DB_BUSY_TIMEOUT (seconds); tests shorten it so a lock test takes a second.
        self.busy_timeout_ms = BUSY_TIMEOUT_MS if busy_timeout is None else int(busy_timeout * 1000)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Writers queue here rather than in SQLite's busy handler, which sleeps 1, 2, 5, 10 ...
        # 100 ms between tries: under contention a click's ack waited hundreds of ms.
        self._write = threading.RLock()
        self._open_checked()

    def _open_checked(self) -> None:
        target = Path(self.path)
        if target.is_dir():
            raise DatabaseProblem(f"{self.path} is a directory, not a database file")
        if not target.parent.exists():
            raise DatabaseProblem(f"the folder {target.parent} does not exist")
        try:
            conn = self.conn()
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise DatabaseProblem(
                    f"{self.path} was made by a newer shipbot (schema {version}, "
                    f"this one knows {SCHEMA_VERSION}): upgrade shipbot or use another file"
                )
            # executescript manages its own transaction; the statements are idempotent.
            conn.executescript(_SCHEMA)
            self._migrate(conn, version)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise DatabaseProblem(_explain(self.path, exc)) from exc

    def _migrate(self, conn: sqlite3.Connection, version: int) -> None:
        """A database made by an earlier version gains the columns added since."""
        db = sqlite_utils.Database(conn)
        for table, column, kind in _ADDED_COLUMNS:
            if column not in db.table(table).columns_dict:
                db.table(table).add_column(column, kind)
        if version < SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def conn(self) -> sqlite3.Connection:
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
                timeout=self.busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            with self._lock:
                self._all.append(conn)
        self._local.lease = _Lease(conn, self._idle)
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, queued behind this process's other writers."""
        conn = self.conn()
        with self._write:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def execute_write(self, sql: str, args: tuple[object, ...] = ()) -> None:
        """One autocommit statement, queued with the transactions (e.g. an audit line)."""
        with self._write:
            self.conn().execute(sql, args)

    def backup(self, destination: str | Path) -> None:
        """A consistent copy while the bot runs (SQLite's online backup)."""
        target = sqlite3.connect(str(destination))
        try:
            self.conn().backup(target)
        finally:
            target.close()

    def probe_write(self, timeout: float = 1.0) -> None:
        """Raises sqlite3.DatabaseError unless a write could be made now (none is kept):
        on a connection of its own, so it waits on no writer of ours for longer than that."""
        conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("CREATE TABLE shipbot_probe (x INTEGER)")
            finally:
                conn.execute("ROLLBACK")
        finally:
            conn.close()

    def journal_mode(self) -> str:
        return str(self.conn().execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with suppress(sqlite3.ProgrammingError):
                    conn.close()
            self._all.clear()
        self._local = threading.local()
        self._idle = []  # leases still alive return their closed connections to the old list


def _explain(path: str, exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "file is not a database" in text or "malformed" in text:
        return f"{path} is not a SQLite database (or it is damaged)"
    if "readonly" in text or "read-only" in text:
        return f"{path} can't be written (read-only file or folder)"
    if "unable to open" in text:
        return f"{path} can't be opened (check the path and its permissions)"
    return f"{path} can't be used: {text}"
