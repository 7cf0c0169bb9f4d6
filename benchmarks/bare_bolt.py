"""The baseline: a Bolt app whose listeners only call ack(), in Bolt's default mode.

Served by the same server as shipbot (`bot.slack.http.make_http_server`), so the difference in
ack latency is what our listeners and middleware cost, not a different HTTP stack.
Run as `python -m benchmarks.bare_bolt --port N --slack-url URL --secret S`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from slack_bolt import Ack, App
from slack_sdk import WebClient

from blocks.customs_form import SHIP_CUSTOMS
from blocks.ids import CHOOSE_QUOTE
from blocks.ship_form import SHIP_FORM
from bot.slack.http import make_http_server

READY = "bare-bolt: ready"


def bare_app(slack_url: str, token: str, secret: str) -> App:
    """process_before_response=False (Bolt's default): dispatch polls for ack() every 10 ms."""
    app = App(
        client=WebClient(token=token, base_url=slack_url),
        signing_secret=secret,
        logger=logging.getLogger("bare-bolt"),
    )

    def only_ack(ack: Ack) -> None:
        ack()

    app.command("/ship")(only_ack)
    app.view(SHIP_FORM)(only_ack)
    app.view(SHIP_CUSTOMS)(only_ack)
    app.action(CHOOSE_QUOTE)(only_ack)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_bolt")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--slack-url", required=True, help="Web API base URL (auth.test)")
    parser.add_argument("--token", default="xoxb-bench-bare")
    parser.add_argument("--secret", required=True, help="signing secret")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    app = bare_app(args.slack_url, args.token, args.secret)
    server = make_http_server(app, args.host, args.port)

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(READY, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
