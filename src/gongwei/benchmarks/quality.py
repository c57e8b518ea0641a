"""Recall and precision of the data-quality rules against a synthetic region's ground truth.

    python -m gongwei.benchmarks.quality --residents 100000 --seed 1

A fresh process generates the region (``gongwei.synth.generate``), loads it into an embedded SQLite database in
a temporary folder, takes a snapshot and evaluates the whole rule catalogue for the last full calendar year of
the service window (timed: median of ``--repeat`` runs on a fresh engine). Each rule with an injected problem
(docs/synth.md) is then compared with its labels on natural keys (record_no for residents, encounter_no for
encounters): findings carry ``table`` and ``record_id``, mapped back through the snapshot.

What counts as labelled:

* labels on encounters count when the encounter is dated in the evaluated period (the window is longer); labels
  on residents count when the record is in the register at the period end — the population of the identity
  rules (:func:`gongwei.engine.quality.identity.records_at_end`: not merged, not closed by then, created by
  then, usual residents);
* a duplicate recorded without an identity number (``dup_no_id``) is an empty number for ID-01 as well;
* ``exam_lookalike`` labels a pair — the copy (natural_key) and the exam it was copied from (related_key). Which of
  two identical exams is the copy cannot be told from the data, so F-01 flags both and both are the truth: the
  labelled set is every exam named by a label, on either side.

:func:`compare` is the same comparison for any snapshot and label table (tests/test_qc_recall.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# rule ↔ synthetic labels; "pair" labels name two rows that are both the problem. A duplicate recorded without
# an identity number (dup_no_id) has an empty number too.
RULE_LABELS: tuple[tuple[str, str, str], ...] = (
    ("ID-01", "id_empty+dup_no_id", "record"),
    ("ID-02", "id_malformed", "record"),
    ("ID-03", "id_bad_checksum", "record"),
    ("ID-07", "id_birth_mismatch", "record"),
    ("ID-09", "dup_same_id", "record"),
    ("F-01", "exam_lookalike", "pair"),
    ("F-03", "bp_arm_gap_10+bp_arm_gap_20", "record"),
    ("F-03b", "bp_arm_gap_20", "record"),
    ("F-10", "uncontrolled_no_guidance", "record"),
    ("C-06", "medication_irregular", "record"),
    ("L-12", "constitution_mismatch", "record"),
    ("T-03", "service_after_death", "record"),
    ("T-03b", "service_after_moveout", "record"),
)
# labels no QC rule answers, and where they are measured instead
UNRULED = {
    "dup_no_id": "空身份证号已计入 ID-01；与原档案的重复关系由 gongwei.engine.dedup 的概率匹配发现，不属于质控规则",
    "report_late": "传染病报告及时性是指标 ID2（engine.programs.events），质控规则库中没有对应规则",
    "report_missing": "传染病漏报是指标 ID1（engine.programs.events），质控规则库中没有对应规则",
}
NATURAL_KEY = {"residents": "record_no", "health_records": "record_no", "enrollments": "enrollment_no",
               "staff": "code"}


@dataclass
class RuleScore:
    rule: str
    label: str
    labelled: int
    flagged: int
    true_positives: int

    @property
    def recall(self) -> float:
        return self.true_positives / self.labelled if self.labelled else float("nan")

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else float("nan")


def _keyed(snapshot, table: str) -> pa.Table:
    """``id``, ``key`` (the natural key) and, for encounters, ``service_date`` and ``is_void`` of a snapshot table."""
    source = "residents" if table == "health_records" else table
    col = NATURAL_KEY.get(table, "encounter_no")
    names = pq.read_schema(snapshot.path(source)).names
    extra = [c for c in ("service_date", "is_void") if c in names]
    data = pq.read_table(snapshot.path(source), columns=["id", col, *extra])
    return data.rename_columns(["id", "key", *extra])


def _keys(table: pa.Table, col: str = "key") -> set[str]:
    return set(table.column(col).to_pylist())


def _register(eng, period) -> pa.Array:
    """Ids of the residents in the register at the period end (the identity rules' population)."""
    from gongwei.engine.quality import Check
    from gongwei.engine.quality.identity import records_at_end
    from gongwei.spec.quality import rules

    rule = rules()["ID-01"]
    check = Check(eng, period, rule, rule.params_for(period.year))
    return records_at_end(check).select("id").to_pyarrow().column("id").combine_chunks()


def compare(eng, labels: pa.Table, findings: pa.Table, period) -> list[RuleScore]:
    """Score each labelled rule with an evaluator against ``labels`` (problem, table, natural_key,
    related_key, ...) on the engine's snapshot. ``findings`` is what :func:`gongwei.engine.quality.evaluate`
    returned for ``period``."""
    from gongwei.engine.quality import evaluators

    impl = evaluators()
    snapshot = eng.snapshot
    cache: dict[str, pa.Table] = {}

    def keyed(table: str) -> pa.Table:
        if table not in cache:
            cache[table] = _keyed(snapshot, table)
            if table == "residents":
                cache[table] = cache[table].filter(pc.is_in(cache[table].column("id"), _register(eng, period)))
        return cache[table]

    out = []
    for rule, problem, mode in RULE_LABELS:
        if rule not in impl:
            continue
        lab = labels.filter(pc.is_in(labels.column("problem"), pa.array(problem.split("+"))))
        truth: set[tuple[str, str]] = set()
        for table in sorted(set(lab.column("table").to_pylist())):
            part = lab.filter(pc.equal(lab.column("table"), table))
            keys = part.column("natural_key").to_pylist()
            if mode == "pair":
                keys += part.column("related_key").to_pylist()
            rows = keyed(table).filter(pc.is_in(keyed(table).column("key"), pa.array(keys, pa.string())))
            if "service_date" in rows.column_names:
                in_period = pc.and_(pc.greater_equal(rows.column("service_date"), pa.scalar(period.start)),
                                    pc.less_equal(rows.column("service_date"), pa.scalar(period.end)))
                rows = rows.filter(pc.and_(in_period, pc.invert(rows.column("is_void"))))
            truth |= {(table, k) for k in _keys(rows)}
        hits = findings.filter(pc.equal(findings.column("rule"), rule))
        found: set[tuple[str, str]] = set()
        for table in sorted(set(hits.column("table").to_pylist())):
            ids = hits.filter(pc.equal(hits.column("table"), table)).column("record_id")
            everyone = _keyed(snapshot, table) if table == "residents" else keyed(table)
            rows = everyone.filter(pc.is_in(everyone.column("id"), ids))
            found |= {(table, k) for k in _keys(rows)}
        out.append(RuleScore(rule, problem, len(truth), len(found), len(truth & found)))
    return out


def evaluation_period(region_as_of: dt.date):
    """The last full calendar year of a synthetic window ending at ``region_as_of``."""
    from gongwei.spec.periods import parse

    year = region_as_of.year if region_as_of == dt.date(region_as_of.year, 12, 31) else region_as_of.year - 1
    return parse(str(year))


def table(scores: list[RuleScore]) -> str:
    lines = ["| 规则 | 标签 | 标注数 | 检出数 | 真阳性 | 召回率 | 精确率 |", "|---|---|---:|---:|---:|---:|---:|"]
    for s in scores:
        lines.append(f"| {s.rule} | {s.label} | {s.labelled:,} | {s.flagged:,} | {s.true_positives:,} | "
                     f"{s.recall:.3f} | {s.precision:.3f} |")
    return "\n".join(lines)


# --- the command ----------------------------------------------------------------------------------------------
def _worker(residents: int, seed: int, as_of: str, repeat: int, backend: str) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwei.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from gongwei.engine.backends import Engine
    from gongwei.engine.quality import evaluate, evaluators
    from gongwei.engine.snapshot import Snapshot
    from gongwei.records.snapshot import take_snapshot
    from gongwei.synth.generate import generate_region
    from gongwei.synth.load import load_region

    t0 = time.perf_counter()
    region = generate_region(residents, seed, as_of=dt.date.fromisoformat(as_of))
    load_region(region, progress=False)
    load_s = time.perf_counter() - t0
    snap = Snapshot.open(take_snapshot(Path(os.environ["GONGWEI_DATA_DIR"]) / "snapshots"))
    period = evaluation_period(region.as_of)
    times, found = [], None
    for _ in range(repeat):
        eng = Engine(snap, backend)
        t0 = time.perf_counter()
        found = evaluate(eng, period)
        times.append(time.perf_counter() - t0)
    scores = compare(Engine(snap, backend), region.labels, found, period)
    problems = set(region.labels.column("problem").to_pylist())
    return {
        "residents": residents, "seed": seed, "as_of": as_of, "period": period.code, "backend": backend,
        "snapshot_rows": sum(snap.tables.values()), "labels": region.labels.num_rows, "load_s": load_s,
        "rules": len(evaluators()), "findings": found.num_rows, "evaluate_s": times,
        "scores": [asdict(s) for s in scores],
        "missing_rules": [r for r, _, _ in RULE_LABELS if r not in evaluators()],
        "unruled": {p: why for p, why in UNRULED.items() if p in problems},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gongwei.benchmarks.quality",
                                 description="质控规则对合成地区注入问题（标签）的召回率与精确率，以及全部规则的评估耗时")
    ap.add_argument("--residents", type=int, default=100_000, help="合成地区居民人数（默认 100000）")
    ap.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
    ap.add_argument("--as-of", default="2026-06-30", help="数据截止日期；评估其前一个完整自然年（默认 2026-06-30）")
    ap.add_argument("--repeat", type=int, default=3, help="全部规则评估的重复次数，取中位数（默认 3）")
    ap.add_argument("--backend", choices=("duckdb", "pyspark"), default="duckdb", help="计算后端（默认 duckdb）")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.residents, args.seed, args.as_of, args.repeat, args.backend)))
        return 0
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="gongwei-qc-bench-") as tmp:
        env["GONGWEI_DATA_DIR"] = tmp
        cmd = [sys.executable, "-m", "gongwei.benchmarks.quality", "--worker", "--residents", str(args.residents),
               "--seed", str(args.seed), "--as-of", args.as_of, "--repeat", str(args.repeat),
               "--backend", args.backend]
        done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    r = json.loads(done.stdout.strip().splitlines()[-1])
    scores = [RuleScore(**s) for s in r["scores"]]
    lines = [
        f"合成地区：{r['residents']:,} 居民，种子 {r['seed']}，截止 {r['as_of']}；快照 {r['snapshot_rows']:,} 行，"
        f"标签 {r['labels']:,} 条；评估期间 {r['period']}；后端 {r['backend']}；"
        f"机器 {os.cpu_count()} 核，Python {platform.python_version()}",
        "",
        table(scores),
        "",
        f"全部 {r['rules']} 条已实现规则评估（{r['findings']:,} 条问题）：中位数 {statistics.median(r['evaluate_s']):.2f} s"
        f"（{len(r['evaluate_s'])} 次：{'、'.join(f'{t:.2f}' for t in r['evaluate_s'])} s）",
    ]
    if r["missing_rules"]:
        lines.append(f"尚未实现、未参与比较的规则：{'、'.join(r['missing_rules'])}")
    for problem, why in r["unruled"].items():
        lines.append(f"标签 {problem}：{why}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
