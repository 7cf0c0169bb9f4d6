"""The desk's features: one module per row of the `/ship` command table (`commands.py`) and
per thread button, the resumable flow engine and its steps, and the one way a consignment is
shown. Features touch the store, the carrier and Slack only through their layers."""
