"""Base data per unit and date (基础数据, issue 13 §5): entry by the responsible level, bounds refused naming the
field, history kept, the XLSX template imported all or nothing, the roll-up with its change since last period."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from gongwei.records import roles
from gongwei.service import access, base_data
from gongwei.service.errors import BadRequest, Refused
from gongwei.supervision.models import BaseDataValue
from tests.test_admin import build_small_region

pytestmark = pytest.mark.django_db

COUNTY, PUTING, LINQUAN = "360426000000", "360426100000", "360426200000"
PUTING_VILLAGE, LINQUAN_VILLAGE = "360426100201", "360426200201"


@pytest.fixture
def region(fast_passwords):
    roles.ensure_groups()
    return build_small_region()


def login(name: str) -> access.Actor:
    return access.operator(name)


def city_report_shape(op):
    """Two periods shaped like the city report's figures [city-rectification-2023]: 4129 then 4134 vacancies of 11 924 posts."""
    base_data.record(op, PUTING, "2023-10-31", {"establishment": "8000", "vacancies": "2800"}, source="编办核定文件")
    base_data.record(op, LINQUAN, "2023-10-31", {"establishment": "3924", "vacancies": "1329"}, source="编办核定文件")
    # the next period only 蒲亭 reports: its establishment is not re-entered and still counts
    base_data.record(op, PUTING, "2023-11-08", {"vacancies": "2805"}, source="县卫健局统计表")


def test_vacancy_rate_rolls_up_with_the_change_since_last_period(region):
    op = access.operator()
    city_report_shape(op)
    report = base_data.base_data_by_unit(op, COUNTY)
    # the latest date entered is the report date, the one before it the previous period
    assert str(report.as_of) == "2023-11-08" and str(report.previous_as_of) == "2023-10-31"
    county = report.unit.cells
    # establishment 8000 + 3924 = 11 924; vacancies 2805 + 1329 = 4134 now, 2800 + 1329 = 4129 before
    assert county["establishment"].value == 11924 and county["vacancies"].value == 4134
    assert county["vacancies"].change_text == "增加5个"
    # 空编率 4134 / 11924 = 0.346696 → 34.67 %; before 4129 / 11924 = 0.346276 → 34.63 %;
    # change 5 / 11924 = 0.000419 → 0.04 percentage points, written as the bureau writes it
    assert county["vacancy_rate"].text == "34.67%"
    assert county["vacancy_rate"].change_text == "上升0.04％"
    rows = {r.code: r.cells for r in report.rows}
    assert [r.code for r in report.rows] == [COUNTY, PUTING, LINQUAN]
    assert rows[PUTING]["vacancy_rate"].text == "35.06%"  # 2805 / 8000 = 0.350625
    assert rows[LINQUAN]["vacancy_rate"].change_text == "持平"  # 1329 / 3924 both times
    assert report.sources == ["县卫健局统计表", "编办核定文件"]
    # as of the first date there is no earlier period: no change is claimed
    first = base_data.base_data_by_unit(op, COUNTY, "2023-10-31")
    assert first.unit.cells["vacancies"].value == 4129 and first.unit.cells["vacancy_rate"].change_text == ""


def test_a_vacancy_larger_than_the_establishment_is_refused_naming_the_fields(region):
    op = access.operator()
    city_report_shape(op)
    before = BaseDataValue.objects.count()
    with pytest.raises(BadRequest, match=r"缺编数 4000 大于编制数 3924：缺编数不能超过编制数"):
        base_data.record(op, LINQUAN, "2023-12-01", {"vacancies": "4000", "fd_teams": "3"}, source="统计表")
    with pytest.raises(BadRequest, match=r"缺编数 11 大于编制数 10"):  # both in the same entry
        base_data.record(op, LINQUAN_VILLAGE, "2023-12-01", {"establishment": "10", "vacancies": "11"}, source="表")
    with pytest.raises(BadRequest, match="已培训人数 30 大于应培训人数 20"):
        base_data.record(op, PUTING, "2023-12-01", {"training_due": "20", "training_trained": "30"}, source="表")
    with pytest.raises(BadRequest, match="来源不能为空"):
        base_data.record(op, PUTING, "2023-12-01", {"fd_teams": "3"}, source=" ")
    with pytest.raises(BadRequest, match="家庭医生团队数“-1”无效"):
        base_data.record(op, PUTING, "2023-12-01", {"fd_teams": "-1"}, source="表")
    with pytest.raises(BadRequest, match="服务能力标准“优秀”无效"):
        base_data.record(op, PUTING, "2023-12-01", {"capability_grade": "优秀"}, source="表")
    with pytest.raises(BadRequest, match="编制数按乡镇（街道）、村（社区）填报，德安县（360426000000）是县（区）"):
        base_data.record(op, COUNTY, "2023-12-01", {"establishment": "5"}, source="表")
    assert BaseDataValue.objects.count() == before  # nothing half-written (fd_teams=3 went with the refusal)


def test_entry_belongs_to_the_responsible_level_in_its_scope(region):
    # the township administrator reports its own staffing, not the other township's
    assert base_data.record(login("ta"), PUTING, "2024-01-01", {"establishment": "40"}, source="乡镇报表") == 1
    with pytest.raises(Refused, match="不在您的权限范围内"):
        base_data.record(login("ta"), LINQUAN, "2024-01-01", {"establishment": "40"}, source="乡镇报表")
    # a township may not certify special-outpatient coverage (the county does), nor a village doctor anything
    with pytest.raises(Refused, match="门诊特殊病种已开通由县（区）及以上填报"):
        base_data.record(login("ta"), PUTING, "2024-01-01", {"special_outpatient": "是"}, source="医保局")
    with pytest.raises(Refused, match="只有乡镇管理员、县市督导员和系统管理员"):
        base_data.record(login("vd"), PUTING_VILLAGE, "2024-01-01", {"fd_teams": "1"}, source="表")
    # the policy status of a county is recorded by the city bureau: the county's supervisor may not
    with pytest.raises(Refused, match="由市及以上填报"):
        base_data.record(login("sup"), COUNTY, "2024-01-01", {"policy_status": "implemented"}, source="自评")
    assert base_data.record(login("sa"), COUNTY, "2024-01-01", {"policy_status": "自评落实（待省审核）"},
                            source="市卫健局审核") == 1
    assert base_data.record(login("sup"), PUTING, "2024-01-01", {"special_outpatient": "是"}, source="医保局") == 1


def test_history_is_kept_and_the_latest_entry_wins(region):
    op = access.operator()
    base_data.record(op, PUTING, "2024-06-30", {"fd_doctors": "12"}, source="第一次填报")
    base_data.record(op, PUTING, "2024-06-30", {"fd_doctors": "13"}, source="更正")
    assert base_data.base_data_by_unit(op, PUTING).unit.cells["fd_doctors"].value == 13
    assert [(v.number, v.source) for v in base_data.history(op, PUTING)] == [(13, "更正"), (12, "第一次填报")]


def test_institution_counts_and_grades_roll_up_as_institutions(region):
    op = access.operator()
    # three institutions of the county report; two have special outpatient services (the city report: 143 of 149)
    for code, flag, grade in ((PUTING, "是", "推荐标准"), (PUTING_VILLAGE, "否", "basic"), (LINQUAN, "1", "basic")):
        base_data.record(op, code, "2024-06-30", {"special_outpatient": flag, "capability_grade": grade}, source="表")
    base_data.record(op, COUNTY, "2024-06-30", {"policy_status": "not"}, source="市卫健局")
    county = base_data.base_data_by_unit(op, COUNTY).unit.cells
    assert (county["special_outpatient"].value, county["special_outpatient"].of) == (2, 3)
    assert county["special_outpatient"].text == "3家中2家"
    assert county["capability_grade"].counts == {"recommended": 1, "basic": 2, "qualified": 0, "none": 0}
    assert county["capability_grade"].text == "推荐标准1；基本标准2"
    assert county["policy_status"].text == "尚未落实1"
    puting = base_data.base_data_by_unit(op, PUTING).unit.cells
    assert (puting["special_outpatient"].value, puting["special_outpatient"].of) == (1, 2)  # itself and 城东村


def write_filled(path, rows):
    base_data.write_template(path)
    wb = load_workbook(path)
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def test_xlsx_import_is_all_or_nothing(region, tmp_path):
    op = access.operator()
    template = base_data.write_template(tmp_path / "t.xlsx")
    header = [c.value for c in load_workbook(template).active[1]]
    assert header[:5] == ["机构代码", "截至日期", "来源", "编制数", "缺编数"]
    # row 3 has more vacancies than posts: the whole file is refused, naming the row, and nothing is written
    bad = write_filled(tmp_path / "bad.xlsx", [
        [PUTING, "2024-06-30", "编办", 50, 10],
        [LINQUAN, "2024-06-30", "编办", 30, 31],
    ])
    with pytest.raises(BadRequest, match="第3行：缺编数 31 大于编制数 30"):
        base_data.import_xlsx(op, bad)
    assert not BaseDataValue.objects.exists()
    wrong = tmp_path / "wrong.xlsx"
    wrong.write_bytes(b"name,value\n")
    with pytest.raises(BadRequest, match="文件无法读取"):
        base_data.import_xlsx(op, wrong)
    # a township administrator's file naming the other township is refused as a whole
    good_rows = [[PUTING, "2024-06-30", "编办", 50, 10], [LINQUAN, "2024-06-30", "编办", 30, 12]]
    with pytest.raises(Refused, match="第3行"):
        base_data.import_xlsx(login("ta"), write_filled(tmp_path / "ta.xlsx", good_rows))
    assert not BaseDataValue.objects.exists()
    assert base_data.import_xlsx(op, write_filled(tmp_path / "good.xlsx", good_rows)) == 4
    county = base_data.base_data_by_unit(op, COUNTY).unit.cells
    # (10 + 12) / (50 + 30) = 22 / 80 = 0.275
    assert county["vacancy_rate"].text == "27.50%"
    assert len(set(BaseDataValue.objects.values_list("batch", flat=True))) == 1
