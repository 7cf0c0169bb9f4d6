"""A fake Slack for tests, the demo and benchmarks: a Web API, a request driver, a renderer."""

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
