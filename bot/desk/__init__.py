"""The desk's features: one module per command-table row (ship, manifest, cancel, label, look-ups,
report, prefill, approval), the resumable flow engine, and the one way a consignment is shown."""
