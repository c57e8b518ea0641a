"""Paragraphs of a bulletin from its facts: the figures of the unit and its child units, and the QC tallies.

The facts (:class:`Facts`) are plain data frozen with the bulletin, so the same facts always give the same
paragraphs. Every sentence is built from a figure and says only what the figure supports:

* an indicator without a denominator says so (the template's ``no_data``) and nothing else;
* a target is named only when the rulebook has one for the unit, and a unit is called lagging only when it
  has a target and misses it (``met is False``), lowest rate first;
* a change (较上期) is given only when the previous quarter's results were stored and had data;
* units above or below the area's own rate are named (where the template asks) only when at least two child
  units have a rate;
* a QC rule is reported only with findings; places where findings cluster only where the tally found them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal

from gongwei.bulletins import numbers
from gongwei.bulletins.sections import SECTIONS
from gongwei.bulletins.template import Item, Template
from gongwei.spec import catalogue

CHILD_LEVEL = {"province": "市（州）", "city": "县（市、区）", "county": "乡镇", "township": "村（社区）"}
TARGET_LEVEL = {0: "国家", 2: "省", 4: "市", 6: "县"}


@dataclass
class FigureRow:
    indicator: str
    name: str
    unit_code: str
    unit_name: str
    place: str  # the unit as the text names it (蒲亭镇, not 蒲亭镇卫生院)
    own: bool  # the bulletin's unit itself, not a child
    numerator: int
    denominator: int | None
    rate: float | None
    target: str | None = None  # ≥62% (rate targets) or ≥1913人
    target_value: float | None = None  # a rate target's value (0.62), for the chart's target line
    target_level: str = ""  # 省, 市, 国家: who set the target
    met: bool | None = None
    previous_rate: float | None = None
    change: float | None = None  # rate − previous rate
    rank: int | None = None
    siblings: int | None = None

    @property
    def key(self) -> str:
        return f"{self.indicator}@{self.unit_code}"


@dataclass
class QcRow:
    rule: str
    name: str
    findings: int
    change: int | None  # findings − previous quarter's findings; None without a stored previous tally
    clusters: list[str] = field(default_factory=list)  # places (township level), most findings first


@dataclass
class Facts:
    place: str
    unit_code: str
    level: str
    year: int
    quarter: int
    period: str
    previous: str  # the previous quarter's code
    cutoff: str  # ISO date: the period's end
    previous_stored: bool
    figures: list[FigureRow]
    qc: list[QcRow]
    # ADR 035: the sentences of section providers (None: the provider had no data), the rectification report's
    # number (第N期), and the period a bulletin covers ("quarter", or "year" for the work report)
    sections: dict[str, list[dict] | None] = field(default_factory=dict)
    issue: int = 0
    period_kind: str = "quarter"
    # the annual evaluation bulletin's two attachments, frozen from its evaluation round (issue 12): the round,
    # the scored units ({code, name, score, rank, vetoed}) and each lost point ({unit, item, lost, reason})
    evaluation: dict | None = None

    @property
    def child_level(self) -> str:
        return CHILD_LEVEL.get(self.level, "下级单位")

    @property
    def child_unit(self) -> str:
        return self.child_level.split("（")[0]

    @property
    def previous_label(self) -> str:
        if "Q" not in self.previous:
            return f"{self.previous}年"
        y, q = self.previous.split("Q")
        return f"{y}年第{numbers.chinese(int(q))}季度"

    def words(self) -> dict[str, str]:
        import datetime as dt

        return {"place": self.place, "year": str(self.year), "quarter": numbers.chinese(self.quarter),
                "cutoff": numbers.date(dt.date.fromisoformat(self.cutoff)), "child_level": self.child_level,
                "child_unit": self.child_unit, "previous": self.previous_label,
                "issue": numbers.chinese(self.issue) if self.issue else ""}

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Facts:
        data = dict(data)
        data["figures"] = [FigureRow(**f) for f in data["figures"]]
        data["qc"] = [QcRow(**q) for q in data["qc"]]
        return cls(**data)

    def own(self, indicator: str) -> FigureRow | None:
        return next((f for f in self.figures if f.indicator == indicator and f.own), None)

    def children(self, indicator: str) -> list[FigureRow]:
        return [f for f in self.figures if f.indicator == indicator and not f.own]


SYMBOLS = {">=": "≥", "<=": "≤", ">": "＞", "<": "＜"}


def target_words(value: float, comparator: str, unit: str) -> str:
    """≥62% for a rate target of 0.62 (no trailing zeros, as bulletins print targets); ≥1913人 for a count."""
    comparator = SYMBOLS.get(comparator, comparator)
    if unit == "count":
        return f"{comparator}{value:g}人"
    return f"{comparator}{(Decimal(str(value)) * 100).normalize():f}%"


def target_level(region: str) -> str:
    return TARGET_LEVEL.get(len(region), "")


# --- paragraphs ---------------------------------------------------------------------------------------------
def paragraph(kind: str, text: str = "", *, level: int = 0, number: str = "", indicator: str = "",
              refs: list[str] | None = None) -> dict:
    """One editable paragraph: ``kind`` heading / text / chart; ``refs`` the figures (indicator@unit) it cites."""
    return {"kind": kind, "level": level, "number": number, "text": text, "indicator": indicator,
            "refs": list(refs or [])}


def _fill(pattern: str, **words: str) -> str:
    return pattern.format(**words)


def figure_sentence(t: Template, facts: Facts, item: Item, *, same_base: bool = False) -> tuple[str, list[str]]:
    """The sentence of one indicator for the unit, then lagging units and units above/below average.
    ``same_base``: the paragraph has just said this denominator (管理高血压患者12人): not said again."""
    own = facts.own(item.indicator)
    p, words = t.patterns, facts.words()
    if own is None or not own.denominator:
        name = own.name if own is not None else catalogue.indicators()[item.indicator].name
        return _fill(t.text["no_data"], name=name, **words), [] if own is None else [own.key]
    refs = [own.key]
    target = "" if own.target is None else _fill(p["target"], level=own.target_level, target=own.target)
    change = numbers.change(own.change, prefix=t.labels.get("change_prefix", "较上期"))
    text = _fill(p["figure_same_base" if same_base else "figure"], name=own.name, rate=mark(own.key, numbers.percent(own.rate)), target=target,
                 numerator_label=item.numerator_label or t.labels.get("numerator", ""),
                 denominator_label=item.denominator_label or t.labels.get("denominator", ""),
                 numerator=mark(own.key, numbers.count(own.numerator, item.unit)),
                 denominator=mark(own.key, numbers.count(own.denominator, item.unit if item.denominator_unit is None else item.denominator_unit)),
                 change="" if change is None else _fill(p["change"], text=change))
    kids = [k for k in facts.children(item.indicator) if k.rate is not None]
    lagging = sorted((k for k in kids if k.met is False), key=lambda k: (k.rate, k.unit_code))
    if lagging:
        text += _fill(p["lagging"], units=_units(lagging), **words)
        refs += [k.key for k in lagging]
    elif kids and all(k.met is True for k in kids):
        text += _fill(p["all_met"], **words)
        refs += [k.key for k in kids]
    if item.average and len(kids) >= 2 and own.rate is not None:
        above = sorted((k for k in kids if k.rate > own.rate), key=lambda k: (-k.rate, k.unit_code))
        below = sorted((k for k in kids if k.rate < own.rate), key=lambda k: (k.rate, k.unit_code))
        sides = [_fill(p[side], units=_units(group), **words) for side, group in (("above", above), ("below", below))
                 if group]
        if sides:
            text += "；".join(sides) + "。"
            refs += [k.key for k in above + below if k.key not in refs]
    return text, refs


def _units(rows: list[FigureRow]) -> str:
    """甲镇20.00%、乙镇40.00% — or the counts where a unit's target is a count (≥1913人): the figure it missed."""
    return "、".join(mark(r.key, f"{r.place}{numbers.count(r.numerator, '人')}")
                    if r.target is not None and r.target_value is None
                    else mark(r.key, f"{r.place}{numbers.percent(r.rate)}") for r in rows)


# --- links from a figure to its drill-down (issue 14 §4) ---------------------------------------------------
# While composing, a figure's words are wrapped in these control characters with the figure's key (H3@360426);
# :func:`unmark` takes them out and keeps where they were, so the text stays exactly the seed's words and the web
# preview can make each figure a link. Control characters because no template or unit name contains them.
OPEN, MID, CLOSE = "\x01", "\x02", "\x03"


def mark(ref: str, text: str) -> str:
    return f"{OPEN}{ref}{MID}{text}{CLOSE}"


def unmark(text: str) -> tuple[str, list[dict]]:
    """The text without markers, and the spans of the figures in it: {"start", "end", "ref"}."""
    out, links, i = [], [], 0
    while True:
        j = text.find(OPEN, i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        k, end = text.index(MID, j), text.index(CLOSE, j)
        start = sum(len(x) for x in out)
        words = text[k + 1:end]
        out.append(words)
        links.append({"start": start, "end": start + len(words), "ref": text[j + 1:k]})
        i = end + 1
    return "".join(out), links


def relink(text: str, links: list[dict]) -> list[dict]:
    """The spans of an edited paragraph: each figure's words found again in order; a figure edited away has none."""
    out, at = [], 0
    for link in links:
        words = link.get("words", "")
        k = text.find(words, at) if words else -1
        if k >= 0:
            out.append({**link, "start": k, "end": k + len(words)})
            at = k + len(words)
    return out


def segments(p: dict) -> list[tuple[str, str]]:
    """A paragraph as (text, ref) pieces in order; ref is "" for words that are not a figure."""
    text, out, at = p["text"], [], 0
    for link in sorted(p.get("links", []), key=lambda x: x["start"]):
        if link["start"] < at:
            continue
        if link["start"] > at:
            out.append((text[at:link["start"]], ""))
        out.append((text[link["start"]:link["end"]], link["ref"]))
        at = link["end"]
    if at < len(text):
        out.append((text[at:], ""))
    return out


def _finish(body: list[dict]) -> list[dict]:
    for p in body:
        text, links = unmark(p["text"])
        p["text"], p["links"] = text, [{**x, "words": text[x["start"]:x["end"]]} for x in links]
    return body


def qc_sentences(t: Template, facts: Facts, rules: tuple[str, ...]) -> str:
    p = t.patterns
    found = [q for q in facts.qc if q.rule in rules and q.findings > 0]
    if not found:
        return p["qc_none"]
    out = []
    for q in found:
        change = "" if q.change is None else f"（{_count_change(q.change)}）"
        text = _fill(p["qc"], rule=q.name, count=numbers.count(q.findings), change=change)
        if q.clusters:
            text += _fill(p["qc_cluster"], places="、".join(q.clusters))
        out.append(text)
    return "；".join(out) + "。"


def _count_change(delta: int) -> str:
    if delta == 0:
        return "与上期持平"
    return f"较上期{'增加' if delta > 0 else '减少'}{numbers.count(abs(delta))}条"


def requirement_sentences(t: Template, facts: Facts) -> list[tuple[str, list[str]]]:
    out = []
    for code in t.indicators:
        own = facts.own(code)
        lagging = sorted((k for k in facts.children(code) if k.rate is not None and k.met is False),
                         key=lambda k: (k.rate, k.unit_code))
        if own is None or not lagging:
            continue
        out.append((_fill(t.patterns["requirement"], name=own.name, units=_units(lagging), **facts.words()),
                    [k.key for k in lagging]))
    return out


def _groups(items: tuple[Item, ...]) -> list[list[Item]]:
    """Items grouped into numbered paragraphs: an item with a title starts one, an item without joins the last."""
    groups: list[list[Item]] = []
    for item in items:
        if item.title or not groups:
            groups.append([item])
        else:
            groups[-1].append(item)
    return groups


def _has_data(facts: Facts, code: str) -> bool:
    own = facts.own(code)
    return own is not None and bool(own.denominator)


def _name(facts: Facts, code: str) -> str:
    own = facts.own(code)
    return own.name if own is not None else catalogue.indicators()[code].name


def compose(t: Template, facts: Facts) -> list[dict]:
    """The body of the bulletin, from the addressee to the last requirement, as editable paragraphs."""
    words = facts.words()
    body = [paragraph("addressee", _fill(t.text["addressee"], **words)),
            paragraph("text", _fill(t.text["opening"], **words))]
    if not facts.previous_stored:
        body.append(paragraph("text", _fill(t.text["not_stored"], **words)))
    found = {q.rule for q in facts.qc if q.findings > 0}
    si = 0
    for section in t.sections:
        parts = [p for p in section.parts if (not p.if_findings or found & set(t.qc_rules))
                 and not (p.provider and p.when_missing == "omit" and not facts.sections.get(p.provider))]
        if section.parts and not parts:
            continue  # every part of it left out for want of data: no empty heading
        si += 1
        body.append(paragraph("heading", section.heading, level=1, number=numbers.heading_number(1, si)))
        for pi, part in enumerate(parts, start=1):
            body.append(paragraph("heading", part.heading, level=2, number=numbers.heading_number(2, pi)))
            if part.provider:
                given = facts.sections.get(part.provider)
                if not given:
                    body.append(paragraph("text", _fill(t.text["no_data"], name=SECTIONS[part.provider], **words)))
                for s in given or []:
                    body.append(paragraph("text", s["text"], refs=s.get("refs", [])))
            for n, group in enumerate(_groups(part.items), start=1):
                head = f"{group[0].title}。" if group[0].title else ""
                number = numbers.heading_number(3, n)
                if not any(_has_data(facts, i.indicator) for i in group):
                    names = "、".join(_name(facts, i.indicator) for i in group)
                    body.append(paragraph("text", head + _fill(t.text["no_data"], name=names, **words), level=3,
                                          number=number, indicator=group[0].indicator))
                    continue
                current = paragraph("text", head, level=3, number=number, indicator=group[0].indicator)
                body.append(current)
                charts = []
                shown: tuple[str, int | None] | None = None  # the base already said in this paragraph
                for item in group:
                    own = facts.own(item.indicator)
                    base = None if own is None else (item.denominator_label, own.denominator)
                    text, refs = figure_sentence(t, facts, item, same_base=base is not None and base == shown)
                    shown = base or shown
                    current["text"] += text
                    current["refs"] += [r for r in refs if r not in current["refs"]]
                    if item.chart and len([k for k in facts.children(item.indicator) if k.rate is not None]) >= 2:
                        charts.append(paragraph("chart", item.indicator, indicator=item.indicator))
                body += charts
            if part.qc_rules:
                body.append(paragraph("text", qc_sentences(t, facts, part.qc_rules)))
            if part.requirements:
                for text, refs in requirement_sentences(t, facts):
                    body.append(paragraph("text", text, refs=refs))
            for text in part.paragraphs:
                body.append(paragraph("text", _fill(text, **words)))
    return _finish(body)
