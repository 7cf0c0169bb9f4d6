"""Slack Web API transport: the calls the bot makes, with Slack's errors sorted into what we do
next. It renders nothing: `bot/desk/show.py` decides what a consignment looks like."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from blocks import Message
from bot import logfmt
from bot.desk import messages
from bot.models import Document
from bot.slack.pacing import Pacer

log = logging.getLogger("shipbot.slack")

# Errors that mean "the bot can't post in that channel" rather than "Slack is having a
# moment": trying again won't help until someone acts. Only not_in_channel is fixed by an
# invite; a channel that is gone or archived needs another channel.
MEMBERSHIP_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
CHANNEL_GONE_ERRORS = frozenset({"channel_not_found", "is_archived"})
# The bot's token or its install is broken: every call fails until whoever runs shipbot (or
# the workspace's Slack admin) fixes it.
AUTH_ERRORS = frozenset(
    {"invalid_auth", "account_inactive", "token_revoked", "token_expired", "not_authed"}
)
SCOPE_ERRORS = frozenset({"missing_scope", "not_allowed_token_type"})
FATAL_ERRORS = MEMBERSHIP_ERRORS | AUTH_ERRORS | SCOPE_ERRORS
# Methods Slack reads a JSON body for; every other method reads form arguments only.
JSON_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "chat.delete",
        "conversations.open",
        "views.open",
        "views.update",
        "views.push",
        "views.publish",
    }
)
# A synchronous call waits this long at most for its turn; further off, it is re-queued.
INLINE_WAIT = 5.0
# What a trigger-bound call keeps of the trigger's life for the call itself: it waits for our
# pacer's next slot (or a 429's Retry-After) only while this much is left after the wait.
TRIGGER_CALL_TIME = 0.5
# What `calls()` counts an interaction's response_url POST as: it is not a Web API method.
RESPONSE_URL = "response_url"


class SlackProblem(Exception):
    """A Slack call failed; `error` is Slack's code (e.g. not_in_channel, ratelimited).

    `fatal` says a retry can't fix it, `who_acts` who can, and `message(channel)` says so
    to the agent in one sentence.
    """

    def __init__(self, error: str, *, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after

    @property
    def ratelimited(self) -> bool:
        return self.error == "ratelimited"

    @property
    def membership(self) -> bool:
        """The channel can't take our messages (not invited, gone or archived)."""
        return self.error in MEMBERSHIP_ERRORS

    @property
    def channel_gone(self) -> bool:
        return self.error in CHANNEL_GONE_ERRORS

    @property
    def auth(self) -> bool:
        """shipbot's Slack token or install is broken (including a missing scope)."""
        return self.error in AUTH_ERRORS or self.error in SCOPE_ERRORS

    @property
    def fatal(self) -> bool:
        """Trying again won't help until someone acts (see `who_acts`)."""
        return self.error in FATAL_ERRORS

    @property
    def who_acts(self) -> str:
        """ "agent" (use another channel), "channel" (invite the bot), "admin" (whoever runs
        shipbot or the Slack admin), or "retry" (a passing failure: try again)."""
        if self.channel_gone:
            return "agent"
        if self.error == "not_in_channel":
            return "channel"
        if self.auth:
            return "admin"
        return "retry"

    def message(self, channel: str | None = None) -> str:
        """What happened and who should act, for the agent (mrkdwn; `channel` is an id)."""
        where = f"<#{channel}>" if channel else "that channel"
        if self.error == "is_archived":
            return messages.SLACK_CHANNEL_ARCHIVED.format(where=where)
        if self.error == "channel_not_found":
            return messages.SLACK_CHANNEL_GONE.format(where=where)
        if self.error == "not_in_channel":
            return messages.NOT_IN_CHANNEL.format(channel=channel or "")
        if self.error in SCOPE_ERRORS:
            return messages.SLACK_MISSING_SCOPE.format(error=self.error)
        if self.error in AUTH_ERRORS:
            return messages.SLACK_AUTH_BROKEN.format(error=self.error)
        return messages.SLACK_PASSING.format(error=self.error)


# Told of every Web API call: method, outcome ("ok", "ratelimited" or Slack's error),
# seconds, and whether it says Slack can't be used (unreachable, or the token refused).
SlackObserver = Callable[[str, str, float, bool], None]


class ObservedWebClient(WebClient):
    """Every Web API call the bot makes (ours, Bolt's, the SDK's upload steps) passes here:
    the metrics count it, and log lines made meanwhile name the method."""

    observe: SlackObserver | None = None

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        started = time.monotonic()
        outcome, failing = "ok", False
        try:
            with logfmt.slack_method(api_method):
                return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            outcome = problem_of(exc).error
            failing = outcome in AUTH_ERRORS
            raise
        except Exception as exc:
            outcome, failing = f"unreachable:{type(exc).__name__}", True
            raise
        finally:
            if self.observe is not None:
                self.observe(api_method, outcome, time.monotonic() - started, failing)


def make_client(token: str, base_url: str, *, timeout: int = 15) -> ObservedWebClient:
    """A WebClient that never sleeps on a 429: our pacing keeps calls under Slack's limits,
    and a 429 that still comes re-queues the work (the outbox row, the job) with its
    Retry-After instead of holding a thread."""
    return ObservedWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
    )


def probe_token(token: str, base_url: str) -> SlackResponse:
    """auth.test for `shipbot check`: one call before any bot runs, so nothing shares a bucket
    with it. Raises slack_sdk's own errors (the check tells a refusal from no answer)."""
    return make_client(token, base_url, timeout=10).auth_test()


def probe_app_token(app_token: str, base_url: str) -> None:
    """apps.connections.open with the app-level token, as Socket Mode starts (for the check)."""
    make_client(app_token, base_url, timeout=10).apps_connections_open(app_token=app_token)


def problem_of(exc: SlackApiError) -> SlackProblem:
    """Slack's error code, with Retry-After (seconds, may be fractional) on a 429."""
    response = exc.response
    error = str(response.get("error") or response.status_code)
    retry_after = None
    if response.status_code == 429:
        error = "ratelimited"
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        raw = headers.get("retry-after")
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        try:
            retry_after = float(raw) if raw is not None else 1.0
        except ValueError:
            retry_after = 1.0
    return SlackProblem(error, retry_after=retry_after)


class EditQueue(Protocol):
    """What SlackOut hands its edits to: the outbox (bot/slack/outbox.py), attached by
    `bot.app.build`. A protocol, so that this transport does not import the outbox that
    sends through it (no import circle)."""

    def edit(
        self,
        channel: str,
        ts: str,
        message: Message,
        *,
        priority: int | None = None,
        delay: float = 0.0,
    ) -> None: ...

    def offer(self, channel: str, ts: str, response_url: str) -> None: ...

    def used(self, response_url: str, refused: str | None = None) -> None: ...


class SlackOut:
    """The one door to Slack's Web API: every call is paced through `pacer` and counted by
    method (`calls()`), views.* included; nothing outside bot/slack holds the client."""

    def __init__(self, client: WebClient, pacer: Pacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or Pacer()
        self.outbox: EditQueue | None = None  # edits go through it once attached (bot/app.py)
        self._channel_names: dict[str, str] = {}
        self._counted: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    @classmethod
    def connect(
        cls,
        token: str,
        base_url: str,
        *,
        rate_scale: float = 1.0,
        observe: SlackObserver | None = None,
    ) -> SlackOut:
        """The bot's sender: its own client (Bolt is handed the same one) and buckets."""
        client = make_client(token, base_url)
        client.observe = observe
        return cls(client, Pacer(rate_scale))

    def calls(self) -> dict[str, int]:
        """Web API calls sent so far, by method (answered or not)."""
        with self._count_lock:
            return dict(self._counted)

    def _count(self, method: str, n: int = 1) -> None:
        with self._count_lock:
            self._counted[method] += n

    def pace(self, method: str, channel: str | None = None) -> None:
        """Wait our turn under Slack's limit (briefly), or say "ratelimited" with how long."""
        wait = self.pacer.take(method, channel, max_wait=INLINE_WAIT)
        if wait is None:
            later = self.pacer.wait(method, channel)
            raise SlackProblem("ratelimited", retry_after=max(later - INLINE_WAIT, 0.5))
        if wait > 0:
            time.sleep(wait)

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        self.pace(method, kwargs.get("channel") or kwargs.get("channel_id"))
        return self.send(method, kwargs)

    def send(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """One call, unpaced (the caller paced it): JSON where Slack reads JSON, else form."""
        self._count(method)
        try:
            if method in JSON_METHODS:
                response = self.client.api_call(method, json=args)
            else:
                form = {
                    k: json.dumps(v) if isinstance(v, list | dict) else v
                    for k, v in args.items()
                    if v is not None
                }
                response = self.client.api_call(method, params=form)
        except SlackApiError as exc:
            problem = problem_of(exc)
            if problem.ratelimited and problem.retry_after is not None:
                self.pacer.hold(method, args.get("channel"), problem.retry_after)
            raise problem from exc
        except (SlackClientError, OSError) as exc:
            raise SlackProblem(f"unreachable: {type(exc).__name__}") from exc
        return dict(response.data) if isinstance(response.data, dict) else {}

    def post(self, channel: str, message: Message, *, thread_ts: str | None = None) -> str:
        args: dict[str, Any] = {"channel": channel, "text": message.text, "blocks": message.blocks}
        if thread_ts:
            args["thread_ts"] = thread_ts
        return str(self._call("chat.postMessage", **args)["ts"])

    def post_joining(self, channel: str, message: Message, *, thread_ts: str | None = None) -> str:
        """Post; if we are not in the channel, join it (public channels) and post again."""
        try:
            return self.post(channel, message, thread_ts=thread_ts)
        except SlackProblem as exc:
            if exc.error != "not_in_channel" or not self.join(channel):
                raise
            log.info("joined channel %s after not_in_channel", channel)
            return self.post(channel, message, thread_ts=thread_ts)

    def update(
        self,
        channel: str,
        ts: str,
        message: Message,
        *,
        priority: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """An edit: queued in the outbox (paced, coalesced, never dropped) once attached."""
        if self.outbox is not None:
            self.outbox.edit(channel, ts, message, priority=priority, delay=delay)
            return
        self._call("chat.update", channel=channel, ts=ts, text=message.text, blocks=message.blocks)

    def offer(self, channel: str, ts: str, response_url: str) -> None:
        """A click on the message (channel, ts) came with `response_url`: the message's next
        edits go through it (`replace`) instead of chat.update while it lasts (the outbox)."""
        if self.outbox is not None:
            self.outbox.offer(channel, ts, response_url)

    def ephemeral(
        self,
        channel: str,
        user: str,
        message: Message,
        *,
        response_url: str | None = None,
        thread_ts: str | None = None,
    ) -> None:
        """To one person; through the response_url when there is one (works outside channels)."""
        if response_url and self.respond(response_url, message):
            return
        if not channel:
            self.direct(user, message)
            return
        args: dict[str, Any] = {
            "channel": channel,
            "user": user,
            "text": message.text,
            "blocks": message.blocks,
        }
        if thread_ts:
            args["thread_ts"] = thread_ts
        try:
            self._call("chat.postEphemeral", **args)
        except SlackProblem as exc:
            # An expired response_url and a channel we can't write in: a DM still reaches them.
            log.info("chat.postEphemeral failed (%s): answering by DM", exc.error)
            self.direct(user, message)

    def direct(self, user: str, message: Message) -> None:
        """A DM from the bot (the last way to reach someone privately)."""
        self.post(self.open_dm(user), message)

    def respond(self, response_url: str, message: Message) -> bool:
        """An ephemeral answer through an interaction's response_url; False if Slack refused."""
        if self.outbox is not None:
            self.outbox.used(response_url)
        return self._response(response_url, message, replace_original=False) is None

    def replace(self, response_url: str, message: Message) -> str | None:
        """Replace the message a click came from through the click's response_url
        (replace_original): outside the Web API's tiers, so it takes no chat.update slot.
        None when done; else why not (Slack's answer), and the caller falls back."""
        return self._response(response_url, message, replace_original=True)

    def _response(
        self, response_url: str, message: Message, *, replace_original: bool
    ) -> str | None:
        """One POST to a response_url, counted as RESPONSE_URL (`calls()`). Not told to the
        Web API's observer: it says nothing of whether the bot's token works."""
        self._count(RESPONSE_URL)
        started = time.monotonic()
        outcome: str | None = None
        try:
            response = WebhookClient(response_url, timeout=10).send(
                text=message.text,
                blocks=message.blocks,
                response_type=None if replace_original else "ephemeral",
                replace_original=replace_original,
            )
            if not 200 <= response.status_code < 300:
                outcome = f"{response.status_code} {response.body}".strip()
        except (OSError, SlackClientError) as exc:
            outcome = f"unreachable: {type(exc).__name__}"
        if outcome is not None:
            log.warning("response_url refused: %s", outcome)
        log.debug("response_url: %s in %.3f s", outcome or "ok", time.monotonic() - started)
        return outcome

    def join(self, channel: str) -> bool:
        """Join a public channel; False where only a person can add us (private, DM)."""
        try:
            self._call("conversations.join", channel=channel)
        except SlackProblem as exc:
            log.info("conversations.join %s refused: %s", channel, exc.error)
            return False
        return True

    def open_dm(self, user: str) -> str:
        """The bot's DM with `user`: uploads need a D… conversation, not a U… id."""
        return str(self._call("conversations.open", users=user)["channel"]["id"])

    def upload_one(self, channel: str, thread_ts: str | None, doc: Document) -> None:
        self.upload(channel, thread_ts, [doc])

    def upload(
        self,
        channel: str,
        thread_ts: str | None,
        docs: Sequence[Document],
        *,
        comment: str | None = None,
    ) -> None:
        """Every document in one share: a files.getUploadURLExternal per file (Slack needs
        one each) and ONE files.completeUploadExternal, with `comment` as its message."""
        if not docs:
            return
        for _ in docs:
            self.pace("files.getUploadURLExternal")
        self.pace("files.completeUploadExternal")
        self._count("files.getUploadURLExternal", len(docs))
        self._count("files.completeUploadExternal")
        try:
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                file_uploads=[
                    {"content": d.data, "filename": d.name, "title": d.name} for d in docs
                ],
                initial_comment=comment,
            )
        except SlackApiError as exc:
            problem = problem_of(exc)
            if problem.ratelimited and problem.retry_after is not None:
                self.pacer.hold("files.completeUploadExternal", None, problem.retry_after)
            if problem.error.isdigit():
                problem.error = "upload_failed"
            raise problem from exc
        except (SlackClientError, OSError) as exc:
            raise SlackProblem(f"upload failed: {type(exc).__name__}") from exc

    def channel_name(self, channel: str) -> str | None:
        """The channel's name, for words a modal shows as plain text (where <#C…> is not
        rendered). Called while a form waits for its answer, so it never waits its turn:
        None when Slack can't say at once. Names are cached for the process's life."""
        if channel in self._channel_names:
            return self._channel_names[channel]
        if self.pacer.take("conversations.info", channel, max_wait=0.0) is None:
            return None
        try:
            info = self.send("conversations.info", {"channel": channel})
        except SlackProblem as exc:
            log.info("conversations.info %s: %s", channel, exc.error)
            return None
        name = (info.get("channel") or {}).get("name")
        if not isinstance(name, str) or not name:
            return None
        self._channel_names[channel] = name
        return name

    def permalink(self, channel: str, ts: str) -> str | None:
        # A read method: Slack reads form arguments, not a JSON body (`send` knows).
        try:
            return str(self._call("chat.getPermalink", channel=channel, message_ts=ts)["permalink"])
        except (SlackProblem, KeyError, TypeError):
            return None

    # -- views --------------------------------------------------------------------------
    def open_view(self, trigger_id: str, view: dict[str, Any], *, deadline: float) -> None:
        """views.open for a trigger that dies at `deadline` (time.monotonic()).

        A trigger cannot wait, so this call goes before anything that can: it books its slot
        (counted against the bucket) but never waits for our pacer's turn. Our buckets are
        stricter than Slack's bursts: a turn the pacer put 2 s away was a form refused (or
        opened too late) that Slack would have taken at once. Only Slack's own 429 is waited
        out, while its Retry-After still leaves the call time to land; a SlackProblem
        "ratelimited" means Slack itself refused past the trigger's life.
        """
        self.pacer.book("views.open")
        args = {"trigger_id": trigger_id, "view": view}
        try:
            self.send("views.open", args)
        except SlackProblem as exc:
            later = exc.retry_after if exc.ratelimited and exc.retry_after is not None else None
            if later is None or later > deadline - time.monotonic() - TRIGGER_CALL_TIME:
                raise
            log.info("views.open: 429, again in %.2f s (the trigger still lives)", later)
            time.sleep(later)
            self.send("views.open", args)

    def update_view(self, view_id: str, view: dict[str, Any], *, view_hash: str | None) -> None:
        """views.update; with `view_hash`, Slack refuses (hash_conflict) if the view changed."""
        args: dict[str, Any] = {"view_id": view_id, "view": view}
        if view_hash:
            args["hash"] = view_hash
        self._call("views.update", **args)

    def publish_home(self, user: str, view: dict[str, Any]) -> None:
        """views.publish: `user`'s App Home tab."""
        self._call("views.publish", user_id=user, view=view)
