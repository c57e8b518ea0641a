"""Section data providers (ADR 035): a template part may take its sentences from a named provider instead of
indicator items — funds rates, staffing base data, supervision items, the rectification of QC findings, the
verification of samples. A provider is a function registered under its name; it reads what the store holds for
the bulletin's unit and period and returns the part's sentences, or ``None`` when there is no such data.

The names are fixed here so that a template naming a provider that does not exist is refused; a provider that is
known but not yet wired (the funds, staffing and supervision apps are built separately) gives ``None``, and the
template chooses what the bulletin does then: leave the part out (``when_missing = "omit"``) or say
``暂无数据`` (``"no_data"``). Wiring one later is one :func:`register` call, no change to the bulletins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# name → what the part is about (for the 暂无…数据 sentence and the documentation)
SECTIONS = {
    "funds": "资金拨付和支出",
    "staffing": "基层医疗卫生机构人员编制",
    "supervision": "督导检查和问题整改",
    "qc_rectification": "质控问题整改",
    "verification": "抽样核查",
    "evaluation": "绩效评价",
}
WHEN_MISSING = ("omit", "no_data")


@dataclass(frozen=True)
class Context:
    """What a provider may read: the actor (scope), the snapshot, the unit and its tree, the period and the
    previous period the bulletin compares with."""

    actor: Any
    snapshot: Any
    tree: Any
    unit: int  # the tree index of the bulletin's unit
    period: Any  # spec.periods.Period
    previous: Any
    # what a regenerated bulletin keeps from its draft (e.g. the evaluation round it was drafted from)
    pinned: dict = field(default_factory=dict)


# a provider's answer: sentences, each {"text": …, "refs": [...]} (refs: indicator@unit keys it cites), or None
Provider = Callable[[Context], list[dict] | None]
_PROVIDERS: dict[str, Provider] = {}


def register(name: str) -> Callable[[Provider], Provider]:
    if name not in SECTIONS:
        raise KeyError(f"unknown bulletin section provider {name!r} (known: {', '.join(SECTIONS)})")

    def wrap(fn: Provider) -> Provider:
        _PROVIDERS[name] = fn
        return fn

    return wrap


def unregister(name: str) -> Provider | None:
    """For tests: a provider taken out, as before it was wired."""
    return _PROVIDERS.pop(name, None)


def wired() -> list[str]:
    return sorted(_PROVIDERS)


def provide(name: str, ctx: Context) -> list[dict] | None:
    """The sentences of ``name`` for the bulletin, or None when the provider is not wired or has no data."""
    fn = _PROVIDERS.get(name)
    if fn is None:
        return None
    got = fn(ctx)
    return None if not got else [{"text": str(s["text"]), "refs": list(s.get("refs", []))} for s in got]
