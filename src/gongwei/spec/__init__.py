"""The rulebook (规则库): the national specification and evaluation rules as pure Python data.

This package imports nothing else of gongwei's and no Django, so a public-health expert can read it
alone. Every rule names its source by a key of docs/sources.md in square brackets (``[spec2017-htn]``); the
tag of a ``Source`` says how sure we are (V verified, S stated by a bureau document, B background, U our design
default, I inferred), and B, U and I items are configurable.
"""
