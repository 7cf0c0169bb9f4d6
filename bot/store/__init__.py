"""The store: SQLite connections and schema, the consignment repository (writes and reads) and
the job queue. The only code in the bot that knows SQL."""
