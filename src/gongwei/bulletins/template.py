"""A bulletin type as data: ``templates/<type>.toml`` (ADR 026) loaded and checked against the rulebook.

TOML because it is in the standard library (``tomllib``), keeps long Chinese sentences readable without quoting
rules of its own (YAML's ``：`` and leading ``*``/``-`` need care), and has comments a bureau can read.
A template that names an unknown indicator or QC rule, or lacks a pattern, is refused with one Chinese sentence.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources

from gongwei.bulletins.sections import SECTIONS, WHEN_MISSING
from gongwei.errors import UserError


def gettext_noop(message: str) -> str:
    """Marks a string for the catalogue (makemessages reads the name) without touching Django's settings at
    import: the command line imports this module before Django is configured."""
    return message


# the names are marked for translation (the web page's type list shows them translated)
TYPES = {"quarterly": gettext_noop("季度工作进展情况通报"), "rectification": gettext_noop("整改情况报告（按期）"),
         "report": gettext_noop("工作报告（基本公共卫生服务部分）"),
         "annual": gettext_noop("年度绩效评价情况通报")}

REQUIRED = ("title", "issuer", "number_prefix", "addressee", "opening", "contact", "no_data", "not_stored")
PATTERNS = ("figure", "figure_same_base", "target", "change", "lagging", "all_met", "above", "below", "qc", "qc_cluster", "qc_none",
            "requirement")


class TemplateError(UserError):
    """A template a bureau edited that cannot be used; the message names the key and the rule (Chinese)."""


@dataclass(frozen=True)
class Item:
    indicator: str
    title: str = ""
    numerator_label: str = ""
    denominator_label: str = ""
    unit: str = ""  # the word after counts (人, 份)
    denominator_unit: str | None = None  # after the denominator when it differs (常住人口 …人, 档案 …份)
    chart: bool = False
    average: bool = False  # name the child units above and below the area's own rate


@dataclass(frozen=True)
class Part:
    heading: str
    items: tuple[Item, ...] = ()
    qc_rules: tuple[str, ...] = ()
    requirements: bool = False
    paragraphs: tuple[str, ...] = ()
    if_findings: bool = False  # only when a QC rule of the template found something (its text speaks of findings)
    provider: str = ""  # sentences from a section provider (bulletins/sections.py) instead of items
    when_missing: str = "omit"  # the provider has no data: omit the part, or say no_data ("no_data")


@dataclass(frozen=True)
class Section:
    heading: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Template:
    type: str
    name: str
    text: dict[str, str]  # title, issuer, opening, … (REQUIRED)
    attachments: tuple[str, ...]
    patterns: dict[str, str]
    labels: dict[str, str]
    sections: tuple[Section, ...]
    period: str = "quarter"  # the period a bulletin of this type covers: "quarter" (2025Q2) or "year" (2025)
    source: str = field(default="", compare=False)  # the TOML text, kept with a bulletin that used it

    @property
    def indicators(self) -> list[str]:
        return list(dict.fromkeys(i.indicator for s in self.sections for p in s.parts for i in p.items))

    @property
    def qc_rules(self) -> list[str]:
        return list(dict.fromkeys(r for s in self.sections for p in s.parts for r in p.qc_rules))


def load(kind: str) -> Template:
    if kind not in TYPES:
        raise TemplateError(f"通报类型“{kind}”不存在（可选：{'、'.join(f'{k}（{v}）' for k, v in TYPES.items())}）")
    text = resources.files("gongwei.bulletins").joinpath("templates", f"{kind}.toml").read_text(encoding="utf-8")
    return parse(text)


def parse(text: str) -> Template:
    from gongwei.spec import catalogue
    from gongwei.spec.quality import rules

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"通报模板不是有效的 TOML：{exc}") from None
    missing = [k for k in REQUIRED if not isinstance(data.get(k), str)]
    if missing:
        raise TemplateError(f"通报模板缺少文字项：{'、'.join(missing)}")
    patterns = data.get("patterns", {})
    missing = [k for k in PATTERNS if not isinstance(patterns.get(k), str)]
    if missing:
        raise TemplateError(f"通报模板 [patterns] 缺少句式：{'、'.join(missing)}")
    known, known_rules = catalogue.indicators(), rules()
    sections = []
    for s in data.get("section", []):
        parts = []
        for p in s.get("part", []):
            items = []
            for raw in p.get("items", []):
                code = catalogue.canonical_code(str(raw.get("indicator", "")))
                if code is None or code not in known:
                    raise TemplateError(f"通报模板“{p.get('heading', '')}”中的指标代码“{raw.get('indicator')}”不在规则库中")
                unknown = set(raw) - {"indicator", "title", "numerator_label", "denominator_label", "unit", "chart",
                                      "average", "denominator_unit"}
                if unknown:
                    raise TemplateError(f"通报模板指标 {code} 有未知的设置：{'、'.join(sorted(unknown))}")
                items.append(Item(code, raw.get("title", ""), raw.get("numerator_label", ""),
                                  raw.get("denominator_label", ""), raw.get("unit", ""), raw.get("denominator_unit"),
                                  bool(raw.get("chart", False)), bool(raw.get("average", False))))
            qc = [str(r) for r in p.get("qc_rules", [])]
            bad = [r for r in qc if r not in known_rules]
            if bad:
                raise TemplateError(f"通报模板中的质控规则不在规则库中：{'、'.join(bad)}")
            unknown = set(p) - {"heading", "items", "qc_rules", "requirements", "paragraphs", "if_findings",
                                "provider", "when_missing"}
            if unknown:
                raise TemplateError(f"通报模板“{p.get('heading', '')}”有未知的设置：{'、'.join(sorted(unknown))}")
            provider, when_missing = str(p.get("provider", "")), str(p.get("when_missing", "omit"))
            if provider and provider not in SECTIONS:
                raise TemplateError(f"通报模板“{p.get('heading', '')}”的数据来源“{provider}”不存在"
                                    f"（可选：{'、'.join(SECTIONS)}）")
            if when_missing not in WHEN_MISSING:
                raise TemplateError(f"通报模板“{p.get('heading', '')}”的 when_missing 应为 omit 或 no_data，"
                                    f"而不是“{when_missing}”")
            parts.append(Part(str(p.get("heading", "")), tuple(items), tuple(qc), bool(p.get("requirements", False)),
                              tuple(str(x) for x in p.get("paragraphs", [])), bool(p.get("if_findings", False)),
                              provider, when_missing))
        sections.append(Section(str(s.get("heading", "")), tuple(parts)))
    if not sections:
        raise TemplateError("通报模板没有任何 [[section]]")
    period = str(data.get("period", "quarter"))
    if period not in ("quarter", "year"):
        raise TemplateError(f"通报模板的 period 应为 quarter 或 year，而不是“{period}”")
    return Template(str(data.get("type", "")), str(data.get("name", "")), {k: data[k] for k in REQUIRED},
                    tuple(data.get("attachments", [])), dict(patterns), dict(data.get("labels", {})),
                    tuple(sections), period, text)
