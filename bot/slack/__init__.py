"""Slack transport: the paced Web API sender, the outbox of edits, rate-limit buckets, modals
and the HTTP endpoint. Nothing here decides what a message says; `bot/desk/show.py` does."""
