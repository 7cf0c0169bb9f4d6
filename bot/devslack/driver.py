"""SlackDriver: sends our app what Slack would send, signed, over real HTTP.

Payloads are built from what the FakeSlack recorded (the view as opened, the message as it
is now), so a test can only click a button the bot really showed, and only submit a modal
that is still open: a driver that invents its own payloads would test an imaginary Slack.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload
from urllib.parse import urlencode

import httpx

from bot.devslack.server import BOT_USER_ID, TEAM_DOMAIN, Ephemeral, FakeSlack, Message

DEFAULT_USER = "U0AGENT1"
DEFAULT_CHANNEL = "C0SHIP01"
CUSTOMER_USER = "U0CUSTMR1"  # who wrote a message an agent runs a shortcut on
# Slack still sends the deprecated verification token; Bolt ignores it.
VERIFICATION_TOKEN = "fake-verification-token"
R = TypeVar("R")
P = ParamSpec("P")
_SELECTS = {"static_select", "radio_buttons", "overflow", "external_select"}


def state_value(kind: str, value: str | None, *, text: str | None = None) -> dict[str, Any]:
    """One `view.state.values[block_id][action_id]` entry, shaped as Slack sends it."""
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        return {"type": kind, "value": value}
    if kind in _SELECTS:
        option = None
        if value is not None:
            label = {"type": "plain_text", "text": text or value, "emoji": True}
            option = {"text": label, "value": value}
        return {"type": kind, "selected_option": option}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "checkboxes":
        label = {"type": "plain_text", "text": text or value}
        return {
            "type": kind,
            "selected_options": [] if value is None else [{"text": label, "value": value}],
        }
    raise ValueError(f"unsupported input kind: {kind}")


def _find_element(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None
) -> tuple[dict[str, Any], str]:
    seen: list[str] = []
    for block in blocks:
        elements = list(block.get("elements") or [])
        elements += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
        for element in elements:
            if not isinstance(element, dict) or "action_id" not in element:
                continue
            seen.append(f"{block.get('block_id')}/{element['action_id']}")
            if element["action_id"] == action_id and block_id in (None, block.get("block_id")):
                return element, str(block.get("block_id"))
    raise LookupError(f"no element {block_id or '*'}/{action_id} on this surface; found {seen}")


class _Sends(Generic[P]):
    """A payload method's delivering twin: the same arguments, the payload handed to the
    transport's hook (`_deliver` unless named)."""

    def __init__(
        self, build: Callable[Concatenate[Any, P], dict[str, Any]], hook: str = "_deliver"
    ) -> None:
        self.build = build
        self.hook = hook

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> _Sends[P]: ...
    @overload
    def __get__(self, obj: SlackPayloads[R], owner: type[Any]) -> Callable[P, R]: ...
    def __get__(self, obj: SlackPayloads[R] | None, owner: type[Any]) -> _Sends[P] | Callable[P, R]:
        if obj is None:
            return self
        deliver: Callable[[dict[str, Any]], R] = getattr(obj, self.hook)

        def send(*args: P.args, **kwargs: P.kwargs) -> R:
            return deliver(self.build(obj, *args, **kwargs))

        return send


class SlackPayloads(Generic[R]):
    """Builds what Slack sends, from what the FakeSlack recorded; no transport.

    SlackDriver posts these over signed HTTP, SocketDriver sends them as Socket Mode
    envelopes: one set of payloads, so both transports test the same Slack.
    """

    def __init__(self, fake: FakeSlack, *, team_id: str = "T0001", api_app_id: str = "A0001"):
        self.fake = fake
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.last_trigger_id: str | None = None
        self.last_response_url: str | None = None

    def command_payload(
        self,
        text: str = "",
        *,
        user: str = DEFAULT_USER,
        channel: str = DEFAULT_CHANNEL,
        command: str = "/ship",
    ) -> dict[str, str]:
        """A slash command's fields, with a fresh response_url and trigger_id."""
        self.last_response_url = self.fake.new_response_url(channel=channel, user=user)
        self.last_trigger_id = self.fake.issue_trigger()
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": self.fake.channel_name(channel),
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.last_response_url,
            "trigger_id": self.last_trigger_id,
        }

    def view_submission_payload(
        self,
        view: dict[str, Any] | str,
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        user: str = DEFAULT_USER,
    ) -> dict[str, Any]:
        """Refuses a view that is not open: Slack could not submit it."""
        view_id = view if isinstance(view, str) else view["id"]
        current = self.fake.views.get(view_id)
        if current is None or not self.fake.is_open(view_id):
            raise LookupError(f"view {view_id} is not open in the fake; Slack could not submit it")
        self.last_trigger_id = self.fake.issue_trigger(view_id)
        return {
            **self._common(user),
            "type": "view_submission",
            "trigger_id": self.last_trigger_id,
            "view": {**current, "state": {"values": values}},
            "response_urls": [],
        }

    def click_payload(
        self,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str | None = None,
        user: str = DEFAULT_USER,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """block_actions on a message as it is now; `value` defaults to the element's."""
        message = self.fake.message(channel, message_ts)
        element, found_block = _find_element(message.blocks, action_id, block_id)
        action = _action(element, found_block, value)
        thread_ts = thread_ts or message.thread_ts
        return self._message_click(channel, message_ts, thread_ts, user, action, message=message)

    def click_ephemeral_payload(
        self,
        ephemeral: Ephemeral,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str | None = None,
    ) -> dict[str, Any]:
        """Ephemeral messages come without `message`; Slack sends only the container."""
        element, found_block = _find_element(ephemeral.blocks, action_id, block_id)
        action = _action(element, found_block, value)
        return self._message_click(
            ephemeral.channel, ephemeral.message_ts, ephemeral.thread_ts, ephemeral.user, action
        )

    def _message_click(
        self,
        channel: str,
        message_ts: str,
        thread_ts: str | None,
        user: str,
        action: dict[str, Any],
        *,
        message: Message | None = None,
    ) -> dict[str, Any]:
        """block_actions on a message; without `message` on an ephemeral one, which Slack
        sends as the container only, with a response_url not bound to a message."""
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": message is None,
        }
        if thread_ts:
            container["thread_ts"] = thread_ts
        self.last_response_url = self.fake.new_response_url(
            channel=channel, message_ts=message_ts if message else None, user=user
        )
        self.last_trigger_id = self.fake.issue_trigger()
        return {
            **self._common(user),
            "type": "block_actions",
            "container": container,
            "trigger_id": self.last_trigger_id,
            "channel": {"id": channel, "name": self.fake.channel_name(channel)},
            **({"message": message.to_dict()} if message else {}),
            "state": {"values": {}},
            "response_url": self.last_response_url,
            "actions": [action],
        }

    def click_in_view_payload(
        self,
        view_id: str,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str | None = None,
        user: str = DEFAULT_USER,
        values: dict[str, dict[str, dict[str, Any]]] | None = None,
    ) -> dict[str, Any]:
        """A click inside a modal or an App Home tab (no response_url, as in Slack); `values`
        is what the agent has typed so far (Slack sends it as `view.state`)."""
        view = self.fake.views.get(view_id)
        if view is None:
            homes = [v for v in self.fake.home_views.values() if v["id"] == view_id]
            view = homes[0] if homes else None
        elif not self.fake.is_open(view_id):
            raise LookupError(f"view {view_id} is closed")
        if view is None:
            raise LookupError(f"no view {view_id} in the fake")
        element, found_block = _find_element(view["blocks"], action_id, block_id)
        modal = view["type"] == "modal"
        self.last_trigger_id = self.fake.issue_trigger(view_id if modal else None)
        return {
            **self._common(user),
            "type": "block_actions",
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": self.last_trigger_id,
            "view": {**view, "state": {"values": values or {}}} if values else view,
            "actions": [_action(element, found_block, value)],
        }

    def message_action_payload(
        self,
        channel: str,
        callback_id: str,
        *,
        text: str | None = None,
        message_ts: str | None = None,
        author: str = CUSTOMER_USER,
        user: str = DEFAULT_USER,
    ) -> dict[str, Any]:
        """A message shortcut, shaped as Slack sends it (`message_action`: the message, its
        channel, a trigger_id and a response_url). The message is one in the fake
        (`message_ts`) or one a person wrote (`text`), which the fake Web API never saw."""
        if message_ts is not None:
            message = self.fake.message(channel, message_ts).to_dict()
        elif text is not None:
            message_ts = f"{time.time():.6f}"
            message = {"type": "message", "ts": message_ts, "user": author, "text": text}
        else:
            raise ValueError("give the message's text or its ts")
        self.last_response_url = self.fake.new_response_url(channel=channel, user=user)
        self.last_trigger_id = self.fake.issue_trigger()
        return {
            **self._common(user),
            "type": "message_action",
            "callback_id": callback_id,
            "trigger_id": self.last_trigger_id,
            "action_ts": f"{time.time():.6f}",
            "message_ts": message_ts,
            "channel": {"id": channel, "name": self.fake.channel_name(channel)},
            "message": message,
            "response_url": self.last_response_url,
        }

    def event_payload(
        self, event: dict[str, Any], *, event_id: str | None = None
    ) -> dict[str, Any]:
        """The Events API `event_callback` envelope around one event."""
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    # -- what Slack sends: built once, delivered by the transport's `_deliver*` -------------
    # Each takes its payload method's arguments (one signature, so the two cannot drift).
    command = _Sends(command_payload, "_deliver_command")
    """A slash command; a non-empty answer (`ack(text)`) reaches the user as in Slack."""
    submit_view = _Sends(view_submission_payload, "_deliver_view")
    """Submit an open modal; its answer (errors/update/push/clear/close) reaches the fake."""
    click = _Sends(click_payload)
    """Click an element of a message as it is now; `value` defaults to the element's."""
    click_ephemeral = _Sends(click_ephemeral_payload)
    click_in_view = _Sends(click_in_view_payload)
    """A click inside a modal or an App Home tab (no response_url, as in Slack)."""
    message_shortcut = _Sends(message_action_payload)
    """A message shortcut (the message's "More actions" menu)."""

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> R:
        envelope = self.event_payload(event, event_id=event_id)
        return self._deliver_event(envelope, retry_num, retry_reason)

    # -- transport hooks --------------------------------------------------------------------
    def _deliver_command(self, form: dict[str, str]) -> R:
        raise NotImplementedError

    def _deliver_view(self, payload: dict[str, Any]) -> R:
        raise NotImplementedError

    def _deliver(self, payload: dict[str, Any]) -> R:
        raise NotImplementedError

    def _deliver_event(
        self, envelope: dict[str, Any], retry_num: int | None, retry_reason: str | None
    ) -> R:
        raise NotImplementedError

    def _common(self, user: str) -> dict[str, Any]:
        return {
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "user": {
                "id": user,
                "username": user.lower(),
                "name": user.lower(),
                "team_id": self.team_id,
            },
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "enterprise": None,
            "is_enterprise_install": False,
        }


class SlackDriver(SlackPayloads[httpx.Response]):
    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        fake: FakeSlack,
        *,
        team_id: str = "T0001",
        api_app_id: str = "A0001",
    ) -> None:
        super().__init__(fake, team_id=team_id, api_app_id=api_app_id)
        self.app_url = app_url
        self.signing_secret = signing_secret
        self._http = httpx.Client(timeout=10.0)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SlackDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------
    def _deliver_command(self, form: dict[str, str]) -> httpx.Response:
        response = self.post_raw(urlencode(form), content_type="application/x-www-form-urlencoded")
        if response.status_code == 200 and response.content.strip():
            is_json = response.headers.get("content-type", "").startswith("application/json")
            ack = response.json() if is_json else {"text": response.text}
            self.fake.apply_command_ack(form["channel_id"], form["user_id"], ack)
        return response

    def _deliver_view(self, payload: dict[str, Any]) -> httpx.Response:
        response = self.post_payload(payload)
        if response.status_code == 200:
            ack = response.json() if response.content.strip() else {}
            self.fake.apply_view_ack(payload["view"]["id"], ack if isinstance(ack, dict) else {})
        return response

    def _deliver(self, payload: dict[str, Any]) -> httpx.Response:
        return self.post_payload(payload)

    def _deliver_event(
        self, envelope: dict[str, Any], retry_num: int | None, retry_reason: str | None
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
        if retry_reason is not None:
            headers["X-Slack-Retry-Reason"] = retry_reason
        return self.post_raw(json.dumps(envelope), content_type="application/json", headers=headers)

    def post_raw(
        self,
        body: str,
        *,
        content_type: str,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Signed with our secret unless `signature` is given; pass an old `timestamp` to forge
        a replay."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or self.sign(body, ts),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **(headers or {}),
        }
        return self._http.post(self.app_url, content=body.encode(), headers=all_headers)

    def sign(self, body: str, timestamp: str) -> str:
        base = f"v0:{timestamp}:{body}".encode()
        return "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()

    def post_payload(self, payload: dict[str, Any]) -> httpx.Response:
        """An interaction payload as Slack posts it (form-encoded under `payload`), signed
        afresh: a test's own or a crafted payload, or one delivered again."""
        body = urlencode({"payload": json.dumps(payload)})
        return self.post_raw(body, content_type="application/x-www-form-urlencoded")


def _action(element: dict[str, Any], block_id: str, value: str | None) -> dict[str, Any]:
    kind = element.get("type", "button")
    action: dict[str, Any] = {
        "action_id": element["action_id"],
        "block_id": block_id,
        "type": kind,
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "external_select":
        label = {"type": "plain_text", "text": value or ""}
        action["selected_option"] = None if value is None else {"text": label, "value": value}
    elif kind in _SELECTS:
        options = [o for o in element.get("options") or [] if o.get("value") == value]
        if value is not None and not options:
            raise LookupError(f"{element['action_id']} has no option {value!r}")
        action["selected_option"] = options[0] if options else None
    else:
        action["value"] = element.get("value") if value is None else value
        if "text" in element:
            action["text"] = element["text"]
    return action
