"""Finding residents by a part of their name, or by the last digits of a number, without reading every resident of
a county (PostgreSQL indexes; SQLite, the embedded default of a single clinic, keeps plain ``LIKE``).

**Names.**
``name LIKE '%魏杰%'`` cannot use a b-tree index, and PostgreSQL's trigram index extracts nothing from a two-character
fragment — most Chinese names are two or three characters. On PostgreSQL, migration records 0011 indexes each
name's *bigrams* (adjacent character pairs: 魏志杰 → {魏志, 志杰}) with a GIN index on the immutable function
``gongwei_name_grams(name)``; a search for a fragment of two or more characters first asks that index for the names
holding all of the fragment's bigrams, and the ``LIKE`` keeps only those that hold the fragment itself, so the result
is exactly that of ``LIKE`` alone (issue 11: a county search by name read 320,000 names, 80–110 ms).

**Last digits.** "The last four digits of the identity number" is ``LIKE '%1234'``, which no b-tree serves either;
migration records 0012 indexes ``reverse(column)`` (identity number, phone, record number) with pattern operators,
and the search asks ``reverse(column) LIKE '4321%'`` — a prefix of the reversed value, the same rows (issue 11: a
county search by a record number read all 2 M residents, 0.6–0.8 s, once the unit tree had statistics).
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
TAIL_COLUMNS = ("id_number", "phone", "record_no")  # what a search by last digits may match


def tail_index(column: str) -> str:
    return (f"CREATE INDEX IF NOT EXISTS resident_{column}_tail ON records_resident "
            f"(reverse({column}) text_pattern_ops)")


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


class _EndsWith(Func):
    """``reverse(column) LIKE '<reversed digits>%'``: ``column`` ends with the digits (PostgreSQL, indexed)."""

    output_field = BooleanField()

    def __init__(self, column: str, tail: str):
        super().__init__(F(column))
        self.tail = tail

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.get_source_expressions()[0])
        reversed_tail = self.tail[::-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"reverse({column}) LIKE %s", [*params, reversed_tail + "%"]


def ends_with(tail: str, columns: tuple[str, ...] = TAIL_COLUMNS) -> Q:
    """Residents whose identity number, phone or record number (``columns``) ends with ``tail`` (a value equal to
    ``tail`` included)."""
    found = Q()
    for column in columns:
        found |= Q(_EndsWith(column, tail)) if connection.vendor == "postgresql" else Q(**{f"{column}__endswith": tail})
    return found
