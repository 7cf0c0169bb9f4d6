"""The app factory: a Bolt app wired to our services, store, carrier and job runner.

Mode: `process_before_response=True` with no lazy listeners. Every listener only parses,
touches SQLite and queues a job, so it returns in about a millisecond, and the HTTP
response (the ack) goes out the moment it returns: no 10 ms ack polling, and no listener
thread ever waits on the carrier. Slow work runs on the job runner's own threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from blocks import Message, section
from bot import logsafe, messages
from bot.carrier.client import CarrierClient
from bot.jobs import JobRunner
from bot.locks import ConsignmentLocks
from bot.operations import Operations
from bot.services import Services
from bot.settings import Settings
from bot.slackio import SlackOut, SlackProblem, make_client
from bot.store import Store
from handlers import actions, commands, events, options, views

log = logging.getLogger("shipbot.app")


@dataclass
class Shipbot:
    """Everything one running bot owns; `start` resumes unfinished work."""

    app: App
    services: Services
    runner: JobRunner
    store: Store
    carrier: CarrierClient
    operations: Operations | None = None

    def start(self) -> list[int]:
        self.runner.start()
        return self.services.resume_all()

    def stop(self) -> None:
        self.runner.stop()


def build(
    settings: Settings,
    store: Store,
    carrier: CarrierClient,
    *,
    post_interval: float = 1.0,
    job_backoff: float = 1.0,
) -> Shipbot:
    logsafe.install()  # before Bolt logs anything: no request or response body in the logs
    client = make_client(settings.slack_bot_token, settings.slack_base_url)
    app = App(
        name="shipbot.bolt",  # Bolt's per-listener loggers live under the guarded name
        client=client,
        signing_secret=settings.slack_signing_secret or None,
        request_verification_enabled=bool(settings.slack_signing_secret),
        process_before_response=True,
        logger=logging.getLogger("shipbot.bolt"),
    )
    runner = JobRunner(store, workers=settings.shipbot_workers, backoff=job_backoff)
    locks = ConsignmentLocks()
    services = Services(
        settings,
        store,
        carrier,
        SlackOut(client),
        runner,
        post_interval=post_interval,
        locks=locks,
    )
    operations = Operations(settings, store, carrier, SlackOut(client), runner, locks=locks)

    def inject_services(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        context["services"] = services
        context["operations"] = operations
        return next()

    def drop_event_retries(
        body: dict[str, Any], request: BoltRequest, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        """Events API retries (X-Slack-Retry-Num) are acked and not processed twice."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not store.first_sighting(str(event_id)):
            retry = request.headers.get("x-slack-retry-num", ["-"])[0]
            log.info("event %s seen before (retry %s): acked, not processed", event_id, retry)
            return BoltResponse(status=200, body="")
        return next()

    app.middleware(drop_event_retries)
    app.middleware(inject_services)

    slack_out = SlackOut(client)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        return failure_response(error, body, slack_out)

    for module in (commands, views, actions, options, events):
        module.register(app)
    return Shipbot(
        app=app,
        services=services,
        runner=runner,
        store=store,
        carrier=carrier,
        operations=operations,
    )


def failure_response(error: Exception, body: dict[str, Any], slack: SlackOut) -> BoltResponse:
    """A listener raised: never the empty 200 that Slack reads as "close the modal".

    A view submission keeps its form open with the error on its first input block (Slack
    shows field errors only on input blocks); a view without one is replaced by a short
    error view. Anything else is acked, and the person is told privately (through the
    response_url if there is one, else chat.postEphemeral) on a thread of its own, so the
    ack is not held up by that call. The log has the type and traceback, not the message,
    which may quote what was sent (pydantic does).
    """
    kind = type(error).__name__
    payload_type = str(body.get("type") or ("slash_commands" if "command" in body else "?"))
    where = _listener_name(body)
    summary = logsafe.exception_summary((type(error), error, error.__traceback__))
    log.error("listener failed on %s %s: %s\n%s", payload_type, where, kind, summary)
    if payload_type == "view_submission":
        raw_view = body.get("view")
        view: dict[str, Any] = raw_view if isinstance(raw_view, dict) else {}
        block_id = _first_input_block(view)
        if block_id is not None:
            errors = {block_id: messages.FORM_FAILED.format(kind=kind)}
            return BoltResponse(
                status=200,
                body={"response_action": "errors", "errors": errors},
                headers={"content-type": "application/json"},
            )
        error_view = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Something went wrong"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": [section(f"⚠️ {messages.VIEW_FAILED.format(kind=kind)}")],
        }
        return BoltResponse(
            status=200,
            body={"response_action": "update", "view": error_view},
            headers={"content-type": "application/json"},
        )
    if payload_type == "block_suggestion":
        return BoltResponse(
            status=200, body={"options": []}, headers={"content-type": "application/json"}
        )
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    channel = (
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or body.get("channel_id")
    )
    response_url = body.get("response_url")
    if isinstance(user, str) and (response_url or isinstance(channel, str)):
        text = f"⚠️ {messages.LISTENER_FAILED.format(kind=kind)}"
        threading.Thread(
            target=_tell_privately,
            args=(slack, str(channel or ""), user, Message(text=text, blocks=[section(text)])),
            kwargs={"response_url": response_url if isinstance(response_url, str) else None},
            name="shipbot-error-answer",
            daemon=True,
        ).start()
    return BoltResponse(status=200, body="")


def _first_input_block(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def _listener_name(body: dict[str, Any]) -> str:
    """callback_id, action_id or command: where it failed, never what was sent."""
    view = body.get("view")
    if isinstance(view, dict) and view.get("callback_id"):
        return str(view["callback_id"])
    acts = body.get("actions")
    if isinstance(acts, list) and acts and isinstance(acts[0], dict):
        return str(acts[0].get("action_id"))
    return str(body.get("command") or body.get("action_id") or "")


def _tell_privately(
    slack: SlackOut, channel: str, user: str, message: Message, *, response_url: str | None
) -> None:
    try:
        slack.ephemeral(channel, user, message, response_url=response_url)
    except SlackProblem as exc:
        log.warning("could not tell %s that a listener failed: %s", user, exc.error)


def create_app(settings: Settings, store: Store, carrier: CarrierClient) -> App:
    """The Bolt app alone (the runner is not started: call `build(...).start()` to run)."""
    return build(settings, store, carrier).app
