"""The app factory: a Bolt app wired to our services, store, carrier and job runner.

Mode: `process_before_response=True` with no lazy listeners. Every listener only parses,
touches SQLite and queues a job, so it returns in about a millisecond, and the HTTP
response (the ack) goes out the moment it returns: no 10 ms ack polling, and no listener
thread ever waits on the carrier. Slow work runs on the job runner's own threads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from bot.carrier.client import CarrierClient
from bot.jobs import JobRunner
from bot.locks import ConsignmentLocks
from bot.operations import Operations
from bot.services import Services
from bot.settings import Settings
from bot.slackio import SlackOut, make_client
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
    client = make_client(settings.slack_bot_token, settings.slack_base_url)
    app = App(
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

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        log.exception("listener failed: %s", type(error).__name__, exc_info=error)
        return BoltResponse(status=200, body="")

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


def create_app(settings: Settings, store: Store, carrier: CarrierClient) -> App:
    """The Bolt app alone (the runner is not started: call `build(...).start()` to run)."""
    return build(settings, store, carrier).app
