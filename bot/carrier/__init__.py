"""The Sorted PRO (Electio API) client: the only code that knows the wire."""
