"""Intake: what an agent types becomes typed data here, or a field-level answer saying what
to fix. One line a module:

- `forms`: A submitted modal to a `ShipmentRequest` (or `Customs`), or field errors.
- `field_reader`: Reading one modal field at a time: cleaned text, plain decimals, errors.
- `address`: Reading a delivery address out of a Slack message.
- `address_places`: Places in address text: UK postcodes, counties, countries, postcodes abroad.
- `presets`: Parcel presets, named once in `SHIPBOT_PARCEL_PRESETS`.
- `arguments`: The text after a subcommand, cleaned once; one log line per operation.
"""
