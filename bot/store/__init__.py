"""The store: SQLite, and the only code in the bot that knows SQL. One line a module:

- `db`: Connections (one per thread, WAL), the schema and its migrations.
- `writes`: The consignment writes, each one transaction; steps move via `Store.transition`.
- `quote_writes`: The writes from quotes to label, a mixin of `Store`.
- `reads`: Consignments, documents, the audit log and the look-ups agents run.
- `jobs`: Jobs are rows: the queue's SQL, the worker threads, one runner per database.
- `job_payloads`: One pydantic payload per job kind, stored as JSON under its kind.
- `delivery`: What the delivery watcher keeps: each state change once, the latest, marks.
"""
