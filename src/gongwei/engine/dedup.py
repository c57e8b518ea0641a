"""Duplicate records (重复档案, [cq-ehr-2024]) over a snapshot: exact and probabilistic.

* **Exact**: two or more unmerged records with the same ``id_key`` (keyed hash of the normalised identity
  number; the numbers themselves never reach a snapshot). Placeholder numbers (000…, 123456…) are not
  identities and are left to the probabilistic step.
* **Probabilistic**: a Fellegi–Sunter model in Splink 4 on DuckDB over name (exact, same pinyin — homophone
  characters such as 明/铭 —, one character different, similar pinyin), birth date, sex, unit (village ›
  township › county), phone key and id key. Pairs are only scored inside blocks (same id; same pinyin
  name and birth date; same township, birth date and sex; same pinyin name, birth year and county; a
  phone shared by few records), so the work grows with the population, not its square. Two records with
  two different trusted numbers are never paired: policy in ``gongwei.spec.quality.DEDUP``.

Parameters are estimated on the scope, or on the nearest enclosing unit with :data:`TRAIN_MIN_RECORDS`
records when the scope is smaller (then a pair scores the same seen from its village or its township).
m-probabilities start from the rulebook's priors and, from :data:`EM_MIN_RECORDS` records, are refined by
expectation maximisation; u-probabilities of the equality-only comparisons (sex, unit, phone, id) are
computed exactly from value counts, those of name and birth date from a seeded random sample of record
pairs; the prior that two random records match comes from counting deterministic-rule pairs. The same
snapshot therefore gives the same pairs, probabilities and order (ordered inputs, fixed seed, ordered
outputs; ``tests/test_dedup.py`` checks it).

Outputs: candidate pairs (exact ones, and probabilistic ones at or above the review threshold) with
match probability and the fields that agree, clusters (connected components of those pairs), and a
review queue — exact pairs first, then by probability — with the ``gongwei merge`` command of each pair.
Nothing here merges.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gongwei.engine.orgs import OrgTree
from gongwei.engine.snapshot import Snapshot
from gongwei.spec.quality import DEDUP, DedupPolicy

# Engineering knobs, not policy: they change speed and the noise of estimates, not what a duplicate is.
SEED = 20_200_828  # [pingliang-2020q2]'s date; any fixed non-zero value makes Splink's sample repeatable
U_MAX_PAIRS = 2e6  # random pairs for u; ~2,000 records, enough for levels as rare as one in 10⁵
EM_MIN_RECORDS = 5_000  # below this, EM has too few pairs per block to beat the priors
TRAIN_MIN_RECORDS = 10_000  # about a township; smaller scopes borrow the model of the unit above
EM_MAX_ITERATIONS = 25

Progress = Callable[[str], None]

# full-width ASCII and the ideographic space → half-width, so 张三 and 张　三 or ＡＢ and AB compare equal
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALF = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "
# spaces and the separators of transliterated minority names (阿不都·热合曼) carry no identity
_DROP = r"[\s·•・.．\-]"

# field agreement shown to reviewers: (label, SQL condition over the pair's l./r. columns)
_AGREE = (
    ("身份证号", "l.id_key = r.id_key"),
    ("姓名", "l.name_norm = r.name_norm"),
    ("姓名同音", "l.name_norm <> r.name_norm AND l.name_py = r.name_py"),
    ("出生日期", "l.birth_date = r.birth_date"),
    ("性别", "l.sex = r.sex"),
    ("村", "l.unit_id = r.unit_id"),
    ("乡镇", "l.unit_id <> r.unit_id AND l.township_id = r.township_id"),
    ("电话", "l.phone_key = r.phone_key"),
)


@dataclass
class DedupResult:
    pairs: pa.Table  # survivor/duplicate ids and record numbers, exact, match_probability, agree
    clusters: pa.Table  # resident_id, record_no, cluster_id, cluster_size, survivor (of the cluster)
    queue: pa.Table  # review queue, ordered: exact first, then probability
    summary: dict[str, object] = field(default_factory=dict)
    parameters: list[dict[str, object]] = field(default_factory=list)  # m/u per comparison level


def find_duplicates(
    snapshot: Snapshot,
    org: str | None = None,
    *,
    threshold: float | None = None,
    policy: DedupPolicy = DEDUP,
    tree: OrgTree | None = None,
    progress: Progress | None = None,
    em: bool | None = None,
) -> DedupResult:
    """Duplicate records among the residents managed in ``org``'s subtree (the whole snapshot if None).

    ``threshold`` overrides the policy's review threshold; ``em`` forces EM on or off (default: on from
    :data:`EM_MIN_RECORDS` records).
    """
    say = progress or (lambda _msg: None)
    threshold = policy.review_threshold if threshold is None else threshold
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"阈值应在 0 与 1 之间（不含 0），而不是 {threshold}")
    tree = tree or OrgTree.load(snapshot)
    con = duckdb.connect()
    try:
        say("读取居民档案")
        scope, population = _scope(con, snapshot, tree, org)
        _units_table(con, tree, population, scope)
        n, n_population = _prepare(con, snapshot, policy)
        wider = f"（模型在上级范围 {n_population:,} 份档案上估计）" if n_population > n else ""
        say(f"范围内未合并档案 {n:,} 份{wider}；查找身份证号相同的档案")
        _exact_pairs(con)
        compared, parameters, trained = 0, [], "none"
        if n_population >= 2:
            compared, parameters, trained = _probabilistic(con, n_population, policy, say, em)
        else:
            con.execute("CREATE TABLE dd_predicted (id_l BIGINT, id_r BIGINT, match_probability DOUBLE, "
                        "match_weight DOUBLE)")
        say("汇总候选对、聚类和复核队列")
        pairs = _pairs(con, threshold)
        clusters = _clusters(con, pairs)
        queue = _queue(con)
    finally:
        con.close()
    exact = int(pc.sum(pairs.column("exact")).as_py() or 0)
    summary = {
        "org": org, "snapshot": snapshot.id, "records": n, "training_records": n_population,
        "compared_pairs": compared, "threshold": threshold, "exact_pairs": exact, "probable_pairs": pairs.num_rows - exact,
        "clusters": len(set(clusters.column("cluster_id").to_pylist())) if clusters.num_rows else 0,
        "records_in_clusters": clusters.num_rows, "training": trained,
    }
    return DedupResult(pairs, clusters, queue, summary, parameters)


# --- inputs ---------------------------------------------------------------------------------------
def _scope(con: duckdb.DuckDBPyConnection, snap: Snapshot, tree: OrgTree, org: str | None) -> tuple[set[int], set[int]]:
    """Units of ``org``'s subtree, and the units the model is estimated on: the same subtree, or — when it
    holds fewer than :data:`TRAIN_MIN_RECORDS` records — the nearest enclosing one that does. In a village
    of a few dozen records the duplicates themselves would be a visible share of the "random" pairs that
    u-probabilities come from; a township's population describes how names and birth dates coincide."""
    if not org:
        return set(tree.ids), set(tree.ids)
    root = tree.by_code(org)
    counts = dict(con.execute(f"""
        SELECT managing_unit_id, count(*) FROM read_parquet({_q(snap.path('residents'))})
        WHERE merged_into_id IS NULL AND coalesce(status, '') <> 'merged' GROUP BY ALL""").fetchall())
    scope = population = set(tree.subtree(root))
    while sum(counts.get(u, 0) for u in population) < TRAIN_MIN_RECORDS and tree.parent[root] is not None:
        root = tree.parent[root]
        population = set(tree.subtree(root))
    return scope, population


def _units_table(con: duckdb.DuckDBPyConnection, tree: OrgTree, population: set[int], scope: set[int]) -> None:
    """Units with their township and county (loops over org units, never residents)."""
    units = sorted(population)

    def at(unit: int, level: str) -> int:
        for a in reversed(tree.ancestors(unit)):  # nearest first
            if tree.level[a] == level:
                return a
        return unit  # a unit above that level stands for itself

    table = pa.table({
        "unit_id": pa.array(units, pa.int64()),
        "in_scope": pa.array([u in scope for u in units], pa.bool_()),
        "township_id": pa.array([at(u, "township") for u in units], pa.int64()),
        "county_id": pa.array([at(u, "county") for u in units], pa.int64()),
        "unit_name": pa.array([tree.name[u] for u in units], pa.string()),
        "unit_code": pa.array([tree.code[u] for u in units], pa.string()),
    })
    con.register("dd_units_arrow", table)
    con.execute("CREATE TABLE dd_units AS SELECT * FROM dd_units_arrow")
    con.unregister("dd_units_arrow")


def _q(path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _prepare(con: duckdb.DuckDBPyConnection, snap: Snapshot, policy: DedupPolicy) -> tuple[int, int]:
    """``dd_people``: one row per unmerged record of the units, with the normalised fields the model
    compares; returns the number in scope and in all."""
    trusted = ", ".join(_q(s) for s in policy.trusted_id_statuses)
    hr = snap.path("health_records")
    created_on = (f"LEFT JOIN (SELECT resident_id, created_on FROM read_parquet({_q(hr)})) h ON h.resident_id = r.id"
                  if hr.exists() else "LEFT JOIN (SELECT NULL::BIGINT AS resident_id, NULL::DATE AS created_on) h ON false")
    con.execute(f"""
        CREATE TABLE dd_base AS
        SELECT r.id AS unique_id, r.record_no, r.name, r.sex, r.birth_date,
               r.managing_unit_id AS unit_id, u.in_scope, u.township_id, u.county_id,
               CASE WHEN r.id_status = 'placeholder' THEN NULL ELSE r.id_key END AS id_key,
               coalesce(r.id_status IN ({trusted}), false) AND r.id_key IS NOT NULL AS id_trusted,
               r.phone_key, r.created_at, h.created_on
        FROM read_parquet({_q(snap.path('residents'))}) r
        JOIN dd_units u ON u.unit_id = r.managing_unit_id
        {created_on}
        WHERE r.merged_into_id IS NULL AND coalesce(r.status, '') <> 'merged'
    """)
    # names are normalised and spelt in pinyin once per distinct name (a few hundred thousand in a region of
    # millions), and pinyin is looked up once per distinct character (a few thousand)
    con.execute(f"""
        CREATE TABLE dd_names AS
        SELECT name, nullif(regexp_replace(translate(upper(trim(name)), {_q(_FULL)}, {_q(_HALF)}), {_q(_DROP)}, '', 'g'),
                            '') AS name_norm
        FROM (SELECT DISTINCT name FROM dd_base WHERE name IS NOT NULL)
    """)
    chars = [r[0] for r in con.execute(
        "SELECT DISTINCT unnest(string_split(name_norm, '')) AS ch FROM dd_names WHERE name_norm IS NOT NULL "
        "ORDER BY ch").fetchall()]
    con.register("dd_chars_arrow", pa.table({"ch": pa.array(chars, pa.string()),
                                             "py": pa.array([_pinyin(c) for c in chars], pa.string())}))
    con.execute("""
        CREATE TABLE dd_name_py AS
        WITH chars AS (
            SELECT name_norm, unnest(string_split(name_norm, '')) AS ch,
                   generate_subscripts(string_split(name_norm, ''), 1) AS pos
            FROM (SELECT DISTINCT name_norm FROM dd_names WHERE name_norm IS NOT NULL))
        SELECT c.name_norm, string_agg(coalesce(m.py, lower(c.ch)), ' ' ORDER BY c.pos) AS name_py,
               length(c.name_norm) AS name_len
        FROM chars c LEFT JOIN dd_chars_arrow m ON m.ch = c.ch GROUP BY c.name_norm
    """)
    con.unregister("dd_chars_arrow")
    con.execute(f"""
        CREATE TABLE dd_people AS
        SELECT b.*, n.name_norm, p.name_py, p.name_len,
               strftime(b.birth_date, '%Y%m%d') AS birth_str, year(b.birth_date) AS birth_year,
               -- the earlier-created record survives a merge: 建档日期, then entry time, then id
               row_number() OVER (ORDER BY b.created_on NULLS LAST, b.created_at NULLS LAST, b.unique_id) AS created_rank,
               -- a phone on many records (a clinic's number, 13800000000) would make one huge block
               CASE WHEN pc.k <= {int(policy.shared_phone_max)} THEN b.phone_key END AS phone_block
        FROM dd_base b
        LEFT JOIN dd_names n ON n.name = b.name
        LEFT JOIN dd_name_py p ON p.name_norm = n.name_norm
        LEFT JOIN (SELECT phone_key, count(*) AS k FROM dd_base WHERE phone_key IS NOT NULL GROUP BY phone_key) pc
               ON pc.phone_key = b.phone_key
        ORDER BY b.unique_id
    """)
    con.execute("DROP TABLE dd_base; DROP TABLE dd_names; DROP TABLE dd_name_py")
    return tuple(con.execute("SELECT count(*) FILTER (WHERE in_scope), count(*) FROM dd_people").fetchall()[0])


@cache
def _pinyin(ch: str) -> str:
    """Toneless pinyin of one character: its most common reading, so one character always maps to one
    syllable and homophones (明/铭, 华/桦) to the same one; anything else lower-cased."""
    from pypinyin import Style, lazy_pinyin

    return (lazy_pinyin(ch, style=Style.NORMAL, errors=lambda x: x.lower()) or [ch.lower()])[0]


# --- exact ----------------------------------------------------------------------------------------
def _exact_pairs(con: duckdb.DuckDBPyConnection) -> None:
    """Each record of an id group paired with the group's earliest-created record (k−1 pairs for a group
    of k, not k(k−1)/2: merging each into the survivor resolves the group)."""
    con.execute("""
        CREATE TABLE dd_exact AS
        WITH g AS (
            SELECT unique_id, arg_min(unique_id, created_rank) OVER (PARTITION BY id_key) AS survivor_id,
                   count(*) OVER (PARTITION BY id_key) AS k
            FROM dd_people WHERE id_key IS NOT NULL AND in_scope)
        SELECT survivor_id, unique_id AS duplicate_id FROM g WHERE k > 1 AND unique_id <> survivor_id
    """)


# --- probabilistic --------------------------------------------------------------------------------
# Two trusted, different numbers are two people (DedupPolicy): excluded from every block but the id one.
_NOT_TWO_PEOPLE = "NOT (l.id_trusted AND r.id_trusted AND l.id_key <> r.id_key)"
_BLOCKS = (
    "l.id_key = r.id_key",
    f"l.name_py = r.name_py AND l.birth_date = r.birth_date AND {_NOT_TWO_PEOPLE}",  # same or homophone name
    # one character different (孙秀英/孙秀瑛), registered again in the same or a neighbouring village
    f"l.township_id = r.township_id AND l.birth_date = r.birth_date AND l.sex = r.sex AND {_NOT_TWO_PEOPLE}",
    # a birth-date typo
    f"l.name_py = r.name_py AND l.birth_year = r.birth_year AND l.county_id = r.county_id AND {_NOT_TWO_PEOPLE}",
    f"l.phone_block = r.phone_block AND l.sex = r.sex AND {_NOT_TWO_PEOPLE}",
)


def _settings(policy: DedupPolicy, u: dict[str, tuple[float, ...]]):
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    def levels(name: str, lvls: list) -> object:
        ms, us = policy.m[name], u.get(name)
        real = [x for x in lvls if not isinstance(x, cll.NullLevel)]
        if len(ms) != len(real):
            raise ValueError(f"DEDUP.m[{name!r}] needs one value per level ({len(real)})")
        for i, level in enumerate(real):
            level.configure(m_probability=ms[i])
            if us is not None:
                level.configure(u_probability=us[i], fix_u_probability=True)
        return cl.CustomComparison(output_column_name=name, comparison_levels=lvls)

    comparisons = [
        levels("name", [
            cll.NullLevel("name_norm"),
            cll.ExactMatchLevel("name_norm", term_frequency_adjustments=True).configure(label_for_charts="姓名相同"),
            cll.ExactMatchLevel("name_py").configure(label_for_charts="姓名同音"),
            cll.CustomLevel("levenshtein(name_norm_l, name_norm_r) = 1 AND least(name_len_l, name_len_r) >= 3",
                            label_for_charts="三字以上姓名一字之差"),
            cll.CustomLevel("levenshtein(name_norm_l, name_norm_r) = 1 OR jaro_winkler_similarity(name_py_l, "
                            "name_py_r) >= 0.9", label_for_charts="两字姓名一字之差或拼音相近"),
            cll.ElseLevel(),
        ]),
        levels("birth_date", [
            cll.NullLevel("birth_str"),
            cll.ExactMatchLevel("birth_str").configure(label_for_charts="出生日期相同"),
            cll.DamerauLevenshteinLevel("birth_str", 1).configure(label_for_charts="一位数字不同或相邻颠倒"),
            cll.ElseLevel(),
        ]),
        levels("sex", [cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()]),
        levels("unit", [
            cll.NullLevel("unit_id"),
            cll.ExactMatchLevel("unit_id").configure(label_for_charts="同村"),
            cll.ExactMatchLevel("township_id").configure(label_for_charts="同乡镇"),
            cll.ExactMatchLevel("county_id").configure(label_for_charts="同县"),
            cll.ElseLevel(),
        ]),
        levels("phone", [cll.NullLevel("phone_key"), cll.ExactMatchLevel("phone_key"), cll.ElseLevel()]),
        levels("id", [cll.NullLevel("id_key"), cll.ExactMatchLevel("id_key"), cll.ElseLevel()]),
    ]
    return SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="unique_id", comparisons=comparisons,
        blocking_rules_to_generate_predictions=list(_BLOCKS), retain_matching_columns=False,
        retain_intermediate_calculation_columns=False, max_iterations=EM_MAX_ITERATIONS,
        em_convergence=1e-4)


def _probabilistic(con: duckdb.DuckDBPyConnection, n: int, policy: DedupPolicy, say: Progress,
                   em: bool | None) -> tuple[int, list[dict[str, object]], str]:
    log = logging.getLogger("splink")
    level = log.level
    log.setLevel(logging.ERROR)  # "level not observed" warnings are expected in small scopes
    try:
        return _splink(con, n, policy, say, em)
    finally:
        log.setLevel(level)


def _splink(con: duckdb.DuckDBPyConnection, n: int, policy: DedupPolicy, say: Progress,
            em: bool | None) -> tuple[int, list[dict[str, object]], str]:
    from splink import DuckDBAPI, Linker

    con.execute("CREATE VIEW dd_splink_input AS SELECT unique_id, name_norm, name_py, name_len, birth_str, "
                "birth_year, birth_date, sex, unit_id, township_id, county_id, phone_key, phone_block, id_key, "
                "id_trusted FROM dd_people")
    db = DuckDBAPI(connection=con)
    say("估计模型参数（u：频数精确计算与随机抽样；先验：确定性规则）")
    linker = Linker("dd_splink_input", _settings(policy, _exact_u(con)), db, set_up_basic_logging=False)
    linker.training.estimate_probability_two_random_records_match(
        ["l.id_key = r.id_key",
         f"l.name_norm = r.name_norm AND l.birth_date = r.birth_date AND l.sex = r.sex AND l.unit_id = r.unit_id "
         f"AND {_NOT_TWO_PEOPLE}"],
        recall=policy.deterministic_recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
    trained = "priors"
    if em if em is not None else n >= EM_MIN_RECORDS:
        say("期望最大化（EM）训练 m 参数")
        # each session leaves its blocking columns' m alone, so two sessions cover every comparison
        for rule in ("l.id_key = r.id_key", f"l.name_py = r.name_py AND l.birth_date = r.birth_date AND "
                                             f"{_NOT_TWO_PEOPLE}"):
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True)
        trained = "em"
    say("分块比较与打分")
    predicted = linker.inference.predict()
    con.execute(f"""
        CREATE TABLE dd_predicted AS
        SELECT unique_id_l AS id_l, unique_id_r AS id_r, match_probability, match_weight
        FROM {predicted.physical_name}
    """)
    compared = con.execute("SELECT count(*) FROM dd_predicted p JOIN dd_people l ON l.unique_id = p.id_l "
                           "JOIN dd_people r ON r.unique_id = p.id_r WHERE l.in_scope AND r.in_scope").fetchall()[0][0]
    parameters = _parameters(linker)
    return compared, parameters, trained


def _exact_u(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[float, ...]]:
    """u of comparisons made only of equality levels, in closed form from value counts: the share of all
    record pairs (both values present) that agree is Σ c(c−1) / (N(N−1)). A random sample of a few million
    pairs would almost never see two records share a phone or an id (u ≈ 1/N), and would guess."""
    def agree(col: str) -> str:
        return (f"(SELECT coalesce(sum(c * (c - 1)), 0)::DOUBLE FROM (SELECT count(*) AS c FROM dd_people "
                f"WHERE {col} IS NOT NULL GROUP BY {col}))")

    def present(col: str) -> str:
        return f"(SELECT count({col})::DOUBLE FROM dd_people)"

    row = con.execute(f"""SELECT {present('unique_id')}, {agree('unit_id')}, {agree('township_id')},
        {agree('county_id')}, {agree('sex')}, {present('sex')}, {agree('phone_key')}, {present('phone_key')},
        {agree('id_key')}, {present('id_key')}""").fetchall()[0]
    n, village, township, county, sex, n_sex, phone, n_phone, idk, n_id = row

    def share(x: float, m: float) -> float:
        # at least one pair's worth, so an agreement never seen among non-matches is strong, not infinite
        pairs = max(m * (m - 1), 2.0)
        return min(max(x, 1.0) / pairs, 1.0 - 1.0 / pairs)

    return {
        "unit": (share(village, n), share(township - village, n), share(county - township, n),
                 max(1.0 - share(county, n), 1.0 / max(n * (n - 1), 2.0))),
        "sex": (share(sex, n_sex), 1.0 - share(sex, n_sex)),
        "phone": (share(phone, n_phone), 1.0 - share(phone, n_phone)),
        "id": (share(idk, n_id), 1.0 - share(idk, n_id)),
    }


def _parameters(linker) -> list[dict[str, object]]:
    out = []
    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            out.append({"comparison": comparison.output_column_name, "level": level.label_for_charts,
                        "m": level.m_probability, "u": level.u_probability})
    return out


# --- outputs --------------------------------------------------------------------------------------
def _pairs(con: duckdb.DuckDBPyConnection, threshold: float) -> pa.Table:
    agree = ", ".join(f"CASE WHEN {cond} THEN '{label}' END" for label, cond in _AGREE)
    con.execute(f"""
        CREATE TABLE dd_pairs AS
        WITH cand AS (
            -- pairs sharing an id are the exact groups' star pairs below, not every pair of the group
            SELECT p.id_l AS a, p.id_r AS b, p.match_probability, p.match_weight
            FROM dd_predicted p JOIN dd_people l ON l.unique_id = p.id_l JOIN dd_people r ON r.unique_id = p.id_r
            WHERE p.match_probability >= {float(threshold)!r} AND l.id_key IS DISTINCT FROM r.id_key
              AND l.in_scope AND r.in_scope
            UNION ALL
            SELECT least(e.survivor_id, e.duplicate_id), greatest(e.survivor_id, e.duplicate_id), p.match_probability,
                   p.match_weight
            FROM dd_exact e LEFT JOIN dd_predicted p
              ON p.id_l = least(e.survivor_id, e.duplicate_id) AND p.id_r = greatest(e.survivor_id, e.duplicate_id)),
        o AS (
            SELECT c.*, l.id_key IS NOT NULL AND l.id_key = r.id_key AS exact, l.created_rank < r.created_rank AS l_first,
                   concat_ws('、', {agree}) AS agree
            FROM cand c JOIN dd_people l ON l.unique_id = c.a JOIN dd_people r ON r.unique_id = c.b)
        SELECT CASE WHEN l_first THEN a ELSE b END AS survivor_id, CASE WHEN l_first THEN b ELSE a END AS duplicate_id,
               exact, round(coalesce(match_probability, 0), 6) AS match_probability,
               round(match_weight, 3) AS match_weight, agree
        FROM o
        ORDER BY exact DESC, match_probability DESC, survivor_id, duplicate_id
    """)
    return con.sql("SELECT * FROM dd_pairs ORDER BY exact DESC, match_probability DESC, survivor_id, duplicate_id") \
        .to_arrow_table()


def _clusters(con: duckdb.DuckDBPyConnection, pairs: pa.Table) -> pa.Table:
    """Connected components of the pairs: minimum-label propagation over the edge arrays (NumPy), a few
    passes for the small components duplicates form."""
    if pairs.num_rows == 0:
        con.execute("CREATE TABLE dd_clusters (resident_id BIGINT, cluster_id BIGINT)")
    else:
        a = pairs.column("survivor_id").to_numpy()
        b = pairs.column("duplicate_id").to_numpy()
        nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
        ea, eb = inv[: len(a)], inv[len(a):]
        label = np.arange(len(nodes))
        while True:
            m = np.minimum(label[ea], label[eb])
            new = label.copy()
            np.minimum.at(new, ea, m)
            np.minimum.at(new, eb, m)
            new = new[new]  # pointer jumping: follow labels to their own labels
            if np.array_equal(new, label):
                break
            label = new
        con.register("dd_cl_arrow", pa.table({"resident_id": pa.array(nodes), "cluster_node": pa.array(nodes[label])}))
        con.execute("CREATE TABLE dd_clusters AS SELECT resident_id, cluster_node AS cluster_id FROM dd_cl_arrow")
        con.unregister("dd_cl_arrow")
    con.execute("""
        CREATE TABLE dd_cluster_out AS
        WITH c AS (
            SELECT c.resident_id, p.record_no, c.cluster_id AS node,
                   count(*) OVER (PARTITION BY c.cluster_id) AS cluster_size,
                   arg_min(p.record_no, p.created_rank) OVER (PARTITION BY c.cluster_id) AS survivor,
                   min(p.record_no) OVER (PARTITION BY c.cluster_id) AS first_record
            FROM dd_clusters c JOIN dd_people p ON p.unique_id = c.resident_id)
        -- clusters numbered 1, 2, … by their smallest record number, so the numbering is stable
        SELECT resident_id, record_no, dense_rank() OVER (ORDER BY first_record) AS cluster_id, cluster_size, survivor
        FROM c
    """)
    return con.sql("SELECT * FROM dd_cluster_out ORDER BY cluster_id, record_no").to_arrow_table()


def _queue(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """One row per pair for a reviewer. The merge command keeps the pair's earlier-created record; in a
    cluster of three or more, a record already merged cannot survive another merge (``gongwei merge`` says
    so), and the cluster's own survivor is in ``clusters``."""
    return con.sql("""
        SELECT row_number() OVER (ORDER BY q.exact DESC, q.match_probability DESC, s.record_no, d.record_no) AS rank,
               CASE WHEN q.exact THEN '精确' ELSE '概率' END AS kind, q.match_probability,
               s.record_no AS survivor, d.record_no AS duplicate, s.name AS survivor_name, d.name AS duplicate_name,
               s.birth_date AS survivor_birth_date, d.birth_date AS duplicate_birth_date,
               s.sex AS survivor_sex, d.sex AS duplicate_sex,
               su.unit_name AS survivor_unit, du.unit_name AS duplicate_unit,
               q.agree, c.cluster_id, c.cluster_size,
               'gongwei merge ' || s.record_no || ' ' || d.record_no || ' --reason 重复档案' AS merge_command
        FROM dd_pairs q
        JOIN dd_people s ON s.unique_id = q.survivor_id JOIN dd_people d ON d.unique_id = q.duplicate_id
        JOIN dd_units su ON su.unit_id = s.unit_id JOIN dd_units du ON du.unit_id = d.unit_id
        JOIN dd_cluster_out c ON c.resident_id = q.survivor_id
        ORDER BY rank
    """).to_arrow_table()
