"""shipbot: ship and rescue parcels from Slack through Sorted PRO (the Electio API)."""

# The one place the version lives: pyproject.toml reads it (dynamic), `shipbot --version`
# and the start line print it, CHANGELOG.md says what each one changed.
__version__ = "0.2.0"
