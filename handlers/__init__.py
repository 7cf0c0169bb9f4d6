"""Slack's surfaces: one module per kind of request (commands, clicks, submissions, options,
shortcuts, events). Listeners decode, call one feature function of `bot/desk/` and ack."""
