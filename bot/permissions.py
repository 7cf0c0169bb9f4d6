"""Who may do what: one place, consulted before any carrier call."""

from __future__ import annotations

from enum import StrEnum

from bot.models import ConsignmentRecord
from bot.settings import Settings


class Action(StrEnum):
    SHIP = "ship"
    CANCEL = "cancel"
    MANIFEST = "manifest"
    APPROVE = "approve"


_VERBS = {
    Action.SHIP: "ship parcels",
    Action.CANCEL: "cancel consignments",
    Action.MANIFEST: "manifest",
    Action.APPROVE: "approve expensive labels",
}


class Permissions:
    def __init__(self, settings: Settings) -> None:
        self._allowed: dict[Action, list[str]] = {
            Action.SHIP: settings.shipbot_ship_users,
            Action.CANCEL: settings.shipbot_cancel_users,
            Action.MANIFEST: settings.shipbot_manifest_users,
            Action.APPROVE: settings.shipbot_approvers,
        }
        self._auditors = frozenset(settings.shipbot_auditors)

    def users(self, action: Action) -> list[str]:
        """The users named for `action`; empty means everyone may."""
        return list(self._allowed[action])

    def allows(self, action: Action, user: str) -> bool:
        allowed = self._allowed[action]
        return not allowed or user in allowed

    def refusal(self, action: Action) -> str:
        """Says who can help, so the agent knows whom to ask."""
        names = [f"<@{u}>" for u in self._allowed[action]]
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"Only {who} can {_VERBS[action]}. Ask one of them, or run `/ship help`."

    def sees_everything(self, user: str) -> bool:
        """SHIPBOT_AUDITORS look up consignments of every channel."""
        return user in self._auditors

    def may_see(self, user: str, channel: str, c: ConsignmentRecord) -> bool:
        """A consignment is seen from its own channel, by the people who worked on it, and
        by auditors: a private channel's recipients don't leak into #general."""
        return (
            c.channel_id == channel
            or user in (c.created_by, c.claimed_by)
            or self.sees_everything(user)
        )
