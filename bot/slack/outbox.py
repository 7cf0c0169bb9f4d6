"""The outbox: Slack edits as rows, delivered in priority order under Slack's rate limits.

Why: `chat.update` is Tier 3 (about 50 a minute per workspace). Sending every state change
at once, sleeping on 429s in worker threads, and dropping an edit after a few tries left
buttons live after a label was bought. Here an edit is a row (so it survives a restart),
a newer state of the same message replaces a pending one (only the newest goes out; an
edit identical to what the message already says is not sent at all), urgent edits (those
that remove buttons or state an outcome) go before cosmetic ones (a manifest's marks), one
delivery thread paces every call through the shared buckets (`bot/slack/pacing.py`), and a 429
puts the row back with its Retry-After. A permanent error (message_not_found, ...) is
recorded on the row and logged: nothing is retried forever, nothing is silently dropped.

An edit of a message someone just clicked goes through the click's response_url instead
(`offer`): Slack lets it replace the message 5 times in 30 minutes outside the Web API's
tiers, so the click's own edit (the Choose buttons going) never waits behind Tier-3 edits,
and chat.update is left for the message nobody clicked (the channel message's final state).
It is sent at once from the thread that queued it; a refused or expired one falls back to
the paced chat.update.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from blocks import Message
from bot.slack.slackio import SlackOut, SlackProblem
from bot.store.db import Database, now_iso
from bot.store.jobs import WorkerLink

log = logging.getLogger("shipbot.outbox")

# Lower goes first.
URGENT = 0  # removes buttons or states an outcome (a click's edit, a final state)
FLOW = 1  # the flow's other edits
COSMETIC = 2  # "⏳" states, a manifest's per-consignment marks

PERMANENT = frozenset(
    {
        "message_not_found",
        "channel_not_found",
        "cant_update_message",
        "edit_window_closed",
        "is_archived",
        "not_in_channel",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "invalid_arguments",
    }
)
MAX_BACKOFF = 60.0
# A click's response_url replaces its message this many times, within this long of the click
# (Slack: 5 uses in 30 minutes; a minute short, as our clock starts when the click arrives).
URL_USES = 5
URL_LIFE = 29 * 60.0


# An edit another row waits on: (channel, ts, the message's new state, and the state it
# replaces: if the message says anything else by then, it moved on and the edit is dropped).
Edit = tuple[str, str, Message, Message | None]


def _edit_args(edit: Edit) -> dict[str, Any]:
    channel, ts, message, replaces = edit
    return {
        "channel": channel,
        "ts": ts,
        "text": message.text,
        "blocks": message.blocks,
        "replaces": _payload(channel, ts, replaces) if replaces is not None else None,
    }


def edit_key(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


def _payload(channel: str, ts: str, message: Message) -> str:
    """A message's state, spelt the same way every time so identical states compare equal."""
    return json.dumps(
        {"channel": channel, "ts": ts, "text": message.text, "blocks": message.blocks},
        sort_keys=True,
    )


class Outbox:
    def __init__(self, db: Database, slack: SlackOut, *, clock: Any = time.time) -> None:
        self._db = db
        self._slack = slack
        self._clock = clock
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._sending = 0  # deliveries on their way (the delivery thread's, and inline ones)
        self.worker: WorkerLink | None = None  # set where the worker process delivers

    # -- queueing -----------------------------------------------------------------------
    def edit(
        self,
        channel: str,
        ts: str,
        message: Message,
        *,
        priority: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """Queue `message` as the message's new state; it replaces a pending older one.
        Through a fresh response_url of the message it goes at once, from this thread."""
        priority = FLOW if priority is None else priority
        payload = _payload(channel, ts, message)
        key = edit_key(channel, ts)
        now = self._clock()
        with self._db.tx() as conn:
            pending = conn.execute(
                "SELECT id, priority, run_after FROM outbox WHERE coalesce_key = ? "
                "AND state = 'pending' ORDER BY id DESC LIMIT 1",
                (key,),
            ).fetchone()
            if pending is not None:
                # Only the newest state goes out, no later than the older one would have.
                row_id, run_after = int(pending["id"]), min(now + delay, pending["run_after"])
                conn.execute(
                    "UPDATE outbox SET payload_json = ?, priority = ?, run_after = ?, "
                    "updated_at = ? WHERE id = ?",
                    (
                        payload,
                        min(priority, int(pending["priority"])),
                        run_after,
                        now_iso(),
                        row_id,
                    ),
                )
            else:
                last = conn.execute(
                    "SELECT payload_json FROM outbox WHERE coalesce_key = ? "
                    "AND state IN ('sent', 'sending') ORDER BY id DESC LIMIT 1",
                    (key,),
                ).fetchone()
                if last is not None and last["payload_json"] == payload:
                    return  # the message already says this
                run_after = now + delay
                row_id = int(
                    conn.execute(
                        "INSERT INTO outbox (method, channel, ts, coalesce_key, priority, "
                        "payload_json, state, run_after, created_at, updated_at) "
                        "VALUES ('chat.update', ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                        (channel, ts, key, priority, payload, run_after, now_iso(), now_iso()),
                    ).lastrowid
                    or 0
                )
            by_url = run_after <= now and _url(conn, key, now) is not None
        if by_url:
            self._send(row_id, url_only=True)
        with self._cv:
            self._cv.notify_all()

    # -- response_urls ----------------------------------------------------------------
    def offer(self, channel: str, ts: str, response_url: str) -> None:
        """A click on the message (channel, ts) came with `response_url`: the message's
        edits go through it while it lasts (the newest click's replaces an older one)."""
        now = self._clock()
        with self._db.tx() as conn:
            conn.execute("DELETE FROM response_urls WHERE issued_at < ?", (now - URL_LIFE,))
            conn.execute(
                "INSERT OR REPLACE INTO response_urls (coalesce_key, url, issued_at, uses) "
                "VALUES (?, ?, ?, 0)",
                (edit_key(channel, ts), response_url, now),
            )

    def used(self, response_url: str, refused: str | None = None) -> None:
        """One of the URL's uses went (an answer through it, or an edit); `refused`: Slack
        took it no more, so the message's edits go by chat.update again."""
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE response_urls SET uses = uses + 1, refused = ? WHERE url = ?",
                (refused, response_url),
            )

    def post(
        self,
        channel: str,
        message: Message,
        *,
        thread_ts: str,
        key: str,
        then: Sequence[Edit] = (),
        otherwise: Sequence[Edit] = (),
    ) -> None:
        """Queue a thread post that carries the next step (a failure's Try again): delivered
        like the edits (paced, after Retry-After or a 5xx, again after a restart). `then`:
        edits that may point at the post, queued once it is in; `otherwise`: edits queued
        if Slack refuses it for good. A newer post with the same `key` replaces a pending one.

        A post that was on its way when the process died is sent again (possibly twice):
        a repeated line in a thread beats a missing Try again.
        """
        payload = json.dumps(
            {
                "channel": channel,
                "text": message.text,
                "blocks": message.blocks,
                "thread_ts": thread_ts,
                "_then": [_edit_args(e) for e in then],
                "_else": [_edit_args(e) for e in otherwise],
            },
            sort_keys=True,
        )
        now = self._clock()
        with self._db.tx() as conn:
            pending = conn.execute(
                "SELECT id FROM outbox WHERE coalesce_key = ? AND state = 'pending' "
                "ORDER BY id DESC LIMIT 1",
                (key,),
            ).fetchone()
            if pending is not None:
                conn.execute(
                    "UPDATE outbox SET payload_json = ?, updated_at = ? WHERE id = ?",
                    (payload, now_iso(), pending["id"]),
                )
            else:
                conn.execute(
                    "INSERT INTO outbox (method, channel, ts, coalesce_key, priority, "
                    "payload_json, state, run_after, created_at, updated_at) "
                    "VALUES ('chat.postMessage', ?, NULL, ?, ?, ?, 'pending', ?, ?, ?)",
                    (channel, key, URGENT, payload, now, now_iso(), now_iso()),
                )
        with self._cv:
            self._cv.notify_all()

    def posted(self, channel: str, ts: str, message: Message) -> None:
        """A message just posted: what it says, so an identical edit later is not sent."""
        payload = _payload(channel, ts, message)
        now = self._clock()
        with self._db.tx() as conn:
            conn.execute(
                "INSERT INTO outbox (method, channel, ts, coalesce_key, priority, payload_json, "
                "state, run_after, created_at, updated_at) "
                "VALUES ('chat.postMessage', ?, ?, ?, ?, ?, 'sent', ?, ?, ?)",
                (channel, ts, edit_key(channel, ts), FLOW, payload, now, now_iso(), now_iso()),
            )

    # -- state ----------------------------------------------------------------------------
    def idle(self) -> bool:
        """Nothing pending or on its way (tests and the demo wait on this)."""
        with self._cv:
            if self._sending:
                return False
        row = (
            self._db.conn()
            .execute("SELECT 1 FROM outbox WHERE state IN ('pending', 'sending') LIMIT 1")
            .fetchone()
        )
        return row is None

    def alive(self) -> bool:
        """Its delivery thread runs (the readiness check); in the worker process, if another
        process delivers (`worker`)."""
        if self.worker is not None:
            return self.worker.problem() is None
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Rows another process queued: look now rather than at the next pause's end."""
        with self._cv:
            self._cv.notify_all()

    def states(self) -> dict[str, int]:
        rows = self._db.conn().execute("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}

    # -- delivery -------------------------------------------------------------------------
    def start(self) -> None:
        """Rows a dead process was sending go again (an edit is safe to repeat)."""
        with self._db.tx() as conn:
            conn.execute("UPDATE outbox SET state = 'pending' WHERE state = 'sending'")
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="shipbot-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            with self._cv:
                if self._stopping:
                    return
            try:
                pause = self._deliver_one()
            except Exception:
                log.exception("outbox delivery failed")
                pause = 1.0
            if pause > 0:
                with self._cv:
                    if not self._stopping:
                        self._cv.wait(min(pause, 1.0))

    def _deliver_one(self) -> float:
        """Send the most urgent due row whose method has a free slot; else how long to wait."""
        now = self._clock()
        rows = (
            self._db.conn()
            .execute(
                "SELECT o.id, o.method, o.channel, o.run_after, r.url FROM outbox o "
                f"LEFT JOIN response_urls r ON {_USABLE} WHERE o.state = 'pending' "
                "ORDER BY o.priority, o.run_after, o.id LIMIT 200",
                (URL_USES, now - URL_LIFE),
            )
            .fetchall()
        )
        pause = 1.0
        for row in rows:
            due_in = float(row["run_after"]) - now
            if due_in > 0:
                pause = min(pause, due_in)
                continue
            wait = 0.0 if row["url"] else self._slack.pacer.wait(row["method"], row["channel"])
            if wait > 0:
                pause = min(pause, wait)
                continue
            if self._send(int(row["id"])):
                return 0.0
        return max(pause, 0.005)

    def _send(self, row_id: int, *, url_only: bool = False) -> bool:
        """Deliver one pending row (not while another state of its message is on its way, so
        edits never cross); an edit through the message's response_url if it has a fresh
        one, else paced. `url_only`: through the response_url or not now (inline, from
        `edit`; the delivery thread sends it otherwise)."""
        now = self._clock()
        with self._db.tx() as conn:
            row = conn.execute(
                "SELECT * FROM outbox WHERE id = ? AND state = 'pending' AND NOT EXISTS "
                "(SELECT 1 FROM outbox s WHERE s.coalesce_key = outbox.coalesce_key "
                "AND s.state = 'sending')",
                (row_id,),
            ).fetchone()
            if row is None:
                return False
            url = (
                _url(conn, str(row["coalesce_key"]), now)
                if row["method"] == "chat.update"
                else None
            )
            if url is None and url_only:
                return False
            conn.execute(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ? "
                "WHERE id = ?",
                (now_iso(), row_id),
            )
        with self._cv:
            self._sending += 1
        try:
            if url is not None and self._replaced(url, row):
                return True
            if url_only:
                self._surely(lambda: self._finish(row_id, "pending", run_after=self._clock()))
                return True
            self._deliver(row)
        finally:
            with self._cv:
                self._sending -= 1
                self._cv.notify_all()
        return True

    def _replaced(self, url: str, row: sqlite3.Row) -> bool:
        """The edit through the click's response_url; False (the URL marked refused) when
        Slack would not take it: the paced chat.update is the fallback."""
        args = json.loads(row["payload_json"])
        refused = self._slack.replace(url, Message(text=args["text"], blocks=args["blocks"]))
        self._surely(lambda: self.used(url, refused))
        if refused is None:
            self._surely(lambda: self._finish(int(row["id"]), "sent"))
            return True
        log.info("outbox %s: response_url refused (%s): by chat.update", row["id"], refused)
        return False

    def _deliver(self, row: sqlite3.Row) -> None:
        """By the Web API, in a slot of its method's bucket (or back to pending)."""
        row_id, method = int(row["id"]), str(row["method"])
        args = json.loads(row["payload_json"])
        then, otherwise = args.pop("_then", []), args.pop("_else", [])
        if self._slack.pacer.take(method, row["channel"], max_wait=0.0) is None:
            self._surely(lambda: self._finish(row_id, "pending", run_after=self._clock()))
            return
        try:
            self._slack.send(method, args)
        except SlackProblem as exc:
            problem = exc
            if self._joined(method, problem, str(row["channel"])):
                self._surely(lambda: self._finish(row_id, "pending", run_after=self._clock()))
            else:
                self._surely(
                    lambda: self._failed(row_id, int(row["attempts"]) + 1, method, problem)
                )
                if problem.error in PERMANENT:
                    self._queue_edits(otherwise)
        else:
            self._surely(lambda: self._finish(row_id, "sent"))
            self._queue_edits(then)  # they may point at the post now that it is there

    def _latest(self, channel: str, ts: str) -> str | None:
        """The newest state queued or sent for a message (its payload)."""
        row = (
            self._db.conn()
            .execute(
                "SELECT payload_json FROM outbox WHERE coalesce_key = ? "
                "AND state IN ('pending', 'sending', 'sent') ORDER BY id DESC LIMIT 1",
                (edit_key(channel, ts),),
            )
            .fetchone()
        )
        return str(row["payload_json"]) if row is not None else None

    def _joined(self, method: str, problem: SlackProblem, channel: str) -> bool:
        """A post refused with not_in_channel goes again once the bot joined (public only)."""
        return (
            method == "chat.postMessage"
            and problem.error == "not_in_channel"
            and self._slack.join(channel)
        )

    def _queue_edits(self, edits: list[dict[str, Any]]) -> None:
        for e in edits:

            def queue(e: dict[str, Any] = e) -> None:
                message = Message(text=e["text"], blocks=e["blocks"])
                if e.get("replaces") and self._latest(e["channel"], e["ts"]) != e["replaces"]:
                    return  # the message moved on meanwhile: this edit would take it back
                self.edit(e["channel"], e["ts"], message, priority=URGENT)

            self._surely(queue)

    def _surely(self, record: Callable[[], None]) -> None:
        """Record what Slack answered, waiting out a locked database: a row left 'sending'
        would be sent again after a restart, and the outbox would never be idle."""
        while True:
            try:
                record()
                return
            except sqlite3.Error as exc:
                log.warning("outbox: could not record a delivery (%s): again in 0.2 s", exc)
                with self._cv:
                    if self._stopping:
                        return
                    self._cv.wait(0.2)

    def _failed(self, row_id: int, attempts: int, method: str, exc: SlackProblem) -> None:
        if exc.ratelimited:
            wait = exc.retry_after if exc.retry_after is not None else 1.0
            log.info("outbox %s %s: 429, again in %.1f s", row_id, method, wait)
            self._finish(row_id, "pending", run_after=self._clock() + wait, error=exc.error)
        elif exc.error in PERMANENT:
            log.warning("outbox %s %s refused for good: %s", row_id, method, exc.error)
            self._finish(row_id, "failed", error=exc.error)
        else:
            wait = min(MAX_BACKOFF, 2.0 ** min(attempts, 6) / 4)
            log.warning("outbox %s %s failed (%s): again in %.1f s", row_id, method, exc, wait)
            self._finish(row_id, "pending", run_after=self._clock() + wait, error=exc.error)

    def _finish(
        self, row_id: int, state: str, *, run_after: float | None = None, error: str | None = None
    ) -> None:
        with self._db.tx() as conn:
            if state == "pending":
                newer = conn.execute(
                    "SELECT 1 FROM outbox WHERE state = 'pending' AND id > ? AND coalesce_key = "
                    "(SELECT coalesce_key FROM outbox WHERE id = ?)",
                    (row_id, row_id),
                ).fetchone()
                if newer is not None:
                    state, run_after = "superseded", None  # a newer state replaces this one
            if run_after is None:
                conn.execute(
                    "UPDATE outbox SET state = ?, last_error = ?, updated_at = ? WHERE id = ?",
                    (state, error, now_iso(), row_id),
                )
            else:
                conn.execute(
                    "UPDATE outbox SET state = ?, run_after = ?, last_error = ?, updated_at = ? "
                    "WHERE id = ?",
                    (state, run_after, error, now_iso(), row_id),
                )


# The response_url (alias r) a pending edit (alias o) may go through; args: URL_USES, the
# oldest issued_at still fresh.
_USABLE = (
    "r.coalesce_key = o.coalesce_key AND o.method = 'chat.update' AND r.refused IS NULL "
    "AND r.uses < ? AND r.issued_at >= ?"
)


def _url(conn: sqlite3.Connection, key: str, now: float) -> str | None:
    """The message's fresh response_url (uses left, within its life, not refused), if any."""
    row = conn.execute(
        "SELECT url FROM response_urls WHERE coalesce_key = ? AND refused IS NULL "
        "AND uses < ? AND issued_at >= ?",
        (key, URL_USES, now - URL_LIFE),
    ).fetchone()
    return str(row["url"]) if row is not None else None
