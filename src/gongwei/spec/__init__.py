"""The rulebook (规则库): the national specification and evaluation rules as pure Python data.

This package imports nothing else of gongwei's and no Django, so a public-health expert can read it
alone. Every rule names its source: ``[V n]``/``[S n]``/``[B]`` tags refer to
``shared/domain/domain-spec.md`` and ``data-quality.md``; ``[B]`` and ``[U]`` items are unverified and
therefore configurable.
"""
