"""Import/export of the exchange layout: one CSV per table plus ``manifest.json`` (docs/import-format.md)."""
