"""views.* methods, trigger ids and the modal stacks they open."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.views import View

from bot.devslack.base import FakeBase
from bot.devslack.blockcheck import check_blocks
from bot.devslack.records import (
    APP_ID,
    BOT_ID,
    TEAM_ID,
    VIEW_BLOCKS_MAX,
    VIEW_MAX_BYTES,
    VIEW_STACK_MAX,
    Call,
    Fail,
    Trigger,
)


class ViewMethods(FakeBase):
    """Modals (stacked, at most three) and Home tabs."""

    def issue_trigger(self, view_id: str | None = None) -> str:
        """A trigger as Slack puts in an interaction; `view_id` when it came from a modal."""
        with self._lock:
            tid = f"{len(self._triggers) + 1}.{self._rand.randrange(10**9)}.{self._hex(16)}"
            self._triggers[tid] = Trigger(time.monotonic(), view_id)
            return tid

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._views)

    def opened_views(self, since: int = 0) -> list[dict[str, Any]]:
        """Views from views.open and views.push, in order, each as it is now; `since` skips
        the first ones (a benchmark polling for new modals need not copy them all again)."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in self._opened[since:]]

    def is_open(self, view_id: str) -> bool:
        with self._lock:
            return any(view_id in stack for stack in self._stacks.values())

    @property
    def home_views(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._home)

    def apply_view_ack(self, view_id: str, ack: dict[str, Any]) -> None:
        """Recorded as a "view_ack" call; a bad view in the ack fails it like Slack would."""
        with self._lock:
            error = None
            try:
                stack = self._stack_of(view_id)
                action = ack.get("response_action")
                if action == "update":
                    view = self._check_view(ack.get("view"), {"modal"})
                    self._views[view_id] = self._stored_view(view, view_id, self._views[view_id])
                elif action == "push":
                    if len(stack) >= VIEW_STACK_MAX:
                        raise Fail("push_limit_reached")
                    self._push(self._check_view(ack.get("view"), {"modal"}), stack)
                elif action == "clear":
                    stack.clear()
                elif action != "errors" and view_id in stack:
                    del stack[stack.index(view_id) :]
            except Fail as fail:
                error = fail.error
                self.notes.append(f"view ack refused: {fail.error} {fail.messages}")
            args = {"view_id": view_id, **ack}
            self._calls.append(Call("view_ack", args, time.monotonic(), error is None, error))

    def _m_views_open(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("trigger_id") or not a.get("view"):
            raise Fail("invalid_arguments", "[ERROR] trigger_id and view are required")
        trigger = self._use_trigger(a["trigger_id"])
        stored = self._push(self._check_view(a["view"], {"modal"}), [])
        trigger.used = True
        return {"view": copy.deepcopy(stored)}

    def _m_views_push(self, a: dict[str, Any]) -> dict[str, Any]:
        if not a.get("trigger_id") or not a.get("view"):
            raise Fail("invalid_arguments", "[ERROR] trigger_id and view are required")
        trigger = self._use_trigger(a["trigger_id"])
        if trigger.view_id is None or not self.is_open(trigger.view_id):
            raise Fail("invalid_arguments", "[ERROR] trigger_id must come from an open modal")
        stack = self._stack_of(trigger.view_id)
        if len(stack) >= VIEW_STACK_MAX:
            raise Fail("push_limit_reached")
        stored = self._push(self._check_view(a["view"], {"modal"}), stack)
        trigger.used = True
        return {"view": copy.deepcopy(stored)}

    def _m_views_update(self, a: dict[str, Any]) -> dict[str, Any]:
        view_id = a.get("view_id")
        if not view_id and a.get("external_id"):
            matches = [
                k for k, v in self._views.items() if v.get("external_id") == a["external_id"]
            ]
            view_id = matches[0] if matches else None
            if view_id is None:
                raise Fail("not_found")
        if not view_id or not a.get("view"):
            raise Fail("invalid_arguments", "[ERROR] view and view_id or external_id are required")
        current = self._views.get(view_id)
        if current is None or not self.is_open(view_id):
            raise Fail("not_found")
        if a.get("hash") and a["hash"] != current["hash"]:
            raise Fail("hash_conflict")
        stored = self._stored_view(self._check_view(a["view"], {"modal"}), view_id, current)
        self._views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _m_views_publish(self, a: dict[str, Any]) -> dict[str, Any]:
        user = a.get("user_id")
        if not user or not a.get("view"):
            raise Fail("invalid_arguments", "[ERROR] user_id and view are required")
        current = self._home.get(user)
        if a.get("hash") and (current is None or a["hash"] != current["hash"]):
            raise Fail("hash_conflict")
        view = self._check_view(a["view"], {"home"})
        stored = self._stored_view(view, current["id"] if current else self._id("V"), None)
        self._home[user] = stored
        return {"view": copy.deepcopy(stored)}

    def _use_trigger(self, trigger_id: Any) -> Trigger:
        trigger = self._triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None:
            raise Fail("invalid_trigger_id")
        if trigger.used:
            raise Fail("exchanged_trigger_id")
        if time.monotonic() - trigger.issued_at > self.trigger_ttl:
            raise Fail("expired_trigger_id")
        return trigger

    def _check_view(self, view: Any, kinds: set[str]) -> dict[str, Any]:
        """Slack answers invalid_arguments (not invalid_blocks) for a bad view."""
        if not isinstance(view, dict):
            raise Fail(
                "invalid_arguments", "[ERROR] view must be a JSON object [json-pointer:/view]"
            )
        if view.get("type") not in kinds:
            want = " or ".join(sorted(kinds))
            raise Fail(
                "invalid_arguments", f"[ERROR] type must be {want} [json-pointer:/view/type]"
            )
        if len(json.dumps(view)) > VIEW_MAX_BYTES:
            raise Fail("view_too_large")
        blocks = check_blocks(
            view.get("blocks"), VIEW_BLOCKS_MAX, "invalid_arguments", "/view/blocks"
        )
        try:
            View(**copy.deepcopy(view)).to_dict()
        except SlackObjectFormationError as e:
            raise Fail("invalid_arguments", f"[ERROR] {e} [json-pointer:/view]") from None
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            raise Fail("invalid_arguments", f"[ERROR] malformed view: {e}") from None
        inputs = any(b.get("type") == "input" for b in blocks)
        if view["type"] == "modal" and inputs and not view.get("submit"):
            raise Fail("invalid_arguments", "[ERROR] must define submit to use input block")
        return {**copy.deepcopy(view), "blocks": self._with_block_ids(blocks)}

    def _stored_view(
        self, view: dict[str, Any], view_id: str, previous: dict[str, Any] | None
    ) -> dict[str, Any]:
        stored = {
            "callback_id": "",
            "external_id": "",
            "private_metadata": "",
            "clear_on_close": False,
            "notify_on_close": False,
            **view,
            "id": view_id,
            "team_id": TEAM_ID,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{self._hex(8)}",
            "root_view_id": previous["root_view_id"] if previous else view_id,
            "previous_view_id": previous.get("previous_view_id") if previous else None,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        return stored

    def _push(self, view: dict[str, Any], stack: list[str]) -> dict[str, Any]:
        external_id = view.get("external_id")
        if external_id and any(v.get("external_id") == external_id for v in self._views.values()):
            raise Fail("duplicate_external_id")
        view_id = self._id("V")
        stored = self._stored_view(view, view_id, None)
        if stack:
            stored["root_view_id"], stored["previous_view_id"] = stack[0], stack[-1]
        else:
            self._stacks[view_id] = stack
        stack.append(view_id)
        self._views[view_id] = stored
        self._opened.append(view_id)
        return stored

    def _stack_of(self, view_id: str) -> list[str]:
        view = self._views.get(view_id)
        if view is None:
            raise Fail("not_found")
        return self._stacks.setdefault(view["root_view_id"], [])
