"""Slack transport: the one door to Slack's Web API. Nothing here decides what a message
says; `bot/desk/show.py` does. One line a module:

- `slackio`: `SlackOut`: the paced, counted Web API sender, Slack's errors sorted.
- `outbox`: Slack edits as rows: coalesced, prioritised, never dropped.
- `pacing`: Slack's rate limits in one table, and the buckets every call is paced through.
- `modal`: `views.open` right after the ack, off the listener, on a pool of its own.
- `http`: HTTP mode: `/slack/events`, and the health paths beside it.
"""
