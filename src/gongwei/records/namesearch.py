"""Finding residents by a part of their name without reading every name in a county.

``name LIKE '%魏杰%'`` cannot use a b-tree index, and PostgreSQL's trigram index extracts nothing from a two-character
fragment — most Chinese names are two or three characters. On PostgreSQL, migration records 0011 indexes each
name's *bigrams* (adjacent character pairs: 魏志杰 → {魏志, 志杰}) with a GIN index on the immutable function
``gongwei_name_grams(name)``; a search for a fragment of two or more characters first asks that index for the names
holding all of the fragment's bigrams, and the ``LIKE`` keeps only those that hold the fragment itself, so the result
is exactly that of ``LIKE`` alone (issue 11: a county search by name read 320,000 names, 80–110 ms). SQLite, the
embedded default of a single clinic, keeps the plain ``LIKE``.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, F, Func, Q

# the migration's SQL; the function is IMMUTABLE so an index may be built on it
GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION gongwei_name_grams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(name, i, 2)), '{}'::text[])
  FROM generate_series(1, char_length(name) - 1) AS i
$$
"""
GRAMS_INDEX = "CREATE INDEX IF NOT EXISTS resident_name_grams ON records_resident USING gin (gongwei_name_grams(name))"


def bigrams(text: str) -> list[str]:
    return sorted({text[i:i + 2] for i in range(len(text) - 1)})


class _HasGrams(Func):
    """``gongwei_name_grams(name) @> %s``: true when the name holds every one of the bigrams (PostgreSQL)."""

    output_field = BooleanField()

    def __init__(self, grams: list[str]):
        super().__init__(F("name"))
        self.grams = grams

    def as_sql(self, compiler, connection, **extra):
        name, params = compiler.compile(self.get_source_expressions()[0])
        return f"gongwei_name_grams({name}) @> %s::text[]", [*params, self.grams]


def name_contains(text: str) -> Q:
    """Residents whose name contains ``text``."""
    found = Q(name__contains=text)
    if connection.vendor == "postgresql" and len(text) >= 2:
        found &= Q(_HasGrams(bigrams(text)))
    return found
