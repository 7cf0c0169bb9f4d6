"""auth.test, apps.connections.open and conversations.* methods."""

from __future__ import annotations

from typing import Any

from bot.devslack.base import FakeBase
from bot.devslack.records import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    Channel,
    Fail,
)


class ConversationMethods(FakeBase):
    """Who the bot is, and the conversations it is in."""

    def _m_auth_test(self, a: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": "shipbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_apps_connections_open(self, a: dict[str, Any]) -> dict[str, Any]:
        if self._socket_url is None:
            raise Fail("socket_mode_not_enabled", "[ERROR] call set_socket_url() on the fake")
        return {"url": self._socket_url}

    def _m_conversations_join(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("channel"):
            raise Fail("channel_not_found")
        channel = self._channel(a["channel"])
        if channel.private:
            raise Fail("method_not_supported_for_channel_type")
        channel.member = True
        return {"channel": channel.info()}

    def _m_conversations_open(self, a: dict[str, Any]) -> dict[str, Any]:
        """A DM with one user (`users`): the bot's D… conversation, where it is a member."""
        users = [u for u in str(a.get("users") or "").split(",") if u]
        if len(users) != 1 or users[0][:1] not in ("U", "W"):
            raise Fail("users_not_found" if users else "invalid_arguments")
        dm_id = "D" + users[0][1:]
        if dm_id not in self._channels:
            self._channels[dm_id] = Channel(dm_id, f"dm-{users[0].lower()}", private=True)
        return {"channel": {"id": dm_id, "is_im": True, "user": users[0]}}

    def _m_conversations_info(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("channel"):
            raise Fail("channel_not_found")
        return {"channel": self._channel(a["channel"]).info()}
