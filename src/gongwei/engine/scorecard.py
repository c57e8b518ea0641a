"""Data-quality scorecards: QC findings per org unit and period, as a progress bulletin reports them.

For every unit of a subtree (every level, rolled up: a county's count is the sum of its townships' and
villages') and every group of rules (all, level, family, single rule): the findings, the records examined,
problems per 1,000 records, the change since the previous period of the same kind, the unit's rank among
its siblings (fewest problems per 1,000 first), and per rule the townships and villages where problems
cluster (most findings, highest rate) — what [pingliang-2020q2] writes as "重复档案数由3.29万份下降至0.16万份" and
"数据雷同较多的有：华亭市东华镇、安口镇…".

Two steps keep the backend work separate from the small arithmetic:

* :func:`tally` counts, per responsible unit, the findings of each rule (from the findings Arrow table)
  and the records each rule examined (one backend group-by per source table). A tally is small (units ×
  rules) and can be stored per snapshot and period (:func:`store`) like indicator results.
* :func:`build` rolls two tallies (this period, the previous one) up the org tree with the engine's one
  roll-up (:func:`gongwei.engine.orgs.roll_up`) and groups and ranks them in DuckDB over Arrow: no Python loop
  touches a finding.

Denominators: a rule on residents or their 个人基本信息表 is counted against the residents found in the
records at the period end (:func:`gongwei.engine.programs.records.residents_in_records`, less those whose
form was created after it); a rule on an encounter table against that table's non-void rows dated in the
period, at the serving unit (where the evaluators place encounter findings); "encounters" against every
encounter table; a rule on enrolments against the enrolments overlapping the period. A group of rules is
counted against the union of its rules' sources, each source once.

``python -m gongwei.engine.scorecard [--check]`` writes (or checks) the rule catalogue in docs/quality.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gongwei.engine import orgs
from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.engine.programs.records import residents_in_records
from gongwei.engine.quality import ENCOUNTER_TABLES
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period, PeriodKind, parse
from gongwei.spec.quality import Level, QcRule, rules

# Rule families by code prefix: the paragraphs of a quality bulletin (and the evaluator modules).
FAMILIES: dict[str, str] = {
    "ID": "身份信息", "C": "完整性", "R": "数值合理性", "L": "逻辑一致性", "T": "时间逻辑", "F": "疑似造假",
}
LEVEL_NAMES: dict[str, str] = {Level.ERROR: "错误", Level.WARNING: "警告", Level.SIGNAL: "疑点信号"}
ALL = "ALL"
ALL_NAME = "全部问题"
GROUP_KINDS = ("all", "level", "family", "rule")
RESIDENT_TABLES = ("residents", "health_records")
SOURCE_NAMES = {  # what a record of each source table is called in a bulletin
    "residents": "在册档案", "health_examinations": "健康体检", "chronic_follow_ups": "慢性病随访",
    "smi_follow_ups": "严重精神障碍随访", "tb_follow_ups": "肺结核随访", "newborn_visits": "新生儿访视",
    "child_checks": "儿童健康检查", "prenatal_visits": "产前随访", "postpartum_visits": "产后访视",
    "vaccinations": "预防接种", "tcm_constitutions": "中医体质辨识", "child_tcm_guidance": "儿童中医药健康指导",
    "enrollments": "专项管理登记",
}
TALLY_SCHEMA = pa.schema([("org_unit_id", pa.int64()), ("kind", pa.string()), ("key", pa.string()),
                          ("n", pa.int64())])


def family(code: str) -> str:
    return code.split("-", 1)[0]


def examined_tables(rule_table: str) -> tuple[str, ...]:
    """The source tables whose records a rule on ``rule_table`` examines (its denominator)."""
    if rule_table in RESIDENT_TABLES:
        return ("residents",)
    if rule_table == "encounters":
        return ENCOUNTER_TABLES
    return (rule_table,)


def examined_name(rule_table: str) -> str:
    if rule_table in RESIDENT_TABLES:
        return "在册档案（期末）"
    if rule_table == "encounters":
        return "期间内全部服务记录"
    if rule_table == "enrollments":
        return "期间内有效的专项管理登记"
    return f"期间内{SOURCE_NAMES.get(rule_table, rule_table)}记录"


# --- previous period ------------------------------------------------------------------------------------
def previous_period(period: Period) -> Period:
    """The previous period of the same kind: a year the year before, a quarter the quarter before (2025Q1 →
    2024Q4), a maternal–child year the one before, a year-to-date the same date a year earlier."""
    if period.kind is PeriodKind.QUARTER_TO_DATE:
        q = int(period.code[-1])
        return parse(f"{period.year - 1}Q4") if q == 1 else parse(f"{period.year}Q{q - 1}")
    return period.previous()


# --- tally: the backend part ---------------------------------------------------------------------------
def _examined_expr(eng: Engine, name: str, period: Period, units: list[int] | None) -> ibis.Table:
    if name == "residents":
        # the records that existed at the period end, as the identity rules count them
        # (quality.identity.records_at_end): a 个人基本信息表 created later means the record did not exist
        # yet, which matters when an earlier period is evaluated on today's snapshot
        res = residents_in_records(eng, period, units)
        hr = eng.table("health_records")
        later = hr.filter(hr.created_on > ibis.date(period.end)).select(later_id=hr.resident_id)
        res = res.anti_join(later, res.id == later.later_id)
        grouped = res.group_by(org_unit_id=res.managing_unit_id).aggregate(n=res.count())
    else:
        t = eng.table(name)
        keep = None
        if "service_date" in t.columns:
            keep = (t.service_date >= ibis.date(period.start)) & (t.service_date <= ibis.date(period.end))
        elif "start_date" in t.columns:
            keep = t.start_date <= ibis.date(period.end)
            if "end_date" in t.columns:
                keep = keep & (t.end_date.isnull() | (t.end_date >= ibis.date(period.start)))
        if "is_void" in t.columns:
            keep = ~t.is_void if keep is None else keep & ~t.is_void
        if units is not None:
            inside = t.org_unit_id.isin(units)
            keep = inside if keep is None else keep & inside
        if keep is not None:
            t = t.filter(keep)
        grouped = t.group_by(org_unit_id=t.org_unit_id).aggregate(n=t.count())
    return grouped.select(org_unit_id=grouped.org_unit_id.cast("int64"), kind=ibis.literal("table"),
                          key=ibis.literal(name), n=grouped.n.cast("int64"))


def tally(eng: Engine, period: Period, findings: pa.Table, codes: list[str],
          units: list[int] | None = None) -> pa.Table:
    """Per responsible unit: findings of each rule in ``codes`` (kind "rule") and records examined per source
    table (kind "table"). ``findings``: :func:`gongwei.engine.quality.evaluate` output for these rules."""
    catalogue = rules()
    counts = findings.group_by(["org_unit_id", "rule"]).aggregate([("rule", "count")])
    found = pa.table({
        "org_unit_id": counts.column("org_unit_id").cast(pa.int64()),
        "kind": pa.array(["rule"] * counts.num_rows, pa.string()),
        "key": counts.column("rule").cast(pa.string()),
        "n": counts.column("rule_count").cast(pa.int64()),
    })
    sources = sorted({t for c in codes for t in examined_tables(catalogue[c].table)})
    parts = [_examined_expr(eng, name, period, units) for name in sources]
    examined = eng.to_arrow(ibis.union(*parts)) if parts else TALLY_SCHEMA.empty_table()
    out = pa.concat_tables([found, examined.select(TALLY_SCHEMA.names).cast(TALLY_SCHEMA)])
    return out.replace_schema_metadata({"rules": json.dumps(list(codes)), "period": period.code})


def examined_by_source(t: pa.Table) -> dict[str, int]:
    """Records examined per source table over the whole tally (residents first, then encounters)."""
    rows = t.filter(pc.equal(t.column("kind"), "table")).group_by("key").aggregate([("n", "sum")])
    got = dict(zip(rows.column("key").to_pylist(), rows.column("n_sum").to_pylist(), strict=True))
    order = ["residents", *ENCOUNTER_TABLES]
    return {k: int(got[k]) for k in sorted(got, key=lambda k: (order.index(k) if k in order else len(order), k))}


def tally_rules(t: pa.Table) -> list[str]:
    meta = t.schema.metadata or {}
    return json.loads(meta.get(b"rules", b"[]"))


def store(t: pa.Table, root: Path, snapshot_id: str, period: Period) -> Path:
    """Keep a tally by (snapshot, period, rulebook version), beside the indicator results."""
    folder = Path(root) / snapshot_id / period.code
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"qc-{spec_catalogue.rulebook_version()}.parquet"
    pq.write_table(t, path)
    return path


# --- groups of rules -----------------------------------------------------------------------------------
def _groups(codes: list[str]) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(groups, rule → group, source table → group) for the evaluated rules; metadata-sized."""
    catalogue = rules()
    chosen: list[QcRule] = [catalogue[c] for c in catalogue if c in set(codes)]  # rulebook order
    member: list[tuple[str, str, QcRule]] = []
    for r in chosen:
        fam = family(r.code)
        member += [("all", ALL, r), ("level", r.level.value, r), ("family", fam, r), ("rule", r.code, r)]
    names: dict[tuple[str, str], str] = {}
    order: dict[tuple[str, str], int] = {}
    level_order = {lv.value: i for i, lv in enumerate(Level)}
    family_order = {f: i for i, f in enumerate(FAMILIES)}
    for i, (kind, key, r) in enumerate(member):
        names[(kind, key)] = {"all": ALL_NAME, "level": LEVEL_NAMES.get(key, key),
                              "family": FAMILIES.get(key, key), "rule": r.name}[kind]
        base = {"all": 0, "level": 100 + level_order.get(key, 99), "family": 200 + family_order.get(key, 99),
                "rule": 1000 + i}[kind]
        order.setdefault((kind, key), base)
    groups = pa.table({
        "group_kind": [k for k, _ in names], "group": [g for _, g in names],
        "group_name": list(names.values()), "sort": pa.array([order[k] for k in names], pa.int64()),
    })
    rule_groups = pa.table({"rule": [r.code for _, _, r in member], "group_kind": [k for k, _, _ in member],
                            "group": [g for _, g, _ in member]})
    seen: set[tuple[str, str, str]] = set()
    for kind, key, r in member:
        for t in examined_tables(r.table):
            seen.add((t, kind, key))
    table_groups = pa.table({"tbl": [s[0] for s in sorted(seen)], "group_kind": [s[1] for s in sorted(seen)],
                             "group": [s[2] for s in sorted(seen)]})
    return groups, rule_groups, table_groups


# --- scorecard: the roll-up ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Scorecard:
    root: int
    period: Period
    previous_period: Period | None
    rules: tuple[str, ...]
    figures: pa.Table  # one row per unit of the subtree × group of rules
    clusters: pa.Table  # per rule × org level (township, village) × ("count" | "rate"): the top units

    @cached_property
    def _index(self) -> dict[tuple[int, str, str], dict]:
        return {(r["org_unit_id"], r["group_kind"], r["group"]): r for r in self.figures.to_pylist()}

    def figure(self, unit: int, group_kind: str, group: str = ALL) -> dict:
        """One unit's figures for one group of rules: ``figure(u, "rule", "ID-01")``, ``figure(u, "all")``."""
        return self._index[(unit, group_kind, group)]

    def rows(self, unit: int, group_kind: str) -> list[dict]:
        """A unit's figures for every group of one kind, in rulebook order."""
        return [r for (u, k, _), r in self._index.items() if u == unit and k == group_kind]


def _units_table(tree: OrgTree, root: int) -> tuple[pa.Table, pa.Table]:
    scope = set(tree.subtree(root))
    ids = [i for i in tree.ids if i in scope]
    units = pa.table({
        "id": pa.array(ids, pa.int64()),
        # siblings of the root lie outside the subtree: the root is not ranked
        "parent_id": pa.array([tree.parent[i] if i != root else None for i in ids], pa.int64()),
        "code": [tree.code[i] for i in ids], "name": [tree.name[i] for i in ids],
        "level": [tree.level[i] for i in ids],
        "depth": pa.array([tree.path[i].count("/") for i in ids], pa.int64()),
    })
    return units, tree.ancestor_pairs(within=root)


def _rolled(current: pa.Table, previous: pa.Table | None, pairs: pa.Table) -> pa.Table:
    """Both tallies (``era`` cur / prev) summed into every unit of the subtree by the engine's one roll-up."""
    eras = []
    for era, tally_ in (("cur", current), ("prev", previous)):
        if tally_ is None or tally_.num_rows == 0:
            continue
        t = tally_.select(["org_unit_id", "kind", "key", "n"])
        eras.append(t.append_column("era", pa.array([era] * t.num_rows, pa.string())))
    if not eras:
        return pa.table({"org_unit_id": pa.array([], pa.int64()), "era": pa.array([], pa.string()),
                         "kind": pa.array([], pa.string()), "key": pa.array([], pa.string()),
                         "n": pa.array([], pa.int64())})
    return orgs.roll_up(pa.concat_tables(eras, promote_options="permissive"), pairs, ["n"],
                        by=["era", "kind", "key"])


_FIGURES_SQL = """
WITH
found AS (
    SELECT r.org_unit_id, r.era, g.group_kind, g."group", SUM(r.n) AS n
    FROM rolled r JOIN rule_groups g ON r.kind = 'rule' AND r.key = g.rule
    GROUP BY ALL
),
examined AS (
    SELECT r.org_unit_id, r.era, g.group_kind, g."group", SUM(r.n) AS n
    FROM rolled r JOIN table_groups g ON r.kind = 'table' AND r.key = g.tbl
    GROUP BY ALL
),
grid AS (
    SELECT u.id AS org_unit_id, u.parent_id, u.code, u.name, u.level, u.depth,
           g.group_kind, g."group", g.group_name, g.sort
    FROM units u CROSS JOIN groups g
),
counted AS (
    SELECT grid.*,
        COALESCE(fc.n, 0)::BIGINT AS findings,
        COALESCE(ec.n, 0)::BIGINT AS examined,
        CASE WHEN {has_prev} THEN COALESCE(fp.n, 0) END::BIGINT AS previous_findings,
        CASE WHEN {has_prev} THEN COALESCE(ep.n, 0) END::BIGINT AS previous_examined
    FROM grid
    LEFT JOIN found fc ON fc.era = 'cur' AND fc.org_unit_id = grid.org_unit_id
        AND fc.group_kind = grid.group_kind AND fc."group" = grid."group"
    LEFT JOIN examined ec ON ec.era = 'cur' AND ec.org_unit_id = grid.org_unit_id
        AND ec.group_kind = grid.group_kind AND ec."group" = grid."group"
    LEFT JOIN found fp ON fp.era = 'prev' AND fp.org_unit_id = grid.org_unit_id
        AND fp.group_kind = grid.group_kind AND fp."group" = grid."group"
    LEFT JOIN examined ep ON ep.era = 'prev' AND ep.org_unit_id = grid.org_unit_id
        AND ep.group_kind = grid.group_kind AND ep."group" = grid."group"
),
rated AS (
    SELECT *,
        CASE WHEN examined > 0 THEN findings * 1000.0 / examined END AS rate,
        CASE WHEN previous_examined > 0 THEN previous_findings * 1000.0 / previous_examined END AS previous_rate,
        findings - previous_findings AS change
    FROM counted
),
ranked AS (
    SELECT org_unit_id, group_kind, "group",
        RANK() OVER (PARTITION BY parent_id, group_kind, "group" ORDER BY rate) AS rank,
        COUNT(*) OVER (PARTITION BY parent_id, group_kind, "group") AS siblings
    FROM rated WHERE rate IS NOT NULL AND parent_id IS NOT NULL
)
SELECT r.org_unit_id, r.parent_id, r.code, r.name, r.level, r.depth, r.group_kind, r."group", r.group_name,
    r.findings, r.examined, r.rate, r.previous_findings, r.previous_examined, r.previous_rate, r.change,
    r.rate - r.previous_rate AS rate_change, k.rank::BIGINT AS rank, k.siblings::BIGINT AS siblings
FROM rated r LEFT JOIN ranked k
    ON k.org_unit_id = r.org_unit_id AND k.group_kind = r.group_kind AND k."group" = r."group"
ORDER BY r.depth, r.code, r.sort
"""

_CLUSTERS_SQL = """
WITH comparable AS (  -- naming the only township of a county tells nobody where problems cluster
    SELECT level FROM units WHERE parent_id IS NOT NULL AND level IN ('township', 'village')
    GROUP BY level HAVING COUNT(*) >= 2
),
candidates AS (
    SELECT * FROM figures
    WHERE group_kind = 'rule' AND findings > 0 AND parent_id IS NOT NULL AND level IN (SELECT level FROM comparable)
),
by_count AS (
    SELECT 'count' AS "by", *, ROW_NUMBER() OVER (
        PARTITION BY "group", level ORDER BY findings DESC, rate DESC NULLS LAST, code) AS position
    FROM candidates
),
by_rate AS (
    SELECT 'rate' AS "by", *, ROW_NUMBER() OVER (
        PARTITION BY "group", level ORDER BY rate DESC, findings DESC, code) AS position
    FROM candidates WHERE examined >= {min_examined} AND rate IS NOT NULL
)
SELECT "group" AS rule, group_name AS rule_name, level, "by", position::BIGINT AS position, org_unit_id, code,
    findings, examined, rate
FROM (SELECT * FROM by_count WHERE position <= {top} UNION ALL SELECT * FROM by_rate WHERE position <= {top})
ORDER BY rule, level, "by", position
"""


def build(tree: OrgTree, root: int, period: Period, current: pa.Table, *, codes: list[str] | None = None,
          previous: pa.Table | None = None, previous_period_: Period | None = None, top: int = 3,
          min_examined: int = 20) -> Scorecard:
    """Roll the tallies of the subtree under ``root`` up to every unit and rank siblings.

    ``codes``: the rules evaluated (default: those recorded in ``current``). ``previous``: the previous
    period's tally (same rules); without it the change columns are null. Clusters: per rule and org level
    (township, village; only where the subtree holds at least two units of that level), the ``top`` units
    by findings and by rate; a unit competes on rate only when it examined at least ``min_examined``
    records (one finding in three records is not a cluster).
    """
    codes = list(codes) if codes is not None else tally_rules(current)
    groups, rule_groups, table_groups = _groups(codes)
    units, pairs = _units_table(tree, root)
    con = duckdb.connect()
    try:
        rolled = _rolled(current.select(TALLY_SCHEMA.names),
                         previous.select(TALLY_SCHEMA.names) if previous is not None else None, pairs)
        for name, data in (("units", units), ("groups", groups), ("rule_groups", rule_groups),
                           ("table_groups", table_groups), ("rolled", rolled)):
            con.register(name, data)
        figures = con.sql(_FIGURES_SQL.format(has_prev="TRUE" if previous is not None else "FALSE")).to_arrow_table()
        con.register("figures", figures)
        clusters = con.sql(_CLUSTERS_SQL.format(top=int(top), min_examined=int(min_examined))).to_arrow_table()
    finally:
        con.close()
    return Scorecard(root, period, previous_period_ if previous is not None else None, tuple(codes), figures,
                     clusters)


# --- wording -------------------------------------------------------------------------------------------
_INSTITUTION_SUFFIXES = ("卫生健康委员会", "卫生健康局", "卫健局", "社区卫生服务中心", "卫生服务中心", "卫生服务站",
                         "卫生院", "卫生室")


def place_name(unit_name: str) -> str:
    """The place an institution serves, as a bulletin names it: 蒲亭镇卫生院 → 蒲亭镇, 城东村卫生室 → 城东村."""
    for suffix in _INSTITUTION_SUFFIXES:
        if unit_name.endswith(suffix) and len(unit_name) > len(suffix):
            return unit_name[: -len(suffix)]
    return unit_name


def place_label(tree: OrgTree, root: int, unit: int) -> str:
    """A unit named by its places below ``root``: 德安县蒲亭镇城东村 ([pingliang-2020q2]: 静宁县雷大镇屈岔村)."""
    chain = tree.ancestors(unit)
    below = chain[chain.index(root) + 1:] if root in chain else chain
    return "".join(place_name(tree.name[u]) for u in below)


def count_text(n: int) -> str:
    return f"{n:,}"


def rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1f}"


def change_text(change: int | None) -> str:
    """较上期减少 31,300 / 较上期增加 12 / 与上期持平 ([pingliang-2020q2]'s wording)."""
    if change is None:
        return "无上期数据"
    if change < 0:
        return f"较上期减少 {-change:,}"
    if change > 0:
        return f"较上期增加 {change:,}"
    return "与上期持平"


# --- docs ----------------------------------------------------------------------------------------------
DOC = Path(__file__).resolve().parents[3] / "docs" / "quality.md"
BEGIN, END = "<!-- rule-catalogue:begin -->", "<!-- rule-catalogue:end -->"


def _params_text(r: QcRule) -> str:
    def one(p) -> str:
        return ", ".join(f"{k}={'/'.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in p.items())

    parts = [f"{y}: {one(p)}" for y, p in sorted(r.params.values.items()) if p]
    for prefix, by_year in sorted(r.regional.items()):
        parts += [f"{y}（{prefix}）: {one(p)}" for y, p in sorted(by_year.values.items())]
    return "; ".join(parts).replace("|", "\\|") or "—"


def rule_table() -> str:
    """The rule catalogue as a Markdown table (docs/quality.md, between the markers)."""
    lines = ["| code | 规则 | 族 | 级别 | 检查表 | 计数基数（每千条） | 参数（起始年份） | 来源 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for code, r in rules().items():
        source = str(r.source).replace("|", "\\|")
        lines.append(f"| {code} | {r.name} | {FAMILIES.get(family(code), family(code))} | "
                     f"{r.level.value} {LEVEL_NAMES[r.level]} | `{r.table}` | {examined_name(r.table)} | "
                     f"{_params_text(r)} | {source} |")
    return "\n".join(lines)


def render_doc(text: str) -> str:
    """``text`` with the generated rule catalogue between the markers replaced by the current one."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{rule_table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成 docs/quality.md 中的质控规则目录")
    parser.add_argument("--check", action="store_true", help="只检查文档是否与规则库一致")
    args = parser.parse_args(argv)
    from gongwei.spec.docgen import write_or_check

    return write_or_check(DOC, render_doc(DOC.read_text(encoding="utf-8")), check=args.check,
                          command="python -m gongwei.engine.scorecard")


if __name__ == "__main__":
    sys.exit(main())
