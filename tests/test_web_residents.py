"""Find a resident and the record's home page (issue 11, points 1–2): search by what a village doctor knows,
within the login's scope, masked per role, audited; the home page with programs, timeline and what is due."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import connection
from django.utils import timezone

from gongwei.records import entry
from gongwei.records import models as m
from gongwei.service import access
from gongwei.service import residents as service
from gongwei.service.errors import NotFound, Refused
from gongwei.spec.vocab import AccessKind
from tests.test_admin import _table, id_number
from tests.web_fixtures import VILLAGE, browser_as, client_for, screenshot_path

OTHER_VILLAGE = "360426200201"  # 高塘村, the other township
SIBLING_VILLAGE = "360426100202"  # 南门村, vd's township but not vd's village
ZSF = "36042610020109001"
LHM = "36042610020109002"
ZW_OTHER = "36042620020109003"
ZSF_ID = id_number("360426", "1958-04-12", "071")
ZSF_PHONE = "13907921234"


def add_people() -> None:
    """Three named residents: 张三丰 and 李红梅 in one household of 北门村 (vd's village), 张伟 in 高塘村; 张三丰
    has hypertension with a follow-up last month (uncontrolled) and a vaccination two years ago."""
    today = dt.date.today()
    people = [
        dict(record_no=ZSF, name="张三丰", sex="1", birth_date="1958-04-12", id_type="01", id_number=ZSF_ID,
             phone=ZSF_PHONE, managing_unit=VILLAGE, residence_type="1", address="北门村3组", household="H-1"),
        dict(record_no=LHM, name="李红梅", sex="2", birth_date="1960-09-01", id_type="01",
             id_number=id_number("360426", "1960-09-01", "082"), phone="13600005678", managing_unit=VILLAGE,
             residence_type="1", address="北门村3组", household="H-1"),
        dict(record_no=ZW_OTHER, name="张伟", sex="1", birth_date="1970-01-02", id_type="01",
             id_number=id_number("360426", "1970-01-02", "031"), phone="13500009999",
             managing_unit=OTHER_VILLAGE, residence_type="1", address="高塘村", household=""),
    ]
    last_month = (today - dt.timedelta(days=30)).isoformat()
    result = entry.submit({
        "households": _table([dict(household_no="H-1", org_unit=VILLAGE, address="北门村3组")]),
        "residents": _table(people),
        "enrollments": _table([dict(enrollment_no="E-ZSF", resident=ZSF, program="hypertension",
                                    org_unit=VILLAGE, start_date="2023-02-01")]),
        "chronic_follow_ups": _table([dict(
            encounter_no="F-ZSF-1", resident=ZSF, org_unit=VILLAGE, service_date=last_month, enrollment="E-ZSF",
            program="hypertension", mode="1", sbp="165", dbp="98", classification="2",
            next_visit_date=(today + dt.timedelta(days=14)).isoformat())]),
        "vaccinations": _table([dict(encounter_no="V-ZSF-1", resident=ZSF, org_unit=VILLAGE,
                                     service_date=(today - dt.timedelta(days=800)).isoformat(), vaccine="HepB",
                                     dose_no="1")]),
    }, actor="test", kind="synth")
    assert result.written == 3 + 1 + 1 + 1 + 1, result


@pytest.fixture
def people(web_region):
    add_people()
    return web_region


def as_user(username: str) -> access.Actor:
    return access.operator(username, command="test")


def found(username: str, text: str = "", **filters) -> list[str]:
    return [h.record_no for h in service.search(as_user(username), text, **filters).hits]


# --- search ----------------------------------------------------------------------------------------------------
def test_search_by_name_finds_only_within_scope(people):
    assert found("sup", "张") == [ZSF, ZW_OTHER]
    assert found("vd", "张") == [ZSF]  # 张伟 lives in the other township
    assert found("vd", "张三丰") == [ZSF]
    assert found("vd2", "张三丰") == []


def test_a_part_of_a_name_finds_exactly_what_contains_it(people):
    """On PostgreSQL a name fragment of two or more characters is looked up in the bigram index
    (records/searchindex.py) and checked with LIKE: a name holding the fragment's bigrams apart (三丰张三 holds
    张三 and 三丰 but not 张三丰) is not found, and a fragment found anywhere in a name is."""
    from gongwei.records.searchindex import ends_with, name_contains

    entry.submit({"residents": _table([dict(
        record_no="36042610020109004", name="三丰张三", sex="1", birth_date="1980-03-03", id_type="01",
        id_number=id_number("360426", "1980-03-03", "013"), phone="13500001111", managing_unit=VILLAGE,
        residence_type="1", address="北门村", household="")])}, actor="test", kind="synth")
    assert found("vd", "张三丰") == [ZSF]
    assert found("vd", "三丰") == [ZSF, "36042610020109004"]
    assert found("vd", "丰张") == ["36042610020109004"]
    assert found("vd", "红梅") == [LHM] and found("vd", "李红") == [LHM]
    assert found("vd", "梅李") == [] and found("vd", "丰") == [ZSF, "36042610020109004"]
    sql = str(m.Resident.objects.filter(name_contains("三丰")).query)
    tails = str(m.Resident.objects.filter(ends_with("1234")).query)
    if connection.vendor == "postgresql":
        assert "gongwei_name_grams" in sql  # the indexes' paths are the ones tested here and by the digit searches
        assert tails.count("reverse(") == 3
        with connection.cursor() as cur:
            cur.execute("SELECT gongwei_name_grams(%s), gongwei_name_grams(%s)", ["张三丰", "张"])
            assert cur.fetchone() == (["三丰", "张三"], [])
    else:
        assert "gongwei_name_grams" not in sql and "reverse(" not in tails


def test_search_by_pinyin_initials_and_full_pinyin(people):
    assert found("vd", "zsf") == [ZSF]
    assert found("vd", "ZSF") == [ZSF]
    assert found("vd", "zhangsan") == [ZSF]
    assert found("vd", "lhm") == [LHM]
    assert found("sup", "zw") == [ZW_OTHER]
    assert found("vd", "zw") == []


def test_pinyin_is_stored_once_and_follows_a_renamed_resident(people):
    actor = as_user("vd")
    assert found("vd", "zsf") == [ZSF]
    assert service.sync_pinyin(service.scoped_residents(actor)) == 0  # already stored by the first search
    # a rename arrives through the entry layer, which stamps updated_at (auto_now): the next search picks it up
    m.Resident.objects.filter(record_no=LHM).update(name="曾小明", updated_at=timezone.now())
    assert found("vd", "lhm") == []
    # a surname read its own way (曾 zeng, not the common ceng): every reading of the first character is kept
    assert found("vd", "zxm") == [LHM] and found("vd", "zengxiaom") == [LHM] and found("vd", "cxm") == [LHM]
    assert service.pinyin_variants("单田芳")[0] != service.pinyin_variants("单田芳")[1]
    assert ("stf", "shantianfang") in service.pinyin_variants("单田芳")


def test_two_syncs_in_one_transaction_store_each_residents_rows_once(people):
    # on PostgreSQL the rows pass through a temporary table: the second call must not insert the first one's again
    from django.db import transaction

    lhm, zsf = m.Resident.objects.get(record_no=LHM), m.Resident.objects.get(record_no=ZSF)
    m.NamePinyin.objects.filter(resident__in=[lhm, zsf]).delete()
    with transaction.atomic():
        assert service.sync_pinyin(m.Resident.objects.filter(pk=zsf.pk)) == 1
        assert service.sync_pinyin(m.Resident.objects.filter(pk=lhm.pk)) == 1
        assert service.sync_pinyin(m.Resident.objects.filter(pk__in=[lhm.pk, zsf.pk])) == 0  # both stored now
        # renamed before the transaction ends: the former name's rows must not come back from the first call
        m.Resident.objects.filter(pk=zsf.pk).update(name="曾小明")
        assert service.sync_pinyin(m.Resident.objects.filter(pk=zsf.pk)) == 1
    zsf.refresh_from_db()
    stored = list(m.NamePinyin.objects.filter(resident__in=[lhm, zsf]).values_list("resident_id", "full_pinyin"))
    assert len(stored) == len(set(stored))
    for r in (lhm, zsf):
        assert {full for rid, full in stored if rid == r.pk} == {full for _, full in service.pinyin_variants(r.name)}
    assert found("vd", "zsf") == [] and found("vd", "lhm") == [LHM]


def test_a_later_search_reads_only_what_was_written_since_and_the_nightly_step_fills_the_rest(people, monkeypatch):
    seen = []
    real = service.sync_pinyin
    monkeypatch.setattr(service, "sync_pinyin", lambda qs: seen.append(str(qs.query)) or real(qs))
    monkeypatch.setattr(service, "_SYNCED", type(service._SYNCED)())
    assert found("vd", "zsf") == [ZSF]
    assert found("vd", "zsf") == [ZSF]
    where = [sql.split(" WHERE ", 1)[1] for sql in seen]
    assert "updated_at" not in where[0] and "updated_at" in where[1]  # the whole scope once, then the recent rows
    # a resident written long ago and missing from the table (e.g. the table was emptied) is not read again by a
    # search of this process; the nightly step puts every resident in the table
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {service.PINYIN_TABLE}")
    m.Resident.objects.update(updated_at=timezone.now() - 2 * service.SYNC_MARGIN)
    assert found("vd", "zsf") == []
    assert service.sync_all_pinyin(chunk=2) >= 1
    assert found("vd", "zsf") == [ZSF]


def test_search_by_identity_number_full_and_last_four_digits(people):
    assert found("vd", ZSF_ID) == [ZSF]
    assert found("vd", ZSF_ID.lower()) == [ZSF]
    assert found("vd", ZSF_ID[-4:]) == [ZSF]
    assert found("vd", ZSF_ID[-6:]) == [ZSF]
    assert found("vd2", ZSF_ID[-4:]) == []


def test_search_by_phone_and_record_number(people):
    assert found("vd", ZSF_PHONE) == [ZSF]
    assert found("vd", "139 0792 1234") == [ZSF]
    assert found("vd", ZSF) == [ZSF]
    assert found("vd2", ZSF_PHONE) == []


def test_filters_by_village_program_and_status(people):
    assert found("ts", "", village=VILLAGE, program="hypertension") == sorted(
        [ZSF] + [f"{VILLAGE}{j:05d}" for j in (1, 2, 3)])
    assert found("ts", "", village=SIBLING_VILLAGE) == [f"{SIBLING_VILLAGE}{j:05d}" for j in (1, 2, 3)]
    assert LHM not in found("ts", "", village=VILLAGE, program="hypertension")
    m.Resident.objects.filter(record_no=LHM).update(status="dead", status_date=dt.date.today())
    assert found("vd", "李红梅", status="active") == []
    assert found("vd", "李红梅", status="dead") == [LHM]
    with pytest.raises(Refused):
        service.search(as_user("vd"), "", village=OTHER_VILLAGE)
    with pytest.raises(NotFound):
        service.search(as_user("vd"), "", village="999999999999")


def test_results_are_paged(people):
    first = service.search(as_user("sup"), "", size=5)
    second = service.search(as_user("sup"), "", size=5, page=2)
    assert first.total == 15 and first.pages == 3 and len(first.hits) == 5
    assert not {h.record_no for h in first.hits} & {h.record_no for h in second.hits}


@pytest.mark.parametrize("size", [14, 15, 16, 30])
def test_the_total_is_right_at_a_page_boundary_and_a_short_first_page_needs_no_count(people, size):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        result = service.search(as_user("sup"), "", size=size)
    assert result.total == 15 and result.pages == -(-15 // size) and len(result.hits) == min(size, 15)
    counted = any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)
    assert counted == (size < 15)  # the first page's rows show the total when there are no more
    if size < 15:
        rest = service.search(as_user("sup"), "", size=size, page=2)
        assert rest.total == 15 and len(rest.hits) == 15 - size


def test_masked_for_the_supervisor_in_full_for_the_village_doctor(people):
    sup = service.search(as_user("sup"), "张三丰").hits[0]
    assert sup.id_number != ZSF_ID and sup.id_number.endswith(ZSF_ID[-4:]) and "*" in sup.id_number
    assert sup.phone != ZSF_PHONE and "*" in sup.phone
    assert isinstance(sup.birth, str) and sup.birth.endswith("岁")
    vd = service.search(as_user("vd"), "张三丰").hits[0]
    assert vd.id_number == ZSF_ID and vd.phone == ZSF_PHONE and vd.birth == dt.date(1958, 4, 12)
    html = client_for("sup").get("/residents/", {"q": "张三丰"}).content.decode()
    assert "张三丰" in html and ZSF_ID not in html and ZSF_PHONE not in html and "1958-04-12" not in html


def test_each_search_is_audited_with_the_people_on_the_page(people):
    before = m.AccessLog.objects.count()
    response = client_for("vd").get("/residents/", {"q": "张"})
    assert response.status_code == 200 and ZSF in response.content.decode()
    log = m.AccessLog.objects.order_by("-id").first()
    assert m.AccessLog.objects.count() == before + 1
    assert log.kind == AccessKind.SEARCH and log.user.username == "vd" and log.count == 1
    assert list(log.people.values_list("resident__record_no", flat=True)) == [ZSF]
    assert log.scope == VILLAGE and "姓名" in log.purpose


def test_bad_search_input_is_a_chinese_400(people):
    c = client_for("vd")
    bad = c.get("/residents/", {"page": "x"})
    assert bad.status_code == 400 and "页码“x”无效" in bad.content.decode()
    bad = c.get("/residents/", {"program": "nope"})
    assert bad.status_code == 400 and "项目“nope”无效" in bad.content.decode()


def test_search_page_outside_scope_is_403_unknown_unit_404(people):
    c = client_for("vd")
    assert c.get("/residents/", {"village": OTHER_VILLAGE}).status_code == 403
    assert c.get("/residents/", {"village": "999999999999"}).status_code == 404


# --- the record's home page ------------------------------------------------------------------------------------
def test_record_page_shows_identity_household_programs_and_timeline(people):
    page = service.record(as_user("vd"), ZSF, with_due=False)
    assert page.name == "张三丰" and page.id_number == ZSF_ID and page.household_no == "H-1"
    assert [x.record_no for x in page.members] == [LHM]
    [ht] = page.programs
    assert ht.name == "高血压患者健康管理" and ht.end_date is None
    assert ht.classification == "控制不满意" and "165/98" in ht.last_summary
    assert ht.next_visit_date == dt.date.today() + dt.timedelta(days=14)
    # the vaccination 800 days ago is outside the last year's timeline; the follow-up is in it
    assert [s.kind for s in page.timeline] == ["慢病随访"]
    assert page.timeline[0].classification == "控制不满意" and page.timeline[0].tone == "far"
    # without the engine's list, a chronic program's due dates are computed from the person's own rows (the
    # engine's rules, engine.person): last month's uncontrolled visit owes its two-week recheck, overdue by 16 days
    assert {d.source for d in page.due} == {"live"}
    if (dt.date.today() - dt.timedelta(days=30)).year == dt.date.today().year:
        [recheck] = [d for d in page.due if d.service == "血压控制不满意2周内复诊"]
        assert recheck.status == "overdue" and recheck.days_overdue == 16


def test_record_page_is_scoped_and_audited(people):
    c = client_for("vd")
    before = m.AccessLog.objects.filter(kind=AccessKind.RECORD).count()
    ok = c.get(f"/resident/{ZSF}/")
    assert ok.status_code == 200 and "张三丰" in ok.content.decode()
    log = m.AccessLog.objects.filter(kind=AccessKind.RECORD).order_by("-id").first()
    assert m.AccessLog.objects.filter(kind=AccessKind.RECORD).count() == before + 1
    assert log.resident.record_no == ZSF and log.user.username == "vd"
    refused = c.get(f"/resident/{ZW_OTHER}/")
    assert refused.status_code == 403 and "不在您的权限范围内" in refused.content.decode()
    assert "张伟" not in refused.content.decode()
    missing = c.get("/resident/999/")
    assert missing.status_code == 404 and "健康档案 999 不存在" in missing.content.decode()
    assert client_for("vd2").get(f"/resident/{ZSF}/").status_code == 403


def test_record_page_is_masked_for_the_supervisor(people):
    html = client_for("sup").get(f"/resident/{ZSF}/").content.decode()
    assert "张三丰" in html and ZSF_ID not in html and ZSF_ID[-4:] in html
    assert ZSF_PHONE not in html and "1958-04-12" not in html
    html = client_for("vd").get(f"/resident/{ZSF}/").content.decode()
    assert ZSF_ID in html and ZSF_PHONE in html


def test_due_list_comes_from_the_engine_for_this_one_person(people):
    """A hypertension patient of the snapshot with no follow-up this year is overdue for one (the worklist's
    rule), and the list holds no one else's services. The page reads today's materialised state and never
    computes it: before the job has run it says so."""
    own = f"{VILLAGE}00001"  # in the snapshot: enrolled 2023, last follow-up 2024-03-01
    before = service.record(as_user("vd"), own)
    # the chronic programs are computed per person at once (engine.person); the rest waits for the job
    assert {d.program for d in before.due} == {"hypertension"} and {d.source for d in before.due} == {"live"}
    assert before.due_ms is None and "尚未计算" in before.due_basis
    html = client_for("vd").get(f"/resident/{own}/").content.decode()
    assert "高血压随访" in html and "尚未计算" in html
    with pytest.raises(Refused):
        service.prepare_due(as_user("ts"))
    seconds = service.prepare_due(access.operator())
    started = time.perf_counter()
    page = service.record(as_user("vd"), own)
    took = (time.perf_counter() - started) * 1000
    services = {d.service: d for d in page.due}
    assert "高血压随访" in services and services["高血压随访"].status == "overdue"
    assert services["高血压随访"].days_overdue > 0
    assert page.due_basis.startswith("按快照") and page.due_ms is not None
    other = service.record(as_user("vd"), f"{VILLAGE}00002")
    # a 75-year-old hypertension patient: the follow-up and the elderly annual examination
    assert {"高血压随访", "老年人年度健康体检"} <= {d.service for d in other.due}
    print(f"\nprepare_due (all scheduled programs, small region): {seconds:.1f} s; record page with the "
          f"per-person worklist: {took:.0f} ms (worklist {page.due_ms:.0f} ms)")
    html = client_for("vd").get(f"/resident/{own}/").content.decode()
    assert "高血压随访" in html and "已逾期" in html


def test_every_role_on_a_resident_of_every_village(people):
    """The sweep for these pages: every login, one resident of each village and each village as the search
    filter — 200 inside the login's subtree, 403 outside, and the audit rows name only people inside."""
    from tests.test_admin import LOGINS, VILLAGES
    from tests.test_scope_sweep import in_subtree

    for username, _role, _unit in LOGINS:
        c = client_for(username)
        for village in VILLAGES:
            inside = in_subtree(username, village)
            record = c.get(f"/resident/{village}00001/")
            listed = c.get("/residents/", {"village": village})
            assert record.status_code == (200 if inside else 403), (username, village)
            assert listed.status_code == (200 if inside else 403), (username, village)
        user = m.AccessedResident.objects.filter(log__user__username=username)
        actor = as_user(username)
        paths = m.Resident.objects.filter(pk__in=user.values("resident_id")).values_list(
            "managing_unit__path", flat=True)
        assert all(actor.sees_path(p) for p in paths), username


# --- a real browser ---------------------------------------------------------------------------------------------
@pytest.fixture
def live_people(live_region):
    add_people()
    return live_region


def test_village_doctor_finds_a_resident_and_opens_the_record(chromium, live_server, live_people, tmp_path):
    with browser_as(chromium, live_server, "vd") as (page, offsite):
        page.goto(f"{live_server.url}/residents/")
        page.fill("input[name=q]", "zsf")
        page.click("form.find button.primary")
        page.wait_for_load_state("networkidle")
        rows = page.locator("table.found tbody tr")
        assert rows.count() == 1 and "张三丰" in rows.first.inner_text()
        page.screenshot(path=str(screenshot_path(tmp_path, "residents_search_village_doctor")), full_page=True)
        page.click("table.found tbody tr a >> text=张三丰")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith(f"/resident/{ZSF}/")
        assert "张三丰" in page.inner_text("h1")
        assert "控制不满意" in page.inner_text("table.programs")
        page.screenshot(path=str(screenshot_path(tmp_path, "resident_record_village_doctor")), full_page=True)
    assert offsite == [], f"requests left the local server: {offsite}"
