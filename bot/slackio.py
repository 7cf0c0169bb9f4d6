"""Slack Web API transport: the calls the bot makes, with Slack's errors sorted into what we do
next. It renders nothing: `bot/show.py` decides what a consignment looks like."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from blocks import Message
from bot.models import Document

log = logging.getLogger("shipbot.slack")

# Errors that mean "the bot can't see that channel" rather than "Slack is having a moment".
MEMBERSHIP_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


class SlackProblem(Exception):
    """A Slack call failed; `error` is Slack's code (e.g. not_in_channel, ratelimited)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error

    @property
    def membership(self) -> bool:
        return self.error in MEMBERSHIP_ERRORS


def make_client(token: str, base_url: str, *, timeout: int = 15) -> WebClient:
    """A WebClient that waits out `ratelimited` (Retry-After) instead of failing."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


class SlackOut:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            raise SlackProblem(error) from exc
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

    def update(self, channel: str, ts: str, message: Message) -> None:
        self._call("chat.update", channel=channel, ts=ts, text=message.text, blocks=message.blocks)

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
        try:
            response = WebhookClient(response_url, timeout=10).send(
                text=message.text,
                blocks=message.blocks,
                response_type="ephemeral",
                replace_original=False,
            )
        except (OSError, SlackClientError) as exc:
            log.warning("response_url failed: %s", exc)
            return False
        if not 200 <= response.status_code < 300:
            log.warning("response_url answered HTTP %s", response.status_code)
            return False
        return True

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
        try:
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                content=doc.data,
                filename=doc.name,
                title=doc.name,
            )
        except SlackApiError as exc:
            raise SlackProblem(str(exc.response.get("error") or "upload_failed")) from exc
        except (SlackClientError, OSError) as exc:
            raise SlackProblem(f"upload failed: {type(exc).__name__}") from exc

    def permalink(self, channel: str, ts: str) -> str | None:
        # A read method: Slack reads form arguments, not a JSON body, so use the SDK's own call.
        try:
            response = self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(response["permalink"])
        except (SlackApiError, SlackClientError, OSError, KeyError, TypeError):
            return None
