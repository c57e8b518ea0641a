"""Evaluation rounds (service.evaluation): created on a frozen snapshot, scored from STORED results, manual entries
with history, publication lock, scope, reproducibility; and the two attachments (reports.evaluation)."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest
from openpyxl import load_workbook

from gongwei.evaluation import models as em
from gongwei.service import access, results
from gongwei.service import evaluation as sev
from gongwei.service.errors import BadRequest, NotReady, Refused
from gongwei.spec import evaluation as se
from gongwei.spec.evaluation import Item, Method, Scheme
from gongwei.spec.periods import parse
from gongwei.spec.rules import Source
from tests.web_fixtures import FORMULA_NAME, make_dashboard_region

SRC = Source("test scheme [U]", "U")
COUNTY, PUTING, GAOTANG = "360426000000", "360426100000", "360426200000"

TEST_SCHEME = Scheme("t-2025", "测试考核方案", 2025, 100, source=SRC, items=(
    Item("A", "组织管理", 10, source=SRC, children=(Item("A1", "培训督导", 10, method=Method.MANUAL, source=SRC),)),
    Item("B", "项目执行", 60, source=SRC, children=(
        Item("B1", "高血压规范管理", 30, method=Method.PROPORTIONAL_TO_TARGET, indicator="H2", target=0.8, source=SRC),
        Item("B2", "血压控制", 20, method=Method.FULL_AT_TARGET, indicator="H3", target=0.5, source=SRC),
        Item("B3", "高血压管理率", 10, method=Method.PROPORTIONAL_TO_TARGET, indicator="H1", source=SRC),
    )),
    Item("C", "服务质量", 20, source=SRC, children=(
        Item("C1", "用药情况填写不规范", 10, method=Method.DEDUCT_PER_FINDING, rules=("C-06",), per_finding=1,
             source=SRC),
        Item("C2", "现场核查问题", 10, method=Method.DEDUCT_PER_FINDING, per_finding=2, floor=1, source=SRC),
    )),
    Item("D", "档案公开", 10, source=SRC, children=(Item("D1", "是否公开", 10, method=Method.YES_NO, source=SRC),)),
))


@pytest.fixture
def scheme(monkeypatch):
    monkeypatch.setattr(se, "SCHEMES", (*se.SCHEMES, TEST_SCHEME))
    se.schemes.cache_clear()
    yield TEST_SCHEME
    se.schemes.cache_clear()


@pytest.fixture
def region(db, fast_passwords, scheme):
    made = make_dashboard_region(periods=("2025",))
    from gongwei.service import snapshots

    eng = snapshots.engine(made["snapshot"].folder)
    results.qc_tally(eng, parse("2025"), ["C-06"])  # what the nightly job stores for the current year
    return made


def ev_actor(made):
    return access.for_user(made["users"]["ev"])


def enter_all(actor, rnd):
    for org in (PUTING, GAOTANG):
        sev.set_manual(actor, rnd.pk, org, "A1", 8, "培训记录齐全，督导记录缺一次")
        sev.set_manual(actor, rnd.pk, org, "C2", 1 if org == PUTING else 0, "入户核查")
        sev.set_manual(actor, rnd.pk, org, "D1", 1, "已在网站公开")


def test_a_round_scores_every_township_from_stored_results(region):
    ev = ev_actor(region)
    rnd = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY)
    assert (rnd.period, rnd.level, rnd.snapshot_id) == ("2025", "township", region["snapshot"].id)
    enter_all(ev, rnd)
    out = sev.score_round(ev, rnd.pk)
    assert out.units == 2 and out.pending == 0
    report = sev.round_report(ev, rnd.pk)
    by_code = {r.code: r for r in report.rows}
    stored = results.stored_indicators(rnd.snapshot_id, parse("2025"))
    for code, row in by_code.items():
        b1 = row.items["B1"]
        ev_ = b1.evidence
        assert ev_["indicator"] == "H2" and ev_["drill"]["gaps"] == {"indicator": "H2", "org": code, "period": "2025"}
        figures = stored.filter(pc.and_(pc.equal(stored.column("indicator"), "H2"),
                                        pc.equal(stored.column("org_unit_id"), row.score.org_unit_id))).to_pylist()[0]
        assert (ev_["numerator"], ev_["denominator"]) == (figures["numerator"], figures["denominator"])
        if figures["denominator"]:
            rate = figures["numerator"] / figures["denominator"]
            assert b1.points == pytest.approx(round(min(rate / 0.8, 1) * 30, 4))
        else:
            assert b1.status == "no_denominator" and "合理缺项" in b1.reason
        # B3 has no target in the scheme: the catalogue's national H1 target (30 %) applies
        assert row.items["B3"].evidence["target"] == pytest.approx(0.3)
        assert row.items["A1"].points == 8 and row.items["D1"].points == 10
        leaves = [i for i in TEST_SCHEME.leaves() if row.items[i.code].status == "scored"]
        got, possible = sum(row.items[i.code].points for i in leaves), sum(i.points for i in leaves)
        assert row.score.score == pytest.approx(round(got / possible * 100, 2))
        assert row.items["B"].points == pytest.approx(sum(row.items[c].points for c in ("B1", "B2", "B3")
                                                          if row.items[c].status == "scored"))
    # one verified problem at 蒲亭 costs 2 points; none at 高塘
    assert by_code[PUTING].items["C2"].points == 8 and by_code[GAOTANG].items["C2"].points == 10
    assert "核实问题 1 个，扣 2 分" in by_code[PUTING].items["C2"].reason
    assert [r.score.rank for r in report.rows] == sorted(r.score.rank for r in report.rows)


def test_rescoring_a_draft_on_the_same_snapshot_is_reproducible(region):
    ev = ev_actor(region)
    rnd = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY)
    enter_all(ev, rnd)
    sev.score_round(ev, rnd.pk)
    sev.score_round(ev, rnd.pk)

    def run(n):
        return sorted((s.org_unit_id, s.item, s.points, s.max_points, s.status, s.reason, s.evidence)
                      for s in em.ItemScore.objects.filter(round=rnd, run=n))

    def units(n):
        return sorted((s.org_unit_id, s.score, s.rank, s.funds_ratio)
                      for s in em.UnitScore.objects.filter(round=rnd, run=n))

    assert run(1) == run(2) and units(1) == units(2)
    assert em.Round.objects.get(pk=rnd.pk).run == 2


def test_funds_ratio_and_veto_follow_the_score(region):
    ev = ev_actor(region)
    rnd = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY)
    enter_all(ev, rnd)
    sev.set_manual(ev, rnd.pk, PUTING, sev.VETO, 1, "核查发现编造随访记录")
    sev.score_round(ev, rnd.pk)
    rows = {r.code: r.score for r in sev.round_report(ev, rnd.pk).rows}
    assert rows[PUTING].vetoed and rows[PUTING].funds_ratio == 0 and "一票否决" in rows[PUTING].funds_note
    assert "核查发现编造随访记录" in rows[PUTING].funds_note
    assert rows[PUTING].rank == 2  # a vetoed unit ranks last
    from gongwei.spec import funds

    assert rows[GAOTANG].funds_ratio == funds.funds_ratio(rows[GAOTANG].score)[0]


def test_not_stored_results_are_not_ready_naming_the_job(region, scheme, monkeypatch):
    ev = ev_actor(region)
    rnd = sev.create_round(ev, "t-2025", 2025, "mid_year", COUNTY)  # 2025-06-30: nothing stored for it
    with pytest.raises(NotReady, match=r"gongwei indicators --org 360426000000 --period 2025-06-30"):
        sev.score_round(ev, rnd.pk)


def test_manual_entries_are_checked_and_keep_their_history(region):
    ev = ev_actor(region)
    rnd = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY)
    with pytest.raises(BadRequest, match=r"项目 A1（培训督导）的评分 12 超出范围（0–10）"):
        sev.set_manual(ev, rnd.pk, PUTING, "A1", 12, "太多")
    with pytest.raises(BadRequest, match=r"不是人工评分项"):
        sev.set_manual(ev, rnd.pk, PUTING, "B1", 5, "x")
    with pytest.raises(BadRequest, match=r"须填写评分说明"):
        sev.set_manual(ev, rnd.pk, PUTING, "A1", 5, " ")
    with pytest.raises(BadRequest, match=r"不是考核轮次 .* 的被考核单位"):
        sev.set_manual(ev, rnd.pk, "360426100201", "A1", 5, "村")
    sev.set_manual(ev, rnd.pk, PUTING, "A1", 6, "初评")
    with pytest.raises(BadRequest, match=r"修改须说明原因"):
        sev.set_manual(ev, rnd.pk, PUTING, "A1", 7, "复评")
    sev.set_manual(ev, rnd.pk, PUTING, "A1", 7, "复评", reason="补交了培训签到表")
    history = sev.manual_history(ev, rnd.pk, PUTING, "A1")
    assert [(h.value, h.superseded_by_id is None) for h in history] == [(6, False), (7, True)]
    assert history[1].reason == "补交了培训签到表"


def test_only_evaluators_score_and_a_unit_sees_only_its_own(region):
    ev = ev_actor(region)
    sup = access.for_user(region["users"]["sup"])
    with pytest.raises(Refused, match="绩效评价员"):
        sev.create_round(sup, "t-2025", 2025, "year_end", COUNTY)
    rnd = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY)
    with pytest.raises(Refused, match="绩效评价员"):
        sev.set_manual(sup, rnd.pk, PUTING, "A1", 5, "x")
    enter_all(ev, rnd)
    sev.score_round(ev, rnd.pk)
    township = access.for_user(region["users"]["ta"])  # 蒲亭镇卫生院
    assert [r.code for r in sev.round_report(township, rnd.pk).rows] == [PUTING]
    assert len(sev.round_report(ev, rnd.pk).rows) == 2
    village = access.for_user(region["users"]["vd"])  # 北门村: not a scored unit, none of the round's scores
    with pytest.raises(Refused):
        sev.round_report(village, rnd.pk)


def test_publish_locks_the_round_and_a_correction_says_what_changed(region):
    ev = ev_actor(region)
    rnd = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY)
    sev.score_round(ev, rnd.pk)
    with pytest.raises(BadRequest, match="人工评分项未录入"):
        sev.publish(ev, rnd.pk)
    enter_all(ev, rnd)
    with pytest.raises(BadRequest, match="请重新评分后再发布"):
        sev.publish(ev, rnd.pk)
    sev.score_round(ev, rnd.pk)
    sev.publish(ev, rnd.pk)
    for attempt in (lambda: sev.score_round(ev, rnd.pk),
                    lambda: sev.set_manual(ev, rnd.pk, PUTING, "A1", 9, "改", reason="r"),
                    lambda: sev.publish(ev, rnd.pk)):
        with pytest.raises(Refused, match="已发布的考核轮次不能修改，请新建一轮更正"):
            attempt()
    with pytest.raises(BadRequest, match="写明更正了什么"):
        sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY, corrects=rnd.pk)
    fixed = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY, corrects=rnd.pk, note="蒲亭镇A1复核后改为9分")
    assert fixed.corrects_id == rnd.pk and fixed.status == "draft"


def test_bad_input_is_refused_in_chinese(region):
    ev = ev_actor(region)
    with pytest.raises(BadRequest, match="考核方案 nope 不存在"):
        sev.create_round(ev, "nope", 2025, "year_end", COUNTY)
    with pytest.raises(BadRequest, match="考核类型“monthly”无效"):
        sev.create_round(ev, "t-2025", 2025, "monthly", COUNTY)
    with pytest.raises(BadRequest, match="季度考核须指定统计期间"):
        sev.create_round(ev, "t-2025", 2025, "quarterly", COUNTY)
    with pytest.raises(BadRequest, match="不在考核年度 2025 内"):
        sev.create_round(ev, "t-2025", 2025, "quarterly", COUNTY, period="2024Q4")
    with pytest.raises(Refused):
        sev.create_round(ev, "t-2025", 2025, "year_end", "360000000000")  # the province is above the evaluator


def test_the_two_attachments_as_xlsx(region, tmp_path):
    from gongwei.reports import evaluation as report

    ev = ev_actor(region)
    rnd = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY)
    enter_all(ev, rnd)
    sev.set_manual(ev, rnd.pk, GAOTANG, "A1", 5, "=HYPERLINK(\"http://x\")", reason="公式样的说明须保持为文本")
    sev.score_round(ev, rnd.pk)
    out = report.round_xlsx(sev.round_report(ev, rnd.pk), tmp_path / "round.xlsx")
    wb = load_workbook(out)
    table, problems = wb["绩效评价情况表"], wb["各单位问题列表"]
    header = [c.value for c in table[3]]
    assert header[:3] == ["名次", "单位代码", "单位"] and "总分" in header and "资金拨付比例" in header
    assert {table.cell(r, 2).value for r in range(4, table.max_row + 1)} == {PUTING, GAOTANG}
    texts = [[c.value for c in row] for row in problems.iter_rows(min_row=3)]
    assert any(r[0] == PUTING and r[2] == "C2" for r in texts)
    cell = next(c for row in problems.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s"
    assert FORMULA_NAME not in "".join(str(c.value) for row in problems.iter_rows() for c in row)


def test_the_shipped_district_scheme_scores_a_region_from_its_stored_results(db, fast_passwords, tmp_path):
    """district-2023 on the small region: every indicator and QC rule it names stored for 2025 (as the nightly job
    stores them), the manual items entered, both attachments written."""
    from gongwei.reports import evaluation as report
    from gongwei.service import snapshots
    from tests.web_fixtures import make_region

    district = se.scheme("district-2023")
    codes = sorted({i.indicator for i in district.leaves() if i.indicator})
    rules = sorted({r for i in district.leaves() for r in i.rules})
    made = make_region(periods=("2025",), codes=codes)
    results.qc_tally(snapshots.engine(made["snapshot"].folder), parse("2025"), rules)
    ev = ev_actor(made)
    rnd = sev.create_round(ev, "district-2023", 2025, "year_end", COUNTY)
    first = sev.score_round(ev, rnd.pk)
    manual = [i for i in district.leaves() if i.manual]
    assert first.pending == 2 * len(manual)
    for org in (PUTING, GAOTANG):
        for item in manual:
            value = 0 if item.method is Method.DEDUCT_PER_FINDING else item.points - 1
            sev.set_manual(ev, rnd.pk, org, item.code, value, "现场评价", file="评价记录.pdf")
    sev.score_round(ev, rnd.pk)
    got = sev.round_report(ev, rnd.pk)
    assert len(got.rows) == 2 and all(0 <= r.score.score <= 100 for r in got.rows)
    assert all(r.score.pending == 0 for r in got.rows)
    problems = got.lost()
    assert problems and all(s.reason for _, _, s in problems)
    wb = load_workbook(report.round_xlsx(got, tmp_path / "district.xlsx"))
    assert wb["绩效评价情况表"].cell(1, 1).value.startswith("德安县 2025年年终考核（2023年基本公共卫生服务项目")
    assert wb["各单位问题列表"].max_row >= 3 + len(problems) - 1
