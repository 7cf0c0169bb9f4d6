"""What may be sent to Slack twice, and how a post is known again after a lost reply.

A call whose connection drops after the request went out may have been done: Slack had it,
only its answer was lost. slack_sdk's retry sends any call again; here only calls that are
safe to repeat are, and a post carries a key it is looked for by (`SlackOut.deliver_post`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

from slack_sdk.http_retry import ConnectionErrorRetryHandler, HttpRequest, HttpResponse, RetryState

from blocks import Message

# Calls that may reach Slack twice with one effect: reads, and writes that set a state (the
# same edit twice is one edit; a repeated views.update with a hash is refused hash_conflict,
# which bot/slack/modal.py already lets pass; a repeated views.open is refused
# exchanged_trigger_id, which it knows for our own earlier try). Only these are sent again
# when the connection drops after the request went out (the reply lost, the work maybe done).
# A post or a file share is not: it is looked up first (`deliver_post`, `upload`).
REPEATABLE = frozenset(
    {
        "auth.test",
        "apps.connections.open",
        "chat.update",
        "chat.getPermalink",
        "conversations.info",
        "conversations.open",
        "conversations.join",
        "conversations.history",
        "conversations.replies",
        "files.getUploadURLExternal",
        "files.info",
        "users.info",
        "views.open",
        "views.update",
        "views.publish",
    }
)
# The metadata event every post of ours carries, with a key of its own: after a lost reply the
# post is looked for by its key before it is sent again (Slack has no idempotency key).
POST_EVENT = "shipbot_post"
# How many of a thread's replies, or a channel's newest top-level messages, a lookup reads
# (no `oldest`: Slack's clock is not ours). A thread of ours has a few dozen at most.
LOOKUP_LIMIT = 200
# Picks a message out of conversations.history/replies.
Match = Callable[[dict[str, Any]], bool]


class RepeatableRetryHandler(ConnectionErrorRetryHandler):
    """slack_sdk's connection-error retry, for what is safe to send again.

    urllib wraps an OSError raised while the request is being written in URLError: Slack never
    read it whole, so any call may go again. RemoteDisconnected and ConnectionResetError come
    from reading the reply: Slack had the request and may have done it, so only a REPEATABLE
    call goes again (a chat.postMessage sent twice is two messages in the thread).
    """

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        if isinstance(error, URLError):
            return True
        return request.url.rsplit("/", 1)[-1] in REPEATABLE


def post_args(channel: str, message: Message, *, thread_ts: str | None = None) -> dict[str, Any]:
    """chat.postMessage's arguments, with the metadata key `deliver_post` finds it by."""
    args: dict[str, Any] = {
        "channel": channel,
        "text": message.text,
        "blocks": message.blocks,
        "metadata": {"event_type": POST_EVENT, "event_payload": {"key": uuid.uuid4().hex}},
    }
    if thread_ts:
        args["thread_ts"] = thread_ts
    return args


def post_key(args: dict[str, Any]) -> str | None:
    metadata = args.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != POST_EVENT:
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return key if isinstance(key, str) else None


def has_key(key: str) -> Match:
    """Takes the message (from conversations.history/replies) that is our post with `key`."""
    return lambda m: post_key(m) == key and bool(m.get("ts"))


def shares(ids: set[str]) -> Match:
    """Takes the message that shares every one of the file `ids`."""

    def match(m: dict[str, Any]) -> bool:
        files = m.get("files")
        return ids <= {f.get("id") for f in files or [] if isinstance(f, dict)}

    return match
