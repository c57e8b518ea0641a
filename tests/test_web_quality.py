"""Data-quality pages: the stored QC scorecard, the rectification ledger with bulk actions (separation of duties,
all or nothing, scope), the duplicate review queue (masked, decisions that persist, reversible merges) and
closing records from an uploaded list with a preview.

The region is the shared small region (tests/web_fixtures.py) plus one duplicate record: 居民00 of 北门村
registered a second time in 南门村 with the same identity number. The operator runs the QC rules for 2024 and
2025 (the rules that fire on this region: C-01 missing fields, C-04 follow-up fields, T-05 too few
follow-ups) and stores the duplicate queue, as the nightly job would.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from gongwei.quality.models import Finding, FindingStatus, Merge, PairReview
from gongwei.records import models as rm
from tests.shared_data import shared_data
from tests.test_admin import _table, id_number
from tests.web_fixtures import (
    COUNTY,
    OTHER_TOWNSHIP,
    TOWNSHIP,
    VILLAGE,
    browser_as,
    client_for,
    make_region,
    screenshot_path,
)

RULES = "C-01,C-04,T-05"
ORIGINAL = "36042610020100001"  # 居民00, 北门村 (vd's village, ts's township)
DUPLICATE = "36042610020200009"  # the same person again, 南门村
SOUTH_VILLAGE = "360426100202"


def build_quality_region() -> dict:
    from gongwei.records import entry
    from gongwei.service import access, ledger, quality, snapshots

    made = make_region()
    entry.submit({
        "residents": _table([dict(record_no=DUPLICATE, name="居民00", sex="1", birth_date="1950-01-10", id_type="01",
                                  id_number=id_number("360426", "1950-01-10", "001"), phone="13800000034",
                                  managing_unit=SOUTH_VILLAGE, residence_type="1", address="南门村3号")]),
        "health_records": _table([dict(resident=DUPLICATE, created_on="2024-06-01", created_by_unit=SOUTH_VILLAGE,
                                       contact_name="联系人", contact_phone="13700000999")]),
    }, actor="test", kind="synth")
    made["snapshot"] = snapshots.take()
    operator = access.operator()
    # 2025 first: the ledger keys a finding by rule and record, not period, so a later evaluation that no longer
    # finds a hit (no C-04 in 2025: no follow-ups that year) would mark the 2024 hits rectified by the data
    for period in ("2025", "2024"):
        quality.evaluate_findings(operator, period, rules=RULES)
    ledger.store_duplicates(operator, COUNTY)
    return made


@shared_data
def quality_region():
    """Built once for the module; each test starts from it as built (tests/shared_data.py)."""
    return build_quality_region()


@pytest.fixture
def live_quality_region(transactional_db, fast_passwords):
    return build_quality_region()


def ids_of(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'name="finding" value="(\d+)"', html)]


def findings_in(path_prefix_code: str, **kw):
    unit = rm.OrgUnit.objects.get(code=path_prefix_code)
    return Finding.objects.filter(org_unit__path__startswith=unit.path, **kw)


# --- scorecard -------------------------------------------------------------------------------------------------
def test_scorecard_reads_the_stored_tally_with_change_rank_and_where_problems_cluster(quality_region):
    html = client_for("sup").get(f"/unit/{COUNTY}/quality/?period=2025").content.decode()
    assert "德安县 数据质量记分卡" in html
    assert "期间 2025，对比 2024" in html and quality_region["snapshot"].id in html  # the time of the data
    assert "质控结果计算于" in html
    # 2025 has no C-04 findings (no follow-ups that year): 25 findings against 37 in 2024
    assert re.search(r"问题 <strong>25</strong> 个", html) and "较上期减少 12" in html
    rows = re.findall(r'<a href="/unit/(\d+)/quality/\?period=2025">([^<]+)</a>', html)
    assert [name for _, name in rows] == ["蒲亭镇", "高塘乡"]
    assert "1/2" in html  # rank among the two townships
    # clusters named as a progress bulletin names them: township then village (静宁县雷大镇屈岔村)
    assert "主要集中在乡镇：蒲亭镇（6 个）、高塘乡（6 个）；村（社区）：蒲亭镇北门村（3 个）" in html
    assert "个人基本信息表缺项" in html


def test_scorecard_defaults_to_the_newest_stored_period_and_says_when_nothing_is_stored(quality_region):
    c = client_for("ts")
    html = c.get(f"/unit/{TOWNSHIP}/quality/").content.decode()
    assert "期间 2025，对比 2024" in html
    assert "北门村" in html and "高塘" not in html  # the township's own villages only
    missing = c.get(f"/unit/{TOWNSHIP}/quality/?period=2023")
    assert missing.status_code == 409 and "2023 质控结果尚未计算" in missing.content.decode()
    bad = c.get(f"/unit/{TOWNSHIP}/quality/?period=20x5")
    assert bad.status_code == 400 and "期间“20x5”无效" in bad.content.decode()


# --- scope of every page -----------------------------------------------------------------------------------------
PAGES = ["quality", "findings", "duplicates", "close"]


def test_each_page_refuses_another_township_and_an_unknown_unit(quality_region):
    c = client_for("vd2")  # 高塘村: outside 蒲亭镇
    for page in PAGES:
        refused = c.get(f"/unit/{TOWNSHIP}/{page}/")
        assert refused.status_code == 403 and "不在您的权限范围内" in refused.content.decode(), page
        missing = c.get(f"/unit/999999999999/{page}/")
        assert missing.status_code == 404 and "机构代码 999999999999 不存在" in missing.content.decode(), page
        assert c.get(f"/unit/360426200201/{page}/").status_code == 200, page


# --- the rectification ledger --------------------------------------------------------------------------------------
def test_findings_list_is_scoped_filtered_and_audited(quality_region):
    c = client_for("ts")
    html = c.get(f"/unit/{TOWNSHIP}/findings/?status=&period=2024").content.decode()
    shown = ids_of(html)
    own = set(findings_in(TOWNSHIP, period="2025").values_list("pk", flat=True))  # 2024 findings recur in 2025
    assert shown and set(shown) <= own | set(findings_in(TOWNSHIP).values_list("pk", flat=True))
    assert "高塘" not in html.split('id="findings"')[1]
    log = rm.AccessLog.objects.filter(user__username="ts", kind="findings").latest("at")
    assert log.count == len({Finding.objects.get(pk=i).resident_id for i in shown}) and log.scope == TOWNSHIP
    only = c.get(f"/unit/{TOWNSHIP}/findings/?rule=C-01&status=").content.decode()
    assert set(Finding.objects.filter(pk__in=ids_of(only)).values_list("rule", flat=True)) == {"C-01"}
    village = c.get(f"/unit/{TOWNSHIP}/findings/?unit={VILLAGE}&status=").content.decode()
    assert set(Finding.objects.filter(pk__in=ids_of(village)).values_list("org_unit__code", flat=True)) == {VILLAGE}
    assert c.get(f"/unit/{TOWNSHIP}/findings/?unit={OTHER_TOWNSHIP}").status_code == 403
    assert c.get(f"/unit/{TOWNSHIP}/findings/?status=done").status_code == 400


def test_rectify_then_verify_with_separation_of_duties(quality_region):
    ts, sup = client_for("ts"), client_for("sup")
    chosen = list(findings_in(VILLAGE, rule="C-04").values_list("pk", flat=True))
    assert len(chosen) == 3
    done = ts.post(f"/unit/{TOWNSHIP}/findings/", {"finding": chosen, "action": "rectify"}, follow=True)
    assert "已标记已整改 3 个质控问题" in done.content.decode()
    assert set(Finding.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {FindingStatus.RECTIFIED}
    # the one who marked it rectified cannot verify it: refused for each item, nothing changed
    own = ts.post(f"/unit/{TOWNSHIP}/findings/", {"finding": chosen, "action": "verify"})
    text = own.content.decode()
    assert own.status_code == 403 and text.count("不能核实自己的整改") == 3 and "全部未更改" in text
    assert set(Finding.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {FindingStatus.RECTIFIED}
    # a village doctor is not above the village responsible for it
    vd = client_for("vd").post(f"/unit/{VILLAGE}/findings/", {"finding": chosen, "action": "verify"})
    assert vd.status_code == 403 and "只有北门村卫生室的上级单位人员可以核实其整改" in vd.content.decode()
    ok = sup.post(f"/unit/{COUNTY}/findings/?status=rectified", {"finding": chosen, "action": "verify"}, follow=True)
    assert "已核实 3 个质控问题" in ok.content.decode()
    assert set(Finding.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {FindingStatus.VERIFIED}
    last = Finding.objects.get(pk=chosen[0]).transitions.last()
    assert last.actor.username == "sup" and last.to_status == FindingStatus.VERIFIED


def test_a_batch_with_one_refused_item_changes_nothing(quality_region):
    ts = client_for("ts")
    own = list(findings_in(VILLAGE, rule="C-01").values_list("pk", flat=True))
    other = findings_in(OTHER_TOWNSHIP).first()
    response = ts.post(f"/unit/{TOWNSHIP}/findings/", {"finding": [*own, other.pk], "action": "rectify"})
    text = response.content.decode()
    assert response.status_code == 403 and f"问题 #{other.pk}（{other.rule} {other.record_no}）：不在您的权限范围内" in text
    assert not Finding.objects.filter(pk__in=[*own, other.pk]).exclude(status=FindingStatus.OPEN).exists()
    assert not Finding.objects.get(pk=own[0]).transitions.exists()


def test_dismiss_needs_a_reason_and_assign_stays_in_scope(quality_region):
    ts = client_for("ts")
    chosen = list(findings_in(VILLAGE, rule="T-05").values_list("pk", flat=True))
    no_reason = ts.post(f"/unit/{TOWNSHIP}/findings/", {"finding": chosen, "action": "dismiss", "reason": "  "})
    assert no_reason.status_code == 400 and "排除质控问题必须填写原因" in no_reason.content.decode()
    ts.post(f"/unit/{TOWNSHIP}/findings/", {"finding": chosen[:1], "action": "dismiss", "reason": "已随访，纸质记录待补录"})
    f = Finding.objects.get(pk=chosen[0])
    assert f.status == FindingStatus.DISMISSED and f.transitions.last().reason == "已随访，纸质记录待补录"
    outside = ts.post(f"/unit/{TOWNSHIP}/findings/", {"finding": chosen[1:], "action": "assign", "unit": OTHER_TOWNSHIP})
    assert outside.status_code == 403 and "整改单位 高塘乡卫生院" in outside.content.decode()
    ts.post(f"/unit/{TOWNSHIP}/findings/", {"finding": chosen[1:], "action": "assign", "unit": SOUTH_VILLAGE})
    assert set(Finding.objects.filter(pk__in=chosen[1:]).values_list("assigned_to__code", flat=True)) == {SOUTH_VILLAGE}
    # an evaluator reads the ledger but works nothing
    ev = client_for("ev")
    assert ev.get(f"/unit/{COUNTY}/findings/").status_code == 200
    refused = ev.post(f"/unit/{COUNTY}/findings/", {"finding": chosen[1:], "action": "rectify"})
    assert refused.status_code == 403 and "只能查看质控问题" in refused.content.decode()


def test_the_ledgers_counts_are_kept_until_a_write_changes_them(quality_region):
    """The page keeps the counts by status, rule and period under the ledger's version: a second view does not
    count again, and every kind of write — a status change, a reassignment, a new evaluation — shows at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gongwei.service import access, ledger, quality

    ts, sup = access.operator("ts", command="test"), access.operator("sup", command="test")

    def counts(actor, org, **filters):
        return ledger.findings(actor, org, status="", **filters).counts

    first = counts(ts, TOWNSHIP)
    with CaptureQueriesContext(connection) as ctx:
        assert counts(ts, TOWNSHIP) == first
    assert not any("COUNT(" in q["sql"].upper() and "GROUP BY" in q["sql"].upper() for q in ctx.captured_queries)

    chosen = list(findings_in(VILLAGE, rule="C-04").values_list("pk", flat=True))
    ledger.act(ts, chosen, "rectify")
    after = counts(ts, TOWNSHIP)
    assert after["rectified"] == first["rectified"] + 3 and after["open"] == first["open"] - 3

    village = counts(ts, TOWNSHIP, unit=SOUTH_VILLAGE)
    moved = list(findings_in(VILLAGE, rule="T-05", status="open").values_list("pk", flat=True))[:1]
    ledger.act(ts, moved, "assign", unit=SOUTH_VILLAGE)
    assert counts(ts, TOWNSHIP, unit=SOUTH_VILLAGE)["open"] == village["open"] + 1

    county = counts(sup, COUNTY)
    Finding.objects.filter(pk__in=chosen).update(status=FindingStatus.OPEN)  # behind the ledger's back: not seen
    assert counts(sup, COUNTY) == county
    quality.evaluate_findings(access.operator(), "2025", rules=RULES)  # an evaluation writes through the ledger
    assert counts(sup, COUNTY) != county


# --- duplicates ----------------------------------------------------------------------------------------------------
def test_duplicate_queue_side_by_side_masked_per_role(quality_region):
    ta = client_for("ta").get(f"/unit/{TOWNSHIP}/duplicates/").content.decode()
    full = rm.Resident.objects.get(record_no=ORIGINAL).id_number
    assert ORIGINAL in ta and DUPLICATE in ta and full in ta and "1950-01-10" in ta
    assert "查找重复档案需要数分钟" not in ta and "数据时间：快照" in ta
    differ = re.findall(r'<tr class="differ"><th>([^<]+)</th>', ta)
    assert differ == ["档案编号", "现住址", "管理单位", "建档日期"]  # same person, registered twice
    sup = client_for("sup").get(f"/unit/{COUNTY}/duplicates/").content.decode()
    assert ORIGINAL in sup and full not in sup and "1950-01-10" not in sup and "岁" in sup
    log = rm.AccessLog.objects.filter(user__username="sup", kind="duplicates").latest("at")
    assert set(log.people.values_list("resident__record_no", flat=True)) == {ORIGINAL, DUPLICATE}
    # the other township sees no pair of 蒲亭镇
    assert ORIGINAL not in client_for("vd2").get("/unit/360426200201/duplicates/").content.decode()


def test_not_a_duplicate_persists_and_merge_is_undone(quality_region):
    from gongwei.service import access, ledger

    ta = client_for("ta")
    url = f"/unit/{TOWNSHIP}/duplicates/"
    pair = {"survivor": ORIGINAL, "duplicate": DUPLICATE}
    # township staff may look but not decide
    assert client_for("ts").post(url, {**pair, "decision": "distinct"}).status_code == 403
    said = ta.post(url, {**pair, "decision": "distinct", "reason": "双胞胎"}, follow=True).content.decode()
    assert "不是重复档案，不再列入复核队列" in said and 'class="card pair"' not in said
    # the next run of the finder proposes the pair again; the decision keeps it out of the queue
    ledger.store_duplicates(access.operator(), COUNTY)
    assert 'class="card pair"' not in ta.get(url).content.decode()
    assert ORIGINAL in ta.get(url + "?state=distinct").content.decode()
    ta.post(url + "?state=distinct", {**pair, "decision": "undistinct"})
    assert PairReview.objects.get().undone_at is not None
    assert 'class="card pair"' in ta.get(url).content.decode()
    # merge, then undo
    ta.post(url, {**pair, "decision": "merge"})
    gone = rm.Resident.objects.get(record_no=DUPLICATE)
    assert gone.status == "merged" and gone.merged_into.record_no == ORIGINAL
    assert "撤销合并" in ta.get(url + "?state=merged").content.decode()
    ta.post(url + "?state=merged", {**pair, "decision": "unmerge"})
    assert rm.Resident.objects.get(record_no=DUPLICATE).status == "active"
    assert Merge.objects.get().undone_at is not None
    # a pair that is not in the queue cannot be merged through the form
    other = ta.post(url, {"survivor": ORIGINAL, "duplicate": "36042610020200001", "decision": "merge"})
    assert other.status_code == 404 and "不在重复档案复核队列中" in other.content.decode()


# --- closing records from a list --------------------------------------------------------------------------------------
def _upload(client, code: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(f"/unit/{code}/close/", {"step": "preview",
                                                "list": SimpleUploadedFile("list.csv", data, "text/csv")})


def test_close_from_a_list_with_preview_and_confirm(quality_region):
    ts = client_for("ts")
    day = (dt.date.today() - dt.timedelta(days=10)).isoformat()
    csv = f"record_no,status,date,reason\n36042610020100002,死亡,{day},户籍注销\n36042610020200003,moved_out,{day},迁往九江\n"
    preview = _upload(ts, TOWNSHIP, csv.encode())
    html = preview.content.decode()
    assert preview.status_code == 200 and "将结案 2 份档案" in html and "居民01" in html and "死亡" in html
    assert rm.Resident.objects.get(record_no="36042610020100002").status == "active"  # preview changes nothing
    done = ts.post(f"/unit/{TOWNSHIP}/close/", {"step": "confirm", "content": csv}, follow=True)
    assert "已结案 2 份档案" in done.content.decode()
    closed = rm.Resident.objects.get(record_no="36042610020100002")
    assert closed.status == "dead" and closed.status_reason == "户籍注销"
    assert rm.Resident.objects.get(record_no="36042610020200003").status == "moved_out"


def test_a_list_with_problems_is_shown_row_by_row_and_closes_nothing(quality_region):
    ts = client_for("ts")
    day = (dt.date.today() - dt.timedelta(days=10)).isoformat()
    csv = (f"record_no,status,date,reason\n36042610020100002,死亡,{day},\n36042620020100001,死亡,{day},\n"
           f"36042610020100003,结婚,{day},\n36042610020100002,死亡,{day},\nX1,死亡,{day},\n36042610020100003,lost,2099-01-01,\n")
    html = _upload(ts, TOWNSHIP, csv.encode()).content.decode()
    assert "名单有 6 个问题，不能结案" in html and "确认结案" not in html
    assert "档案不在您的权限范围内" in html and "居民20" not in html  # a resident outside scope is not named
    assert "结案状态“结婚”无效" in html and "与第 1 行重复" in html and "档案编号“X1”不存在" in html
    assert "晚于今天" in html
    # confirming the same list anyway (a forged form) is refused whole
    forged = ts.post(f"/unit/{TOWNSHIP}/close/", {"step": "confirm", "content": csv})
    assert forged.status_code == 400 and "全部未结案" in forged.content.decode()
    assert not rm.Resident.objects.exclude(status="active").exists()


NOT_THE_LIST = [
    (b"", "上传的文件为空"),
    ("record_no,status,date,reason\n36042610020100002,死亡,2024-01-01,\n".encode("gbk"), "不是 UTF-8 编码"),
    (b"no,state,when\n1,2,3\n", "文件表头应为 record_no,status,date,reason"),
    (b"record_no,status,date,reason\n", "没有要结案的档案"),
    (b"record_no,status,date,reason\n1,2,3,4,5\n", "列数多于表头"),
]


def test_an_upload_that_is_not_the_list_gets_a_clear_message(quality_region):
    ts = client_for("ts")
    for data, message in NOT_THE_LIST:
        response = _upload(ts, TOWNSHIP, data)
        html = response.content.decode()
        assert response.status_code == 400 and message in html and "没有任何档案被更改" in html, message
    assert not rm.Resident.objects.exclude(status="active").exists()


def test_closing_needs_a_role_that_edits_records(quality_region):
    response = _upload(client_for("sup"), COUNTY, b"record_no,status,date,reason\n36042610020100002,dead,2024-01-01,\n")
    assert response.status_code == 403 and "不能结案" in response.content.decode()


# --- journeys in a real browser ----------------------------------------------------------------------------------
def test_journey_township_rectifies_supervisor_verifies(chromium, live_server, live_quality_region, tmp_path):
    chosen = sorted(findings_in(VILLAGE, rule="C-04").values_list("pk", flat=True))
    with browser_as(chromium, live_server, "ts") as (page, offsite):
        page.goto(f"{live_server.url}/unit/{TOWNSHIP}/quality/")
        assert "蒲亭镇卫生院 数据质量记分卡" in page.inner_text("h1")
        page.screenshot(path=str(screenshot_path(tmp_path, "quality_scorecard_township")), full_page=True)
        page.click("text=整改台账")
        page.select_option("select[name=rule]", "C-04")
        page.select_option("select[name=unit]", VILLAGE)
        page.click("form.filters button.primary")
        page.wait_for_load_state("networkidle")
        assert len(page.query_selector_all("input[name=finding]")) == 3
        page.check("#check-all")
        page.select_option("#bulk-action", "rectify")
        page.click("#bulk-go")
        page.wait_for_load_state("networkidle")
        assert "已标记已整改 3 个质控问题" in page.inner_text(".notes")
        page.screenshot(path=str(screenshot_path(tmp_path, "quality_findings_rectified")), full_page=True)
        page.goto(f"{live_server.url}/unit/{TOWNSHIP}/findings/?rule=C-04&status=rectified")
        page.check("#check-all")
        page.select_option("#bulk-action", "verify")
        page.click("#bulk-go")
        page.wait_for_load_state("networkidle")
        assert "不能核实自己的整改" in page.inner_text(".refused")
        page.screenshot(path=str(screenshot_path(tmp_path, "quality_findings_own_verify_refused")), full_page=True)
    assert offsite == [], f"requests left the local server: {offsite}"
    assert set(Finding.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {FindingStatus.RECTIFIED}
    with browser_as(chromium, live_server, "sup") as (page, offsite):
        page.goto(f"{live_server.url}/unit/{COUNTY}/quality/?period=2025")
        assert "较上期减少 12" in page.inner_text("main")
        page.screenshot(path=str(screenshot_path(tmp_path, "quality_scorecard_supervisor")), full_page=True)
        page.goto(f"{live_server.url}/unit/{COUNTY}/findings/?status=rectified")
        page.check("#check-all")
        page.select_option("#bulk-action", "verify")
        page.click("#bulk-go")
        page.wait_for_load_state("networkidle")
        assert "已核实 3 个质控问题" in page.inner_text(".notes")
        page.screenshot(path=str(screenshot_path(tmp_path, "quality_findings_verified")), full_page=True)
        page.goto(f"{live_server.url}/unit/{COUNTY}/duplicates/")
        assert "岁" in page.inner_text(".pair")
        page.screenshot(path=str(screenshot_path(tmp_path, "quality_duplicates_supervisor")), full_page=True)
    assert offsite == []
    assert set(Finding.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {FindingStatus.VERIFIED}
    with browser_as(chromium, live_server, "vd2") as (page, offsite):
        response = page.goto(f"{live_server.url}/unit/{TOWNSHIP}/findings/")
        assert response.status == 403 and "不在您的权限范围内" in page.inner_text("main")
    assert offsite == []


def test_journey_duplicates_and_closing_list(chromium, live_server, live_quality_region, tmp_path):
    day = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    listing = tmp_path / "list.csv"
    listing.write_text(f"record_no,status,date,reason\n36042610020100002,死亡,{day},户籍注销\n", encoding="utf-8")
    with browser_as(chromium, live_server, "ta") as (page, offsite):
        page.goto(f"{live_server.url}/unit/{TOWNSHIP}/duplicates/")
        page.screenshot(path=str(screenshot_path(tmp_path, "quality_duplicates_township_admin")), full_page=True)
        page.click("button[value=merge]")
        page.wait_for_load_state("networkidle")
        assert f"已将档案 {DUPLICATE} 合并至 {ORIGINAL}" in page.inner_text(".notes")
        page.goto(f"{live_server.url}/unit/{TOWNSHIP}/close/")
        page.set_input_files("input[name=list]", str(listing))
        page.click("#preview-close")
        page.wait_for_load_state("networkidle")
        assert "将结案 1 份档案" in page.inner_text("main")
        page.screenshot(path=str(screenshot_path(tmp_path, "quality_close_preview")), full_page=True)
        page.click("#confirm-close")
        page.wait_for_load_state("networkidle")
        assert "已结案 1 份档案" in page.inner_text(".notes")
    assert offsite == []
    assert rm.Resident.objects.get(record_no="36042610020100002").status == "dead"
    assert rm.Resident.objects.get(record_no=DUPLICATE).status == "merged"
