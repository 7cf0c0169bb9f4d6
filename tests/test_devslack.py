"""The fake Slack against slack_sdk's real WebClient, and the driver against a real Bolt app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.error import HTTPError

import httpx
import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.devslack import (
    FakeSlack,
    SlackDriver,
    render_blocks,
    render_message,
    serve_wsgi,
    state_value,
)

SECRET = "s3cret"
CHANNEL = "C0SHIP01"


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(label: str, action_id: str, value: str = "v") -> dict[str, Any]:
    text = {"type": "plain_text", "text": label}
    return {"type": "button", "text": text, "action_id": action_id, "value": value}


def modal(title: str = "Ship a parcel", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "ship_form",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Get quotes"},
        "blocks": [
            {
                "type": "input",
                "block_id": "weight",
                "label": {"type": "plain_text", "text": "Weight (kg)"},
                "element": {
                    "type": "number_input",
                    "action_id": "weight",
                    "is_decimal_allowed": True,
                },
            },
            {"type": "actions", "elements": [button("Customs details", "more")]},
        ],
        **extra,
    }


def api_error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(excinfo.value.response["error"])


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url)


# -- Web API ---------------------------------------------------------------------------------


def test_post_thread_and_update_keep_history(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="📦 EC-1", blocks=[section("📦 EC-1")])
    reply = client.chat_postMessage(channel=CHANNEL, text="quotes", thread_ts=parent["ts"])
    assert float(reply["ts"]) > float(parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]

    client.chat_update(
        channel=CHANNEL, ts=parent["ts"], text="✅ EC-1", blocks=[section("✅ done")]
    )

    assert [m.ts for m in fake.messages(CHANNEL)] == [parent["ts"]]
    assert [m.text for m in fake.thread(CHANNEL, parent["ts"])] == ["quotes"]
    current = fake.message(CHANNEL, parent["ts"])
    assert current.text == "✅ EC-1"
    assert [v["text"] for v in current.history] == ["📦 EC-1", "✅ EC-1"]
    with pytest.raises(SlackApiError) as missing:
        client.chat_update(channel=CHANNEL, ts="1.000001", text="x")
    assert api_error(missing) == "message_not_found"
    with pytest.raises(SlackApiError) as empty, pytest.warns(UserWarning, match="text"):
        client.chat_postMessage(channel=CHANNEL, text="")
    assert api_error(empty) == "no_text"


def test_wait_for_explains_a_timeout(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel=CHANNEL, text="📦 first")
    with pytest.raises(AssertionError, match=r"(?s)KeyError.*chat.postMessage -> ok.*📦 first"):
        fake.wait_for(lambda: fake.message(CHANNEL, "1.000001").text == "x", timeout=0.05)


def test_tokens_are_checked(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as no_token:
        WebClient(base_url=fake.url).auth_test()
    assert api_error(no_token) == "not_authed"
    with pytest.raises(SlackApiError) as app_token:
        WebClient(token="xapp-1", base_url=fake.url).chat_postMessage(channel=CHANNEL, text="x")
    assert api_error(app_token) == "invalid_auth"
    assert WebClient(token="xoxb-t", base_url=fake.url).auth_test()["user_id"] == "UBOT"
    fake.set_socket_url("ws://127.0.0.1:1/link")
    opened = WebClient(token="xapp-1", base_url=fake.url).apps_connections_open(app_token="xapp-1")
    assert opened["url"] == "ws://127.0.0.1:1/link"


def test_trigger_ids_are_single_use_and_known(fake: FakeSlack, client: WebClient) -> None:
    trigger = fake.issue_trigger()
    view = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "ship_form"
    assert fake.opened_views()[0]["hash"] == view["hash"]
    with pytest.raises(SlackApiError) as reused:
        client.views_open(trigger_id=trigger, view=modal())
    assert api_error(reused) == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as invented:
        client.views_open(trigger_id="123.456.abc", view=modal())
    assert api_error(invented) == "invalid_trigger_id"


def test_trigger_ids_expire() -> None:
    with FakeSlack(trigger_ttl=0.001) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        trigger = fake.issue_trigger()
        time.sleep(0.01)
        with pytest.raises(SlackApiError) as late:
            client.views_open(trigger_id=trigger, view=modal())
        assert api_error(late) == "expired_trigger_id"
        assert fake.opened_views() == []


def test_views_update_checks_hash_and_view(fake: FakeSlack, client: WebClient) -> None:
    view = client.views_open(trigger_id=fake.issue_trigger(), view=modal())["view"]
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Working"))
    assert fake.views[view["id"]]["title"]["text"] == "Working"
    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Again"))
    assert api_error(stale) == "hash_conflict"
    with pytest.raises(SlackApiError) as long_title:
        client.views_update(view_id=view["id"], hash=updated["view"]["hash"], view=modal("T" * 25))
    assert api_error(long_title) == "invalid_arguments"
    assert "title" in long_title.value.response["response_metadata"]["messages"][0]
    no_submit = modal()
    del no_submit["submit"]
    with pytest.raises(SlackApiError) as inputs:
        client.views_open(trigger_id=fake.issue_trigger(), view=no_submit)
    assert "submit" in inputs.value.response["response_metadata"]["messages"][0]


def test_block_kit_limits_give_invalid_blocks(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as too_many:
        client.chat_postMessage(channel=CHANNEL, text="x", blocks=[section("b")] * 51)
    assert api_error(too_many) == "invalid_blocks"
    assert "50" in too_many.value.response["response_metadata"]["messages"][0]
    wide = {"type": "actions", "elements": [button("x" * 76, "choose")]}
    with pytest.raises(SlackApiError) as long_label:
        client.chat_postMessage(channel=CHANNEL, text="x", blocks=[wide])
    assert api_error(long_label) == "invalid_blocks"
    assert "75" in long_label.value.response["response_metadata"]["messages"][0]
    assert fake.messages(CHANNEL) == []
    ok = client.chat_postMessage(channel=CHANNEL, text="x", blocks=[section("b")] * 50)
    assert len(fake.message(CHANNEL, ok["ts"]).blocks) == 50


def test_membership_join_and_private_channels(fake: FakeSlack, client: WebClient) -> None:
    fake.add_channel("C0PUBLIC1", member=False)
    fake.add_channel("G0PRIV001", private=True, member=False)
    with pytest.raises(SlackApiError) as outside:
        client.chat_postMessage(channel="C0PUBLIC1", text="hello")
    assert api_error(outside) == "not_in_channel"
    assert client.conversations_info(channel="C0PUBLIC1")["channel"]["is_member"] is False
    client.conversations_join(channel="C0PUBLIC1")
    client.chat_postMessage(channel="C0PUBLIC1", text="hello")
    assert [m.text for m in fake.messages("C0PUBLIC1")] == ["hello"]
    with pytest.raises(SlackApiError) as private:
        client.conversations_join(channel="G0PRIV001")
    assert api_error(private) == "method_not_supported_for_channel_type"
    assert client.conversations_info(channel="G0PRIV001")["channel"]["is_private"] is True


def test_ratelimit_429_then_retry_handler_succeeds(fake: FakeSlack, client: WebClient) -> None:
    fake.ratelimit_next("chat.postMessage", retry_after=1)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel=CHANNEL, text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "1"

    fake.ratelimit_next("chat.postMessage", retry_after=0)
    retrying = WebClient(
        token="xoxb-test",
        base_url=fake.url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    retrying.chat_postMessage(channel=CHANNEL, text="after retry")
    outcomes = [(c.ok, c.error) for c in fake.calls_to("chat.postMessage")]
    assert outcomes == [(False, "ratelimited"), (False, "ratelimited"), (True, None)]
    assert [m.text for m in fake.messages(CHANNEL)] == ["after retry"]


def test_fail_next_answers_the_error_once(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.update", "cant_update_message")
    ts = client.chat_postMessage(channel=CHANNEL, text="a")["ts"]
    with pytest.raises(SlackApiError) as failed:
        client.chat_update(channel=CHANNEL, ts=ts, text="b")
    assert api_error(failed) == "cant_update_message"
    client.chat_update(channel=CHANNEL, ts=ts, text="b")
    assert fake.message(CHANNEL, ts).text == "b"


def test_files_upload_v2_lands_in_the_thread(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="📦 EC-1")["ts"]
    pdf = b"%PDF-1.4 label bytes"
    result = client.files_upload_v2(
        channel=CHANNEL,
        thread_ts=parent,
        content=pdf,
        filename="EC-1.pdf",
        title="label EC-1",
        initial_comment="🧾 label",
    )
    (uploaded,) = fake.files
    assert result["file"]["id"] == uploaded.id
    assert (uploaded.data, uploaded.channel_id, uploaded.thread_ts) == (pdf, CHANNEL, parent)
    (share,) = fake.thread(CHANNEL, parent)
    assert share.text == "🧾 label" and share.files[0]["name"] == "EC-1.pdf"

    fake.fail_next("upload", "500")
    with pytest.raises(HTTPError, match="500"):  # urllib's error, not a SlackApiError
        client.files_upload_v2(channel=CHANNEL, content=b"x", filename="x.pdf")
    assert len(fake.files) == 1
    with pytest.raises(SlackApiError) as reply_ts:
        client.files_upload_v2(channel=CHANNEL, thread_ts=share.ts, content=b"x", filename="y")
    assert api_error(reply_ts) == "invalid_thread_ts"


def test_response_urls_record_and_replace(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="quotes", blocks=[section("q")])["ts"]
    url = fake.new_response_url(channel=CHANNEL, message_ts=ts, user="U0AGENT1")
    WebhookClient(url).send(text="only you", response_type="ephemeral")
    WebhookClient(url).send(text="✅ chosen", replace_original=True)
    assert [r["text"] for r in fake.responses_to(url)] == ["only you", "✅ chosen"]
    assert fake.message(CHANNEL, ts).text == "✅ chosen"
    assert [(e.user, e.text) for e in fake.ephemerals] == [("U0AGENT1", "only you")]


def test_ephemeral_and_permalink(fake: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="x")["ts"]
    eph = client.chat_postEphemeral(channel=CHANNEL, user="U0AGENT1", text="⚠️ expired")
    assert fake.ephemerals[0].message_ts == eph["message_ts"]
    link = client.chat_getPermalink(channel=CHANNEL, message_ts=ts)["permalink"]
    assert link == f"https://demo.slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}"


# -- the driver against a real Bolt app over HTTP ---------------------------------------------


@pytest.fixture
def bolt(fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SlackDriver, list]]:
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    seen: list[Any] = []
    app = App(client=WebClient(base_url=fake.url, token="xoxb-test"), signing_secret=SECRET)

    @app.command("/ship")
    def ship(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        if body["text"] == "help":
            ack("Use `/ship` to ship a parcel.")
            return
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=modal(private_metadata=CHANNEL))

    @app.view("ship_form")
    def submitted(ack: Any, view: dict[str, Any], client: WebClient) -> None:
        weight = view["state"]["values"]["weight"]["weight"]["value"]
        if float(weight) <= 0:
            ack(response_action="errors", errors={"weight": "Weight must be over 0 kg."})
            return
        ack()
        client.chat_postMessage(
            channel=view["private_metadata"],
            text=f"{weight} kg",
            blocks=[section(f"*DPD* · {weight} kg", accessory=button("Choose", "choose", "q1"))],
        )

    @app.action("choose")
    def chosen(ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text="chosen",
            blocks=[section(f"✅ {action['value']} by <@{body['user']['id']}>")],
        )

    @app.action("more")
    def more(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_push(trigger_id=body["trigger_id"], view=modal("Customs"))

    @app.event("app_mention")
    def mentioned(event: dict[str, Any], request: Any) -> None:
        seen.append((event["text"], request.headers.get("x-slack-retry-num"), request.headers))

    server, _, base = serve_wsgi(SlackRequestHandler(app))
    with SlackDriver(f"{base}/slack/events", SECRET, fake) as driver:
        yield driver, seen
    server.shutdown()
    server.server_close()


def test_signed_command_opens_the_modal_with_its_trigger(
    fake: FakeSlack, bolt: tuple[SlackDriver, list]
) -> None:
    driver, _ = bolt
    assert driver.command("").status_code == 200
    fake.wait_for(lambda: len(fake.opened_views()) == 1)
    (call,) = fake.calls_to("views.open")
    assert call.ok and call.args["trigger_id"] == driver.last_trigger_id


def test_command_ack_text_reaches_the_user(fake: FakeSlack, bolt: tuple[SlackDriver, list]) -> None:
    driver, _ = bolt
    assert driver.command("help", user="U0AGENT2").status_code == 200
    (shown,) = fake.ephemerals
    assert (shown.channel, shown.user, shown.text) == (
        CHANNEL,
        "U0AGENT2",
        "Use `/ship` to ship a parcel.",
    )
    assert fake.opened_views() == []


def test_modal_submission_then_click(fake: FakeSlack, bolt: tuple[SlackDriver, list]) -> None:
    driver, _ = bolt
    driver.command("")
    fake.wait_for(lambda: len(fake.opened_views()) == 1)
    view = fake.opened_views()[0]

    refused = driver.submit_view(view, {"weight": {"weight": state_value("number_input", "0")}})
    assert refused.json()["errors"] == {"weight": "Weight must be over 0 kg."}
    assert fake.is_open(view["id"])

    accepted = driver.submit_view(view, {"weight": {"weight": state_value("number_input", "2.5")}})
    assert accepted.status_code == 200 and not fake.is_open(view["id"])
    fake.wait_for(lambda: len(fake.messages(CHANNEL)) == 1)
    quote = fake.messages(CHANNEL)[0]
    assert render_message(quote) == "*DPD* · 2.5 kg   [Choose]"

    assert driver.click(CHANNEL, quote.ts, "choose").status_code == 200
    fake.wait_for(lambda: fake.message(CHANNEL, quote.ts).text == "chosen")
    assert render_message(fake.message(CHANNEL, quote.ts)) == "✅ q1 by @U0AGENT1"
    with pytest.raises(LookupError):
        driver.click(CHANNEL, quote.ts, "choose")  # the button is gone after the update


def test_click_in_a_modal_can_push_a_view(fake: FakeSlack, bolt: tuple[SlackDriver, list]) -> None:
    driver, _ = bolt
    driver.command("")
    fake.wait_for(lambda: len(fake.opened_views()) == 1)
    root = fake.opened_views()[0]
    assert driver.click_in_view(root["id"], "more").status_code == 200
    fake.wait_for(lambda: len(fake.opened_views()) == 2)
    pushed = fake.opened_views()[1]
    assert (pushed["title"]["text"], pushed["root_view_id"]) == ("Customs", root["id"])
    assert fake.is_open(root["id"]) and fake.is_open(pushed["id"])


def test_forged_and_stale_requests_get_401(fake: FakeSlack, bolt: tuple[SlackDriver, list]) -> None:
    driver, _ = bolt
    body = "command=%2Fship&text=&trigger_id=" + fake.issue_trigger()
    form = "application/x-www-form-urlencoded"
    assert driver.post_raw(body, content_type=form, signature="v0=" + "0" * 64).status_code == 401
    stale = int(time.time()) - 600
    assert driver.post_raw(body, content_type=form, timestamp=stale).status_code == 401
    assert fake.calls_to("views.open") == []


def test_events_carry_retry_headers(fake: FakeSlack, bolt: tuple[SlackDriver, list]) -> None:
    driver, seen = bolt
    mention = {"type": "app_mention", "user": "U0AGENT1", "text": "<@UBOT> hi", "channel": CHANNEL}
    assert driver.event(mention, retry_num=1, retry_reason="http_timeout").status_code == 200
    fake.wait_for(lambda: len(seen) == 1)
    ((text, retry_num, headers),) = seen
    assert (text, retry_num, headers["x-slack-retry-reason"]) == (
        "<@UBOT> hi",
        ["1"],
        ["http_timeout"],
    )


def test_render_blocks_reads_like_slack() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "📦 EC-000-05B"}},
        section("*DPD Next Day* · £7.92", accessory=button("Choose", "c")),
        {"type": "divider"},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "By <@U0AGENT1> at <!date^1700000000^{time}|14:05> · "
                    "<https://track.example/1|track> &amp; more",
                }
            ],
        },
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*To*"}, "SW1A 2AA"]},
        {"type": "actions", "elements": [button("Reprint", "r"), button("Cancel", "x")]},
    ]
    assert render_blocks(blocks) == "\n".join(
        [
            "# 📦 EC-000-05B",
            "*DPD Next Day* · £7.92   [Choose]",
            "---",
            "  By @U0AGENT1 at 14:05 · track & more",
            "*To* | SW1A 2AA",
            "[Reprint] [Cancel]",
        ]
    )


def test_view_stack_push_limit_and_ack_update(fake: FakeSlack, client: WebClient) -> None:
    root = client.views_open(trigger_id=fake.issue_trigger(), view=modal())["view"]
    with pytest.raises(SlackApiError) as unbound:
        client.views_push(trigger_id=fake.issue_trigger(), view=modal("Second"))
    assert api_error(unbound) == "invalid_arguments"  # a push needs a trigger from the modal
    client.views_push(trigger_id=fake.issue_trigger(root["id"]), view=modal("Second"))
    client.views_push(trigger_id=fake.issue_trigger(root["id"]), view=modal("Third"))
    with pytest.raises(SlackApiError) as full:
        client.views_push(trigger_id=fake.issue_trigger(root["id"]), view=modal("Fourth"))
    assert api_error(full) == "push_limit_reached"

    fake.apply_view_ack(root["id"], {"response_action": "update", "view": modal("Working…")})
    assert fake.views[root["id"]]["title"]["text"] == "Working…"
    with pytest.raises(SlackApiError) as stale:  # the ack's update changed the hash
        client.views_update(view_id=root["id"], hash=root["hash"], view=modal("Done"))
    assert api_error(stale) == "hash_conflict"
    fake.apply_view_ack(root["id"], {"response_action": "clear"})
    assert not any(fake.is_open(v["id"]) for v in fake.opened_views())


def test_home_tab_publish_checks_type_and_hash(fake: FakeSlack, client: WebClient) -> None:
    home = {"type": "home", "blocks": [section("📦 Your shipments today: 2")]}
    first = client.views_publish(user_id="U0AGENT1", view=home)["view"]
    second = client.views_publish(user_id="U0AGENT1", view=home, hash=first["hash"])["view"]
    assert second["id"] == first["id"] and second["hash"] != first["hash"]
    with pytest.raises(SlackApiError) as stale:
        client.views_publish(user_id="U0AGENT1", view=home, hash=first["hash"])
    assert api_error(stale) == "hash_conflict"
    with pytest.raises(SlackApiError) as wrong_type:
        client.views_publish(user_id="U0AGENT1", view=modal())
    assert api_error(wrong_type) == "invalid_arguments"
    assert list(fake.home_views) == ["U0AGENT1"]


def test_upload_url_accepts_multipart_too(fake: FakeSlack, client: WebClient) -> None:
    step1 = client.files_getUploadURLExternal(filename="cn22.pdf", length=5)
    sent = httpx.post(step1["upload_url"], files={"file": ("cn22.pdf", b"%PDF-")})
    assert (sent.status_code, sent.text) == (200, "OK - 5")
    client.files_completeUploadExternal(files=[{"id": step1["file_id"], "title": "CN22"}])
    assert [(f.data, f.title, f.channel_id) for f in fake.files] == [(b"%PDF-", "CN22", None)]
    with pytest.raises(SlackApiError) as never_uploaded:
        step1 = client.files_getUploadURLExternal(filename="x.pdf", length=3)
        client.files_completeUploadExternal(files=[{"id": step1["file_id"], "title": "x"}])
    assert api_error(never_uploaded) == "file_not_found"
    short = client.files_getUploadURLExternal(filename="y.pdf", length=5)
    httpx.post(short["upload_url"], content=b"abc")
    with pytest.raises(SlackApiError) as truncated:
        client.files_completeUploadExternal(files=[{"id": short["file_id"], "title": "y"}])
    assert "declared 5 bytes, received 3" in str(truncated.value.response["response_metadata"])
