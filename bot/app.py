"""The app factory: a Bolt app wired to the feature modules, the store, carrier and jobs.

Mode: `process_before_response=True` with no lazy listeners. Every listener only parses,
touches SQLite and queues a job, so it returns in about a millisecond, and the HTTP
response (the ack) goes out the moment it returns: no listener thread ever waits on the
carrier. Slow work runs on the job runner's own threads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from blocks import section
from bot import logsafe
from bot.carrier.client import CarrierClient
from bot.core import Asker, Refused, Shipbot
from bot.desk import (
    advance,
    approval,
    cancel,
    exceptions,
    label,
    lookup,
    manifest,
    messages,
    report,
    rescue,
    show,
)
from bot.desk.sweep import Sweeper
from bot.desk.watch import Watcher
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack.outbox import Outbox
from bot.slack.slackio import SlackOut
from bot.store.jobs import JobRunner
from bot.store.writes import Store
from handlers import actions, commands, events, options, shortcuts, views

log = logging.getLogger("shipbot.app")

FEATURES = (show, advance, approval, manifest, report, cancel, label, lookup, exceptions, rescue)


@dataclass
class RunningBot:
    """The Bolt app and the core it serves; `start` resumes unfinished work."""

    app: App
    core: Shipbot
    sweeper: Sweeper
    # The delivery watcher (bot/desk/watch.py): its own thread, started with the runner.
    watcher: Watcher | None = None
    # Its own Prometheus registry (bot/metrics.py), served by bot/health.py.
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def runner(self) -> JobRunner:
        return self.core.jobs

    @property
    def store(self) -> Store:
        return self.core.store

    @property
    def carrier(self) -> CarrierClient:
        return self.core.carrier

    @property
    def outbox(self) -> Outbox:
        return self.core.outbox

    def start(self) -> list[int]:
        """Take the database's job lease (RunnerBusy if another process has it) and resume;
        then deliver the outbox (only the lease holder sends Slack edits)."""
        # Counted before the runner starts: its leftover jobs may finish some at once.
        pending = self.store.in_flight()
        self.runner.start()
        self.outbox.start()
        manifest.resume_held(self.core)
        advance.resume(self.core, pending)
        self.sweeper.start()
        if self.watcher is not None:
            self.watcher.start()
        return pending

    def stop(self, grace: float = 5.0) -> list[str]:
        if self.watcher is not None:
            self.watcher.stop()
        self.sweeper.stop()
        left = self.runner.stop(grace)
        self.outbox.stop()
        return left


def build(
    settings: Settings,
    store: Store,
    carrier: CarrierClient,
    *,
    job_backoff: float = 1.0,
) -> RunningBot:
    logsafe.install()  # before Bolt logs anything: no request or response body in the logs
    metrics = Metrics()
    slack = SlackOut.connect(
        settings.slack_bot_token,
        settings.slack_base_url,
        rate_scale=settings.shipbot_slack_rate_scale,
        observe=metrics.slack_call,  # Bolt's auth.test below is the first one counted
    )
    carrier.observe = metrics.carrier_call
    app = App(
        name="shipbot.bolt",  # Bolt's per-listener loggers live under the guarded name
        client=slack.client,
        signing_secret=settings.slack_signing_secret or None,
        request_verification_enabled=bool(settings.slack_signing_secret),
        process_before_response=True,
        logger=logging.getLogger("shipbot.bolt"),
    )
    runner = JobRunner(store.database, workers=settings.shipbot_workers, backoff=job_backoff)
    outbox = slack.outbox = Outbox(store.database, slack)
    runner.idle_checks.append(outbox.idle)
    core = Shipbot(
        settings=settings,
        store=store,
        carrier=carrier,
        slack=slack,
        jobs=runner,
        outbox=outbox,
    )
    for feature in FEATURES:
        feature.register(core)

    def inject(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        context["shipbot"] = core
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

    app.middleware(metrics.ack_middleware)  # outermost: every ack is timed
    app.middleware(drop_event_retries)
    app.middleware(inject)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        if isinstance(error, Refused):
            return answer_privately(core, body, error.text, field=error.field)
        return failure_response(core, error, body)

    for module in (commands, views, actions, options, events, shortcuts):
        module.register(app)
    metrics.watch_store(store, runner, outbox)
    return RunningBot(
        app=app,
        core=core,
        sweeper=Sweeper(core, settings.shipbot_sweep_every),
        watcher=Watcher(core),
        metrics=metrics,
    )


def answer_privately(
    core: Shipbot, body: dict[str, Any], text: str, *, field: str | None = None
) -> BoltResponse:
    """The one place a refusal or a failure reaches the person who acted.

    A command: the ack's own ephemeral text. A form: an error on a block of the page that
    was submitted (an empty 200 would close the modal and lose the form). A click: a
    private message through the click's response_url.
    """
    if body.get("command"):
        return _json({"response_type": "ephemeral", "text": text, "blocks": [section(text)]})
    if body.get("type") == "view_submission":
        view = body.get("view") or {}
        block = field if field and _has_input(view, field) else _first_input(view)
        if block:
            return _json({"response_action": "errors", "errors": {block: text}})
        return _json(
            {
                "response_action": "update",
                "view": {
                    "type": "modal",
                    "title": {"type": "plain_text", "text": "Something went wrong"},
                    "close": {"type": "plain_text", "text": "Close"},
                    "blocks": [section(text)],
                },
            }
        )
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    if isinstance(user, str):
        channel = (
            (body.get("channel") or {}).get("id")
            or (body.get("container") or {}).get("channel_id")
            or body.get("channel_id")
            or ""
        )
        response_url = body.get("response_url")
        url = response_url if isinstance(response_url, str) else None
        core.answer(Asker(user, str(channel), url), text)
    return BoltResponse(status=200, body="")


def _first_input(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def _has_input(view: dict[str, Any], block_id: str) -> bool:
    return any(
        isinstance(b, dict) and b.get("type") == "input" and b.get("block_id") == block_id
        for b in view.get("blocks") or []
    )


def _json(body: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(body), headers={"content-type": "application/json"}
    )


def failure_response(core: Shipbot, error: Exception, body: dict[str, Any]) -> BoltResponse:
    """A listener raised: never the empty 200 that Slack reads as "close the modal".

    The log has the type and traceback, not the message, which may quote what was sent
    (pydantic does); the person who acted is told what happened and that their form is kept.
    """
    kind = type(error).__name__
    payload_type = str(body.get("type") or ("slash_commands" if "command" in body else "?"))
    summary = logsafe.exception_summary((type(error), error, error.__traceback__))
    log.error("listener failed on %s %s: %s\n%s", payload_type, _listener_name(body), kind, summary)
    if payload_type == "block_suggestion":
        return _json({"options": []})
    if payload_type == "view_submission":
        if _first_input(body.get("view") or {}):
            return answer_privately(core, body, messages.FORM_FAILED.format(kind=kind))
        return answer_privately(core, body, f"⚠️ {messages.VIEW_FAILED.format(kind=kind)}")
    return answer_privately(core, body, f"⚠️ {messages.LISTENER_FAILED.format(kind=kind)}")


def _listener_name(body: dict[str, Any]) -> str:
    """callback_id, action_id or command: where it failed, never what was sent."""
    view = body.get("view")
    if isinstance(view, dict) and view.get("callback_id"):
        return str(view["callback_id"])
    acts = body.get("actions")
    if isinstance(acts, list) and acts and isinstance(acts[0], dict):
        return str(acts[0].get("action_id"))
    return str(body.get("command") or body.get("action_id") or "")
