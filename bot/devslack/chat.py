"""chat.* methods, and what Slack does with response_url posts and command acks."""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.devslack.base import FakeBase
from bot.devslack.blockcheck import check_blocks
from bot.devslack.records import (
    BOT_USER_ID,
    MESSAGE_BLOCKS_MAX,
    TEAM_DOMAIN,
    Call,
    Ephemeral,
    Fail,
    Message,
    ResponseUrl,
)


class ChatMethods(FakeBase):
    """Posting, editing and answering messages."""

    def _m_chat_postMessage(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(a.get("channel")).id
        text, blocks = self._content(a)
        msg = self._post(channel, text, blocks, a.get("thread_ts"))
        return {"channel": channel, "ts": msg.ts, "message": msg.to_dict()}

    def _m_chat_update(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("channel"):
            raise Fail("channel_not_found")
        msg = self._find(a["channel"], a.get("ts"))
        if msg is None or msg.user != BOT_USER_ID:
            raise Fail("message_not_found" if msg is None else "cant_update_message")
        if a.get("text") is None and a.get("blocks") is None:
            raise Fail("no_text")
        blocks: list[dict[str, Any]] = []
        if a.get("blocks") is not None:
            blocks = self._with_block_ids(
                check_blocks(a["blocks"], MESSAGE_BLOCKS_MAX, "invalid_blocks", "/blocks")
            )
        # Omitted fields keep their old value, as in Slack.
        self._edit(
            msg,
            str(a.get("text") or ""),
            blocks,
            replace_text=a.get("text") is not None,
            replace_blocks=a.get("blocks") is not None,
        )
        return {"channel": msg.channel, "ts": msg.ts, "text": msg.text, "message": msg.to_dict()}

    def _m_chat_postEphemeral(self, a: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(a.get("channel")).id
        if not a.get("user"):
            raise Fail("user_not_in_channel")
        text, blocks = self._content(a)
        ts = self._next_ts()
        self._ephemerals.append(Ephemeral(channel, a["user"], text, blocks, a.get("thread_ts"), ts))
        return {"message_ts": ts}

    def _m_chat_getPermalink(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("channel"):
            raise Fail("channel_not_found")
        msg = self._find(a["channel"], a.get("message_ts"))
        if msg is None:
            raise Fail("message_not_found")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{msg.channel}/p{msg.ts.replace('.', '')}"
        if msg.thread_ts:
            link += f"?thread_ts={msg.thread_ts}&cid={msg.channel}"
        return {"channel": msg.channel, "permalink": link}

    def new_response_url(
        self, *, channel: str | None = None, message_ts: str | None = None, user: str | None = None
    ) -> str:
        """A response_url; bound to the message a click came from, so replace_original works."""
        with self._lock:
            rid = self._hex(12)
            self._response_urls[rid] = ResponseUrl(channel, message_ts, user, 0, time.monotonic())
            self._responses[rid] = []
            return f"{self.base}/response/{rid}"

    def refuse_response_url(self, response_url: str, error: str = "expired_url") -> None:
        """From now on `response_url` answers `error` (its 30 minutes are up: "expired_url";
        or a status such as "500"), as Slack answers one it no longer takes."""
        with self._lock:
            self._response_urls[_rid(response_url)].refusal = error

    @property
    def responses(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return copy.deepcopy(self._responses)

    def responses_to(self, response_url: str) -> list[dict[str, Any]]:
        return self.responses.get(_rid(response_url), [])

    def apply_command_ack(self, channel: str, user: str, ack: dict[str, Any]) -> None:
        """A slash command's HTTP answer (Bolt's `ack(text)`), shown as Slack shows it."""
        with self._lock:
            error = None
            try:
                self._apply_response(ResponseUrl(channel, None, user), ack)
            except Fail as fail:
                error = fail.error
            args = {"channel": channel, "user": user, **ack}
            self._calls.append(Call("command_ack", args, time.monotonic(), error is None, error))

    def _apply_response(self, bound: ResponseUrl, payload: dict[str, Any]) -> None:
        """What Slack does with a response_url post: edit the source message or post anew."""
        original = self._find(bound.channel, bound.message_ts) if bound.message_ts else None
        if payload.get("delete_original") and original is not None:
            original.deleted = True
            return
        text, blocks = self._content(payload, status=400)
        if payload.get("replace_original") and original is not None:
            self._edit(original, text, blocks, replace_text=True, replace_blocks=True)
        elif bound.channel and payload.get("response_type") == "in_channel":
            self._post(bound.channel, text, blocks, payload.get("thread_ts"))
        elif bound.channel and bound.user:
            self._ephemerals.append(
                Ephemeral(
                    bound.channel,
                    bound.user,
                    text,
                    blocks,
                    payload.get("thread_ts"),
                    self._next_ts(),
                )
            )

    def _content(
        self, args: dict[str, Any], *, status: int = 200
    ) -> tuple[str, list[dict[str, Any]]]:
        text = str(args.get("text") or "")
        blocks: list[dict[str, Any]] = []
        if args.get("blocks") is not None:
            try:
                blocks = check_blocks(
                    args["blocks"], MESSAGE_BLOCKS_MAX, "invalid_blocks", "/blocks"
                )
            except Fail as fail:
                fail.status = status
                raise
        if not text and not blocks:
            raise Fail("no_text", status=status)
        if blocks and not text:
            self.notes.append("message with blocks but no top-level text (notification fallback)")
        return text, self._with_block_ids(blocks)

    def _post(
        self, channel: str, text: str, blocks: list[dict[str, Any]], thread_ts: Any
    ) -> Message:
        if thread_ts:
            parent = self._find(channel, str(thread_ts))
            if parent is None:
                raise Fail("thread_not_found")  # Slack posts into nowhere; the fake refuses
            thread_ts = parent.thread_ts or parent.ts
        msg = Message(channel, self._next_ts(), text, blocks, thread_ts or None)
        msg.history.append({"text": text, "blocks": copy.deepcopy(blocks)})
        self._messages.setdefault(channel, []).append(msg)
        return msg

    def _edit(
        self,
        msg: Message,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        replace_text: bool,
        replace_blocks: bool,
    ) -> None:
        if replace_text:
            msg.text = text
        if replace_blocks:
            msg.blocks = blocks
        msg.history.append({"text": msg.text, "blocks": copy.deepcopy(msg.blocks)})


def _rid(response_url: str) -> str:
    return response_url.rstrip("/").rsplit("/", 1)[-1]
