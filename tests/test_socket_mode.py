"""FakeSocketMode against a tiny real Bolt app over a real WebSocket on loopback.

The app is built here (not shipbot's) so these tests pin down the fake and the protocol:
hello, envelopes and acks, answers in acks, reconnection on `disconnect`, missing acks.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt import Ack, App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from websockets.exceptions import ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect

from bot.devslack.driver import state_value
from bot.devslack.server import FakeSlack
from bot.devslack.socket import FakeSocketMode, SocketDriver

CHANNEL = "C0SHIP01"
MODAL = {
    "type": "modal",
    "callback_id": "parcel",
    "title": {"type": "plain_text", "text": "Parcel"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "weight",
            "label": {"type": "plain_text", "text": "Weight (kg)"},
            "element": {"type": "plain_text_input", "action_id": "kg"},
        }
    ],
}
BUTTON = {
    "type": "actions",
    "block_id": "quote",
    "elements": [
        {
            "type": "button",
            "action_id": "pick",
            "value": "q1",
            "text": {"type": "plain_text", "text": "Pick"},
        }
    ],
}


@dataclass
class Rig:
    fake: FakeSlack
    socket_mode: FakeSocketMode
    driver: SocketDriver
    handler: SocketModeHandler
    seen: list[dict[str, Any]]


def _app(fake: FakeSlack, seen: list[dict[str, Any]]) -> App:
    app = App(client=WebClient(token="xoxb-test", base_url=fake.url), process_before_response=True)

    @app.command("/ship")
    def ship(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        if body["text"] == "post":
            client.chat_postMessage(channel=body["channel_id"], text="Quotes", blocks=[BUTTON])
            ack()
        elif body["text"] == "hello":
            ack("Hi there")
        else:
            client.views_open(trigger_id=body["trigger_id"], view=MODAL)
            ack()

    @app.view("parcel")
    def submitted(ack: Ack, view: dict[str, Any]) -> None:
        kg = view["state"]["values"]["weight"]["kg"]["value"]
        if not kg.isdigit():
            ack(response_action="errors", errors={"weight": "Weight must be a whole number"})
        else:
            ack()

    @app.action("pick")
    def pick(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        message = body["container"]
        client.chat_update(
            channel=message["channel_id"], ts=message["message_ts"], text="Picked", blocks=[]
        )

    @app.event("app_mention")
    def mention(ack: Ack, event: dict[str, Any], request: Any) -> None:
        seen.append({"event": event, "retry": request.headers.get("x-slack-retry-num")})
        ack()

    return app


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    """One app and one handler for the module: slack_sdk's client takes ~1 s to close.

    Tests share it, so each looks only at what its own envelopes caused.
    """
    with FakeSlack() as fake, FakeSocketMode(fake) as socket_mode:
        seen: list[dict[str, Any]] = []
        handler = SocketModeHandler(_app(fake, seen), app_token="xapp-test")
        try:
            handler.connect()
            socket_mode.wait_connected()
            yield Rig(fake, socket_mode, SocketDriver(socket_mode), handler, seen)
        finally:
            handler.close()


def test_a_command_opens_the_modal_with_its_trigger(rig: Rig) -> None:
    views = len(rig.fake.opened_views())

    assert rig.driver.command() == {}

    [view] = rig.fake.opened_views()[views:]
    assert view["callback_id"] == "parcel" and rig.fake.is_open(view["id"])
    delivery = rig.socket_mode.deliveries[-1]
    eid = delivery.envelope["envelope_id"]
    assert delivery.connection == rig.socket_mode.connections
    assert delivery.envelope["type"] == "slash_commands"
    assert delivery.envelope["accepts_response_payload"] is True
    assert delivery.envelope["payload"]["trigger_id"] == rig.driver.last_trigger_id
    assert rig.socket_mode.acks[-1] == {"envelope_id": eid}
    assert eid not in rig.socket_mode.unacked() and rig.socket_mode.notes == []


def test_a_command_answer_travels_in_the_ack_and_reaches_the_user(rig: Rig) -> None:
    assert rig.driver.command("hello", user="U0HELLO1") == {"text": "Hi there"}

    [ephemeral] = [e for e in rig.fake.ephemerals if e.user == "U0HELLO1"]
    assert ephemeral.text == "Hi there" and ephemeral.channel == CHANNEL


def test_field_errors_come_back_in_the_ack_and_keep_the_modal_open(rig: Rig) -> None:
    rig.driver.command()
    view = rig.fake.opened_views()[-1]

    ack = rig.driver.submit_view(view, {"weight": {"kg": state_value("plain_text_input", "x")}})

    assert ack == {
        "response_action": "errors",
        "errors": {"weight": "Weight must be a whole number"},
    }
    assert rig.fake.is_open(view["id"])
    envelope = rig.socket_mode.deliveries[-1].envelope
    assert envelope["type"] == "interactive" and envelope["accepts_response_payload"] is True

    ok = rig.driver.submit_view(view, {"weight": {"kg": state_value("plain_text_input", "2")}})
    assert ok == {}
    assert not rig.fake.is_open(view["id"])  # a plain ack closes the modal, as in Slack


def test_a_click_is_acked_and_its_listener_edits_the_message(rig: Rig) -> None:
    rig.driver.command("post")
    message = rig.fake.messages(CHANNEL)[-1]
    assert message.text == "Quotes"

    assert rig.driver.click(CHANNEL, message.ts, "pick") == {}

    assert rig.fake.message(CHANNEL, message.ts).text == "Picked"
    envelope = rig.socket_mode.deliveries[-1].envelope
    assert envelope["payload"]["actions"][0]["value"] == "q1"
    assert envelope["accepts_response_payload"] is False


def test_an_event_carries_its_retry_in_the_envelope(rig: Rig) -> None:
    event = {"type": "app_mention", "user": "U0AGENT1", "text": "<@UBOT> hi", "channel": CHANNEL}

    assert rig.driver.event(event, retry_num=1, retry_reason="http_timeout") == {}

    seen = rig.seen[-1]
    assert seen["event"]["text"] == "<@UBOT> hi" and seen["retry"] == ["1"]
    envelope = rig.socket_mode.deliveries[-1].envelope
    assert (envelope["type"], envelope["retry_attempt"], envelope["retry_reason"]) == (
        "events_api",
        1,
        "http_timeout",
    )


def test_refresh_requested_makes_the_client_reconnect_and_carry_on(rig: Rig) -> None:
    before = rig.socket_mode.connections
    opened = len(rig.fake.calls_to("apps.connections.open"))
    rig.socket_mode.disconnect("refresh_requested")
    rig.socket_mode.wait_connected()

    assert rig.driver.command("hello") == {"text": "Hi there"}

    assert rig.socket_mode.connections == before + 1
    assert rig.socket_mode.deliveries[-1].connection == before + 1
    opens = rig.fake.calls_to("apps.connections.open")[opened:]
    assert len(opens) == 1 and opens[0].ok
    assert rig.socket_mode.refused == 0 and rig.socket_mode.notes == []


def test_an_envelope_nobody_acks_is_reported(rig: Rig) -> None:
    form = rig.driver.command_payload(command="/nobody-listens")

    with pytest.raises(AssertionError, match="did not ack the slash_commands envelope"):
        rig.socket_mode.send_command(form, timeout=0.5)

    eid = rig.socket_mode.deliveries[-1].envelope["envelope_id"]
    assert eid in rig.socket_mode.unacked()
    assert eid not in [ack["envelope_id"] for ack in rig.socket_mode.acks]


# -- the protocol itself, with a bare WebSocket client --------------------------------------


@pytest.fixture
def socket_mode() -> Iterator[FakeSocketMode]:
    with FakeSlack() as fake, FakeSocketMode(fake) as running:
        yield running


def _open_url(fake: FakeSlack) -> str:
    answer = WebClient(token="xapp-test", base_url=fake.url).apps_connections_open(
        app_token="xapp-test"
    )
    return str(answer["url"])


def test_hello_then_acks_are_matched_by_envelope_id(socket_mode: FakeSocketMode) -> None:
    url = _open_url(socket_mode.fake)
    assert url.startswith(socket_mode.url + "/?ticket=") and url.endswith("&app_id=A0001")

    with connect(url, proxy=None) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": "A0001"}
        results: list[dict[str, Any]] = []
        sender = threading.Thread(
            target=lambda: results.append(socket_mode.send("slash_commands", {"text": "x"}))
        )
        sender.start()
        envelope = json.loads(ws.recv(timeout=5))
        assert envelope["type"] == "slash_commands" and envelope["payload"] == {"text": "x"}
        ws.send(json.dumps({"envelope_id": "not-one-of-ours"}))
        ws.send(json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "ok"}}))
        sender.join(timeout=5)

    assert results == [{"text": "ok"}]
    assert socket_mode.unacked() == []
    assert socket_mode.notes == ["ack for an envelope never sent: not-one-of-ours"]


def test_each_open_hands_out_a_fresh_ticket_and_unknown_ones_are_refused(
    socket_mode: FakeSocketMode,
) -> None:
    first = _open_url(socket_mode.fake)
    with connect(first, proxy=None) as ws:
        json.loads(ws.recv(timeout=5))
    second = _open_url(socket_mode.fake)
    assert second != first

    for bad in (socket_mode.url, socket_mode.url + "/?ticket=forged&app_id=A0001"):
        with pytest.raises(InvalidStatus) as refused:
            connect(bad, proxy=None)
        assert refused.value.response.status_code == 401

    assert socket_mode.connections == 1 and socket_mode.refused == 2


def test_without_a_connection_nothing_is_delivered(socket_mode: FakeSocketMode) -> None:
    with pytest.raises(AssertionError, match="no live Socket Mode connection"):
        socket_mode.send_event({"type": "event_callback"}, timeout=0.2)
    with pytest.raises(AssertionError, match="no live Socket Mode connection"):
        socket_mode.disconnect()
    assert socket_mode.deliveries == []


def test_disconnect_sends_the_reason_then_closes(socket_mode: FakeSocketMode) -> None:
    with connect(_open_url(socket_mode.fake), proxy=None) as ws:
        json.loads(ws.recv(timeout=5))
        socket_mode.disconnect("refresh_requested", grace=0.2)
        message = json.loads(ws.recv(timeout=5))
        assert message["type"] == "disconnect" and message["reason"] == "refresh_requested"
        assert message["debug_info"]["host"]
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=5)
    assert not socket_mode.is_connected
