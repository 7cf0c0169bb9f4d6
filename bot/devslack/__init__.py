"""A stand-in Slack for tests, the demo and benchmarks: a Web API, Socket Mode, a request
driver, a renderer. One line a module:

- `server`: `FakeSlack`: a loopback Slack Web API that enforces what real Slack enforces.
- `plumbing`: Its HTTP side: server, routing, argument parsing and dispatch.
- `base`: Its state and the helpers every group of methods uses.
- `records`: What it stores: fixed identities, limits, records.
- `chat`: `chat.*`, response_url posts and command acks.
- `views`: `views.*`, trigger ids and modal stacks.
- `files`: `files.*`: Slack's two-step external upload.
- `conversations`: `auth.test`, `apps.connections.open` and `conversations.*`.
- `blockcheck`: What Slack refuses in a message's or a view's blocks.
- `ratelimit`: Slack's published rate limits, enforced with 429 when asked to.
- `socket`: `FakeSocketMode`: Socket Mode's WebSocket on loopback, and a driver over it.
- `driver`: `SlackDriver`: sends our app what Slack would send, signed, over real HTTP.
- `render`: Block Kit as plain text, for the demo transcript and test failures.
- `wsgi`: Serving a WSGI app on a free loopback port (tests, demo).
"""

from bot.devslack.driver import SlackDriver, state_value
from bot.devslack.render import render_blocks, render_message, render_mrkdwn
from bot.devslack.server import Call, Ephemeral, FakeSlack, Message, UploadedFile
from bot.devslack.wsgi import serve_wsgi

__all__ = [
    "Call",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "SlackDriver",
    "UploadedFile",
    "render_blocks",
    "render_message",
    "render_mrkdwn",
    "serve_wsgi",
    "state_value",
]
