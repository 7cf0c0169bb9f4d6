"""What the delivery watcher keeps: each carrier state change once, our consignments'
latest carrier state, and its marks (the window cursor, the day of the last late list).

A change is a row the moment it is first seen (UNIQUE on reference and state, so an
overlapping window or a restart can't make a second one); the row says whether its thread
line and its exceptions-channel line are out yet, so a crash between seeing and posting
is finished by the next tick instead of being lost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from bot.carrier_states import ConsignmentState, DeliveryState, StateChange
from bot.models import Step
from bot.store.db import Database


@dataclass(frozen=True)
class PendingChange:
    row: int
    consignment_id: int | None
    change: StateChange


class DeliveryRecords:
    database: Database
    _tx: Callable[[], AbstractContextManager[sqlite3.Connection]]

    # -- changes -----------------------------------------------------------------
    def note_change(
        self, change: StateChange, consignment_id: int | None, *, to_channel: bool, at: datetime
    ) -> bool:
        """True the first time this consignment is seen in this state, ever."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO carrier_changes (reference, state, consignment_id, "
                "change_json, seen_at, thread_done, channel_done) VALUES (?,?,?,?,?,?,?)",
                (
                    change.reference,
                    change.raw_state,
                    consignment_id,
                    change.model_dump_json(),
                    at.isoformat(),
                    0 if consignment_id is not None else 1,
                    0 if to_channel else 1,
                ),
            )
            return cur.rowcount == 1

    def pending_changes(self, where: str, limit: int = 200) -> list[PendingChange]:
        """Changes whose thread (`where="thread"`) or channel line is still to go out."""
        column = {"thread": "thread_done", "channel": "channel_done"}[where]
        rows = self.database.conn().execute(
            f"SELECT id, consignment_id, change_json FROM carrier_changes WHERE {column} = 0 "
            "ORDER BY id LIMIT ?",
            (limit,),
        )
        return [
            PendingChange(
                int(r["id"]), r["consignment_id"], StateChange.model_validate_json(r["change_json"])
            )
            for r in rows
        ]

    def change_done(self, row: int, where: str) -> None:
        column = {"thread": "thread_done", "channel": "channel_done"}[where]
        with self._tx() as conn:
            conn.execute(f"UPDATE carrier_changes SET {column} = 1 WHERE id = ?", (row,))

    def changes_seen(self) -> int:
        return int(
            self.database.conn().execute("SELECT COUNT(*) FROM carrier_changes").fetchone()[0]
        )

    def id_of_carrier_reference(self, reference: str) -> int | None:
        """Ours, by Sorted PRO's reference only (an order number can be anyone's)."""
        row = (
            self.database.conn()
            .execute(
                "SELECT id FROM consignments WHERE carrier_reference = ? COLLATE NOCASE",
                (reference,),
            )
            .fetchone()
        )
        return int(row[0]) if row else None

    # -- our consignments' carrier state ------------------------------------------
    def set_delivery(
        self,
        consignment_id: int,
        state: ConsignmentState,
        raw_state: str,
        at: datetime,
        *,
        signed_by: str | None = None,
    ) -> None:
        """A new state; a new exception is open again (not handled) until someone says so."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO delivery_states (consignment_id, state, raw_state, at, signed_by) "
                "VALUES (?,?,?,?,?) ON CONFLICT(consignment_id) DO UPDATE SET state = "
                "excluded.state, raw_state = excluded.raw_state, at = excluded.at, signed_by = "
                "excluded.signed_by, handled_by = NULL, handled_at = NULL, notice_ts = NULL",
                (consignment_id, state.value, raw_state, at.isoformat(), signed_by),
            )

    def set_notice(self, consignment_id: int, ts: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE delivery_states SET notice_ts = ? WHERE consignment_id = ?",
                (ts, consignment_id),
            )

    def mark_handled(self, consignment_id: int, user: str, at: datetime) -> bool:
        """False when there is no open exception (already handled, or none)."""
        exceptions = sorted(s.value for s in ConsignmentState if s.exception)
        marks = ",".join("?" * len(exceptions))
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE delivery_states SET handled_by = ?, handled_at = ? WHERE "
                f"consignment_id = ? AND handled_at IS NULL AND state IN ({marks})",
                (user, at.isoformat(), consignment_id, *exceptions),
            )
            return cur.rowcount == 1

    def delivery_of(self, consignment_id: int) -> DeliveryState | None:
        return delivery_row(self.database.conn(), consignment_id)

    def watched(self, limit: int) -> list[tuple[int, str]]:
        """Our consignments still on the way, least recently checked first: the manifested
        ones, and returns with a label (the customer hands those in; we never manifest them)."""
        where, args = _on_the_way()
        rows = self.database.conn().execute(
            "SELECT c.id, c.carrier_reference FROM consignments c LEFT JOIN delivery_states d "
            f"ON d.consignment_id = c.id WHERE {where} "
            "ORDER BY d.checked_at IS NOT NULL, d.checked_at, c.id LIMIT ?",
            (*args, limit),
        )
        return [(int(r["id"]), str(r["carrier_reference"])) for r in rows]

    def watched_count(self) -> int:
        where, args = _on_the_way()
        row = (
            self.database.conn()
            .execute(
                "SELECT COUNT(*) FROM consignments c LEFT JOIN delivery_states d "
                f"ON d.consignment_id = c.id WHERE {where}",
                args,
            )
            .fetchone()
        )
        return int(row[0])

    def checked(self, consignment_id: int, at: datetime, state: ConsignmentState, raw: str) -> None:
        """The fallback looked at it (a row is made with Sorted PRO's state if there was none)."""
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO delivery_states (consignment_id, state, raw_state, at, checked_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT(consignment_id) DO UPDATE SET checked_at = "
                "excluded.checked_at",
                (consignment_id, state.value, raw, at.isoformat(), at.isoformat()),
            )

    def attention_ids(self, limit: int = 200) -> list[int]:
        """Our consignments with an open exception, newest change first."""
        exceptions = sorted(s.value for s in ConsignmentState if s.exception)
        marks = ",".join("?" * len(exceptions))
        rows = self.database.conn().execute(
            "SELECT consignment_id FROM delivery_states WHERE handled_at IS NULL AND state IN "
            f"({marks}) ORDER BY at DESC LIMIT ?",
            (*exceptions, limit),
        )
        return [int(r[0]) for r in rows]

    def on_the_way_ids(self, limit: int = 500) -> list[int]:
        """Manifested and not delivered (nor lost or returned): candidates for 'late'."""
        over = sorted(s.value for s in ConsignmentState if s.journey_over)
        marks = ",".join("?" * len(over))
        rows = self.database.conn().execute(
            "SELECT c.id FROM consignments c LEFT JOIN delivery_states d ON d.consignment_id = "
            f"c.id WHERE c.step IN (?) AND (d.state IS NULL OR d.state NOT IN ({marks})) "
            "ORDER BY c.id DESC LIMIT ?",
            (Step.MANIFESTED.value, *over, limit),
        )
        return [int(r[0]) for r in rows]

    # -- marks -------------------------------------------------------------------
    def mark(self, name: str) -> str | None:
        row = (
            self.database.conn()
            .execute("SELECT value FROM watch_marks WHERE name = ?", (name,))
            .fetchone()
        )
        return str(row[0]) if row else None

    def set_mark(self, name: str, value: str) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO watch_marks (name, value) VALUES (?, ?) ON CONFLICT(name) DO "
                "UPDATE SET value = excluded.value",
                (name, value),
            )


def delivery_row(conn: sqlite3.Connection, consignment_id: int) -> DeliveryState | None:
    row = conn.execute(
        "SELECT * FROM delivery_states WHERE consignment_id = ?", (consignment_id,)
    ).fetchone()
    if row is None:
        return None
    return DeliveryState(
        state=ConsignmentState.parse(row["state"]),
        raw_state=row["raw_state"],
        at=datetime.fromisoformat(row["at"]),
        signed_by=row["signed_by"],
        notice_ts=row["notice_ts"],
        handled_by=row["handled_by"],
        handled_at=datetime.fromisoformat(row["handled_at"]) if row["handled_at"] else None,
    )


def _on_the_way() -> tuple[str, tuple[str, ...]]:
    """The watched consignments' WHERE clause (over `c` and its `d` delivery row)."""
    over = sorted(s.value for s in ConsignmentState if s.journey_over)
    marks = ",".join("?" * len(over))
    where = (
        "(c.step IN (?) OR (c.step IN (?) AND c.returns IS NOT NULL)) "
        "AND c.carrier_reference IS NOT NULL "
        f"AND (d.state IS NULL OR d.state NOT IN ({marks}))"
    )
    return where, (Step.MANIFESTED.value, Step.UPLOADED.value, *over)
