"""gongwei (公卫): system of record, rulebook and engine for the National Basic Public Health Service Program."""

__version__ = "0.1.0"
