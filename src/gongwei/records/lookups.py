"""``field__among=[...]``: a field's value is one of a list sent as a single parameter.

``__in`` writes one placeholder per value. A worklist names hundreds of people, and with psycopg's client-side
binding splitting and planning a statement of hundreds of parameters cost more than running it (issue 11);
SQLite caps the number of variables, so callers also cut their lists into chunks. ``among`` sends the list as one
array on PostgreSQL (``= ANY(%s::bigint[])``) and one JSON text on SQLite (``IN (SELECT value FROM
json_each(%s))``): one statement, whatever the list's length. Integers or texts, not mixed.
"""

from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models import Lookup


class Among(Lookup):
    lookup_name = "among"
    prepare_rhs = False

    def get_prep_lookup(self):
        values = list(self.rhs)
        if not (all(isinstance(v, int) and not isinstance(v, bool) for v in values)
                or all(isinstance(v, str) for v in values)):
            raise TypeError("among: a list of integers or a list of texts")
        return values

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet  # as ``__in=[]``: nothing matches, and no query is sent
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            kind = "text" if isinstance(self.rhs[0], str) else "bigint"
            return f"{lhs} = ANY(%s::{kind}[])", [*params, array_literal(self.rhs)]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(self.rhs, ensure_ascii=False)]


def array_literal(values: list[int] | list[str]) -> str:
    """PostgreSQL's text form of an array of these values, to be cast to ``bigint[]`` or ``text[]``. Written here
    rather than adapted by psycopg, which inspects every element to choose the array's type (1.4 ms for a
    worklist's few hundred ids, more than the query)."""
    if all(isinstance(x, int) for x in values):
        return "{" + ",".join(str(int(x)) for x in values) + "}"
    return "{" + ",".join('"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"' for x in values) + "}"


def register() -> None:
    models.Field.register_lookup(Among)
    models.ForeignKey.register_lookup(Among)  # a relation keeps lookups of its own
