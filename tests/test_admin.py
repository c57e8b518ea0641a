"""The admin: scope per login, scoped choices, masking, entry-layer validation, history, audit, no deletes.

A small hand-built region (1 province › 1 city › 1 county › 2 townships › 2 villages each), written
through the entry layer, with one login per role.
"""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from stdnum.cn import ric

from gongwei.records import entry, roles
from gongwei.records import models as m
from gongwei.spec import vocab as v

PASSWORD = "test-pass-123"


def id_number(region: str, birth: str, seq: str) -> str:
    body = region + birth.replace("-", "") + seq
    return body + ric.calc_check_digit(body + "0")


def _table(rows: list[dict[str, str]]) -> pa.Table:
    return pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in rows[0]})


ORG_UNITS = [
    # code, name, level, kind, parent
    ("360000000000", "江西省", "province", "health_bureau", ""),
    ("360400000000", "九江市", "city", "health_bureau", "360000000000"),
    ("360426000000", "德安县", "county", "health_bureau", "360400000000"),
    ("360426100000", "蒲亭镇卫生院", "township", "township_hc", "360426000000"),
    ("360426100201", "北门村卫生室", "village", "village_clinic", "360426100000"),
    ("360426100202", "南门村卫生室", "village", "village_clinic", "360426100000"),
    ("360426200000", "高塘乡卫生院", "township", "township_hc", "360426000000"),
    ("360426200201", "高塘村卫生室", "village", "village_clinic", "360426200000"),
    ("360426200202", "罗桥村卫生室", "village", "village_clinic", "360426200000"),
]
VILLAGES = ["360426100201", "360426100202", "360426200201", "360426200202"]

# username, role, unit code
LOGINS = [
    ("vd", "village_doctor", "360426100201"),
    ("vd2", "village_doctor", "360426200201"),
    ("ts", "township_staff", "360426100000"),
    ("ta", "township_admin", "360426100000"),
    ("sup", "supervisor", "360426000000"),
    ("ev", "evaluator", "360400000000"),
    ("sa", "system_admin", "360000000000"),
]


def build_small_region() -> dict[str, object]:
    """Write the region through the entry layer; returns handy objects. Residents: 3 per village."""
    org = [dict(code=c, name=n, level=lv, kind=k, parent=p) for c, n, lv, k, p in ORG_UNITS]
    staff = [dict(code=f"S-{u}", org_unit=unit, role=role, name=f"职工{u}", phone="13900001111")
             for u, role, unit in LOGINS]
    residents, records = [], []
    for vi, village in enumerate(VILLAGES):
        for j in range(3):
            no = f"{village}{j + 1:05d}"
            birth = f"19{50 + vi * 5 + j}-0{j + 1}-1{vi}"
            sex = "1" if j % 2 == 0 else "2"
            seq = f"{vi}{j}{1 if sex == '1' else 2}"
            residents.append(dict(
                record_no=no, name=f"居民{vi}{j}", sex=sex, birth_date=birth, id_type="01",
                id_number=id_number("360426", birth, seq), phone=f"1380000{vi}{j}34", managing_unit=village,
                residence_type="1", address=f"{village}号"))
            records.append(dict(resident=no, created_on="2023-01-05", created_by_unit=village,
                                contact_name="联系人", contact_phone=f"1370000{vi}{j}99"))
    enrollments = [dict(enrollment_no=f"E-{r['record_no']}", resident=r["record_no"], program="hypertension",
                        org_unit=r["managing_unit"], start_date="2023-02-01") for r in residents]
    follow_ups = [dict(encounter_no=f"F-{r['record_no']}", resident=r["record_no"], org_unit=r["managing_unit"],
                       service_date="2024-03-01", enrollment=f"E-{r['record_no']}", program="hypertension",
                       mode="1", sbp="142", dbp="88") for r in residents]
    teams = [dict(code="T-1", name="蒲亭镇家庭医生一队", org_unit="360426100000", lead="S-ts"),
             dict(code="T-2", name="高塘乡家庭医生一队", org_unit="360426200000", lead="")]
    entry.submit({
        "org_units": _table(org), "staff": _table(staff), "teams": _table(teams),
        "residents": _table(residents), "health_records": _table(records), "enrollments": _table(enrollments),
        "chronic_follow_ups": _table(follow_ups),
    }, actor="test", kind="synth")
    User = get_user_model()
    users = {}
    for username, _role, _unit in LOGINS:
        user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
        m.Staff.objects.filter(code=f"S-{username}").update(user=user)
        roles.sync_user_groups(user)
        users[username] = user
    users["nostaff"] = User.objects.create_user("nostaff", password=PASSWORD, is_staff=True)
    return {"users": users, "residents": {r["record_no"]: r for r in residents}}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def region(db):
    roles.ensure_groups()
    return build_small_region()


def client_for(username: str) -> Client:
    """A client logged in through the login form (the throttling backend needs the request)."""
    c = Client()
    response = c.post("/admin/login/?next=/admin/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    return c


def resident(record_no: str) -> m.Resident:
    return m.Resident.objects.get(record_no=record_no)


def result_rows(html: str) -> int:
    """Rows of the changelist's result table."""
    table = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', html, re.S)
    return len(re.findall(r"<tr[ >]", table.group(1))) if table else 0


OWN = "36042610020100001"  # a resident of 北门村 (vd's village, 蒲亭镇)
SIBLING = "36042610020200001"  # 南门村, same township
OTHER = "36042620020100001"  # 高塘村, the other township


# --- site -------------------------------------------------------------------------------------------
def test_admin_is_in_chinese(region):
    c = client_for("vd")
    html = c.get("/admin/").content.decode()
    assert "公卫 gongwei 管理" in html
    assert "居民健康档案" in html and "居民" in html
    assert "lang=\"zh-hans\"" in html


def test_login_page_in_chinese(db):
    html = Client().get("/admin/login/").content.decode()
    assert "用户名" in html and "密码" in html


# --- scope ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("username", "expected"), [
    ("vd", 3), ("vd2", 3), ("ts", 6), ("ta", 6), ("sup", 12), ("ev", 12), ("sa", 12), ("nostaff", None),
])
def test_changelist_shows_only_the_subtree(region, username, expected):
    c = client_for(username)
    response = c.get("/admin/records/resident/")
    if expected is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    html = response.content.decode()
    assert result_rows(html) == expected
    if username in ("vd", "ts", "ta"):
        assert OTHER not in html
        assert OWN in html
    if username == "vd":
        assert SIBLING not in html


def test_scope_applies_to_person_level_records(region):
    c = client_for("vd")
    for url in ("/admin/records/chronicfollowup/", "/admin/records/enrollment/", "/admin/records/healthrecord/"):
        html = c.get(url).content.decode()
        assert result_rows(html) == 3, url
        assert OTHER not in html
    html = c.get("/admin/records/orgunit/").content.decode()
    assert result_rows(html) == 1 and "北门村卫生室" in html and "高塘乡卫生院" not in html


def test_unit_filter_lists_only_the_subtree(region):
    html = client_for("ts").get("/admin/records/resident/").content.decode()
    assert "南门村卫生室" in html and "高塘村卫生室" not in html


def test_object_outside_subtree_is_not_found(region):
    c = client_for("vd")
    other = resident(OTHER)
    # The admin answers an id outside the login's queryset as it answers a missing id: back to the index with
    # "does not exist", so the page neither shows the record nor confirms that it exists elsewhere.
    response = c.get(f"/admin/records/resident/{other.pk}/change/")
    assert response.status_code == 302 and response.url == "/admin/"
    landing = c.get(response.url).content.decode()
    assert "不存在" in landing and OTHER not in landing
    missing = c.get("/admin/records/resident/999999999/change/")
    assert (missing.status_code, missing.url) == (302, "/admin/")
    fu = m.ChronicFollowUp.objects.get(encounter_no=f"F-{OTHER}")
    response = c.get(f"/admin/records/chronicfollowup/{fu.pk}/change/")
    assert response.status_code == 302 and response.url == "/admin/"
    assert OTHER not in c.get(response.url).content.decode()
    # and nothing was logged as viewed
    assert not m.AccessLog.objects.filter(resident=other).exists()


def test_autocomplete_is_scoped(region):
    c = client_for("vd")
    response = c.get("/admin/autocomplete/", {
        "app_label": "records", "model_name": "chronicfollowup", "field_name": "resident", "term": "居民"})
    assert response.status_code == 200
    names = [r["text"] for r in response.json()["results"]]
    assert len(names) == 3 and all(OTHER not in n for n in names)


# --- choices ----------------------------------------------------------------------------------------
def test_foreign_key_choices_are_scoped(region):
    c = client_for("vd")
    html = c.get("/admin/records/resident/add/").content.decode()
    select = re.search(r'<select name="managing_unit".*?</select>', html, re.S).group(0)
    assert "北门村卫生室" in select
    assert "南门村卫生室" not in select and "高塘" not in select
    other_unit = m.OrgUnit.objects.get(code="360426200201")
    data = _resident_form(record_no="36042610020199999", managing_unit=other_unit.pk)
    response = c.post("/admin/records/resident/add/", data)
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not m.Resident.objects.filter(record_no="36042610020199999").exists()


def _resident_form(**overrides) -> dict[str, object]:
    unit = m.OrgUnit.objects.get(code="360426100201")
    data = {
        "record_no": "36042610020100099", "name": "新居民", "sex": "1", "birth_date": "1980-05-06",
        "ethnicity": "汉族", "id_type": "01", "id_number": id_number("360426", "1980-05-06", "011"),
        "phone": "13812341234", "household": "", "address": "北门村", "managing_unit": unit.pk,
        "responsible_doctor": "", "residence_type": "1", "usual_resident": "on", "residence_since": "",
    }
    data.update(overrides)
    return data


def test_staff_and_team_choices_include_units_above_but_not_siblings(region):
    c = client_for("vd")
    html = c.get("/admin/records/contract/add/").content.decode()
    assert "autocomplete" in html
    response = c.get("/admin/autocomplete/", {
        "app_label": "records", "model_name": "contract", "field_name": "team", "term": ""})
    names = [r["text"] for r in response.json()["results"]]
    assert names == ["蒲亭镇家庭医生一队"]


# --- add / change through the entry layer -----------------------------------------------------------
def test_add_resident_writes_through_entry_layer(region):
    c = client_for("vd")
    response = c.post("/admin/records/resident/add/", _resident_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    r = resident("36042610020100099")
    assert r.id_status == v.IdStatus.VALID
    log = m.ChangeLog.objects.get(model="records.Resident", object_pk=str(r.pk))
    assert log.action == v.ChangeAction.CREATE and log.actor.username == "vd"


def test_edit_writes_changelog_with_before_and_after(region):
    c = client_for("vd")
    r = resident(OWN)
    data = _resident_form(record_no=OWN, name=r.name, sex=r.sex, birth_date=r.birth_date.isoformat(),
                          id_number=r.id_number, phone="13999998888", address=r.address, ethnicity="")
    response = c.post(f"/admin/records/resident/{r.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    r.refresh_from_db()
    assert r.phone == "13999998888"
    log = m.ChangeLog.objects.filter(model="records.Resident", object_pk=str(r.pk), action="update").get()
    assert log.before["phone"] == "13800000034" and log.after["phone"] == "13999998888"
    assert log.actor.username == "vd"
    # the history is shown on the change page
    html = c.get(f"/admin/records/resident/{r.pk}/change/").content.decode()
    assert "修改痕迹" in html and "13999998888" in html


def test_related_links_on_the_resident_page_work(region):
    c = client_for("vd")
    r = resident(OWN)
    html = c.get(f"/admin/records/resident/{r.pk}/change/").content.decode()
    links = re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', html.split('id="gongwei-related"')[1])
    labels = {label for _url, label in links}
    assert {"个人基本信息表", "专项管理", "慢病随访"} <= labels
    for url, label in links:
        page = c.get(url.replace("&amp;", "&"))
        assert page.status_code == 200, (label, url)
        if "changelist" not in url and "?" in url:
            assert result_rows(page.content.decode()) == 1, label


def test_bad_input_shows_chinese_error_on_the_field_and_writes_nothing(region):
    c = client_for("vd")
    fu = m.ChronicFollowUp.objects.get(encounter_no=f"F-{OWN}")
    before = m.ChangeLog.objects.count()
    r = resident(OWN)
    data = {
        "resident": r.pk, "org_unit": fu.org_unit_id, "provider": "", "service_date": "2024-03-01",
        "entered_at_0": "", "entered_at_1": "", "enrollment": fu.enrollment_id, "program": "hypertension",
        "mode": "1", "sbp": "400", "dbp": "88",
    }
    response = c.post(f"/admin/records/chronicfollowup/{fu.pk}/change/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "收缩压的值 400 超出可能范围 60–300" in html
    # the error sits on the named field's row
    assert '<ul class="errorlist" id="id_sbp_error"><li>收缩压的值 400 超出可能范围 60–300</li>' in html
    fu.refresh_from_db()
    assert fu.sbp == 142
    assert m.ChangeLog.objects.count() == before
    # an ordered-pair rule: the diastolic value must be below the systolic one
    response = c.post(f"/admin/records/chronicfollowup/{fu.pk}/change/", {**data, "sbp": "120", "dbp": "130"})
    assert '<ul class="errorlist" id="id_dbp_error"><li>舒张压（130）' in response.content.decode()
    fu.refresh_from_db()
    assert (fu.sbp, fu.dbp) == (142, 88)


def test_natural_key_is_readonly_on_change(region):
    c = client_for("vd")
    r = resident(OWN)
    html = c.get(f"/admin/records/resident/{r.pk}/change/").content.decode()
    assert 'name="record_no"' not in html


# --- masking ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("username", "masked"), [
    ("vd", False), ("ts", False), ("ta", False), ("sa", False), ("sup", True), ("ev", True),
])
def test_identifiers_masked_per_role(region, username, masked):
    r = resident(OWN)
    full_id, full_phone = r.id_number, r.phone
    masked_id = full_id[:6] + "*" * 8 + full_id[-4:]
    masked_phone = full_phone[:3] + "****" + full_phone[-4:]
    c = client_for(username)
    html = c.get("/admin/records/resident/", {"q": OWN}).content.decode()
    assert result_rows(html) == 1
    if masked:
        assert full_id not in html and full_phone not in html
        assert masked_id in html and masked_phone in html
    else:
        assert full_id in html and full_phone in html
    page = c.get(f"/admin/records/resident/{r.pk}/change/").content.decode()
    # the birth date would give back the 8 digits the mask hides: masked roles see the age instead
    birth = r.birth_date.isoformat()
    age = roles.mask_birth_date(r.birth_date)
    if masked:
        assert full_id not in page and masked_id in page and full_phone not in page
        assert 'name="id_number"' not in page
        forms = (birth, r.birth_date.strftime("%Y/%m/%d"), r.birth_date.strftime("%Y%m%d"),
                 f"{r.birth_date.year}年{r.birth_date.month}月{r.birth_date.day}日")
        for shown in (html, page):
            assert age in shown and not any(f in shown for f in forms)
    else:
        assert full_id in page and r.birth_date.strftime("%Y/%m/%d") in page


def test_mask_functions():
    assert roles.mask_id_number("360426195001100071") == "360426********0071"
    today = dt.date.today()
    assert roles.mask_birth_date(dt.date(today.year - 70, today.month, today.day)) == "70岁"
    assert roles.mask_birth_date((dt.date(today.year - 70, today.month, today.day) + dt.timedelta(days=1))
                                 .isoformat()) == "69岁"
    assert roles.mask_birth_date("") == ""
    assert roles.mask_phone("13812341234") == "138****1234"
    assert roles.mask_id_number("") == "" and roles.mask_phone(None) == ""


# --- audit ------------------------------------------------------------------------------------------
def test_viewing_a_resident_writes_access_log(region):
    c = client_for("ts")
    r = resident(SIBLING)
    assert c.get(f"/admin/records/resident/{r.pk}/change/").status_code == 200
    log = m.AccessLog.objects.get(resident=r)
    assert log.user.username == "ts" and log.purpose == "查看档案"
    assert log.path == f"/admin/records/resident/{r.pk}/change/"


# --- permissions ------------------------------------------------------------------------------------
def test_nobody_can_delete(region):
    r = resident(OWN)
    for username in ("vd", "ta", "sa"):
        c = client_for(username)
        assert c.get(f"/admin/records/resident/{r.pk}/delete/").status_code == 403
        html = c.get("/admin/records/resident/").content.decode()
        assert "delete_selected" not in html
    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)
    assert superuser
    c = client_for("root")
    assert c.get(f"/admin/records/resident/{r.pk}/delete/").status_code == 403
    assert m.Resident.objects.filter(pk=r.pk).exists()


@pytest.mark.parametrize("username", ["sup", "ev"])
def test_supervisor_and_evaluator_are_read_only(region, username):
    c = client_for(username)
    r = resident(OWN)
    assert c.get("/admin/records/resident/add/").status_code == 403
    response = c.post(f"/admin/records/resident/{r.pk}/change/", _resident_form(record_no=OWN, name="改名"))
    assert response.status_code == 403
    assert resident(OWN).name != "改名"


def test_township_admin_manages_staff_village_doctor_does_not(region):
    assert client_for("ta").get("/admin/records/staff/add/").status_code == 200
    assert client_for("vd").get("/admin/records/staff/add/").status_code == 403
    html = client_for("ta").get("/admin/records/staff/add/").content.decode()
    role_select = re.search(r'<select name="role".*?</select>', html, re.S).group(0)
    assert "系统管理员" not in role_select and "乡村医生" in role_select


def test_groups_are_idempotent(db):
    roles.ensure_groups()
    first = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in roles.role_groups()}
    roles.ensure_groups()
    second = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in roles.role_groups()}
    assert first == second and len(first) == len(v.Role)
    assert not any(code.startswith("delete_") for codes in first.values() for code in codes)
    assert "change_resident" in first["乡村医生"] and "change_resident" not in first["县市督导员"]


# --- close action -----------------------------------------------------------------------------------
def test_close_action_closes_through_entry(region):
    c = client_for("vd")
    r = resident(OWN)
    response = c.post("/admin/records/resident/", {
        "action": "close_residents", "_selected_action": [r.pk], "index": "0"})
    assert response.status_code == 200
    assert "确认结案" in response.content.decode()
    response = c.post("/admin/records/resident/", {
        "action": "close_residents", "_selected_action": [r.pk], "apply": "1", "select_across": "0",
        "status": "dead", "on": "2024-05-01", "reason": "病故，民政数据核实"})
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.status == "dead" and r.status_date.isoformat() == "2024-05-01"
    assert m.ChangeLog.objects.filter(model="records.Resident", object_pk=str(r.pk), action="close").exists()


def test_changelist_query_count_does_not_grow_with_rows(region):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for("sa")

    def queries_for_list() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = c.get("/admin/records/chronicfollowup/")
        assert response.status_code == 200
        return len(ctx.captured_queries), result_rows(response.content.decode())

    few_queries, few_rows = queries_for_list()
    # Twelve more follow-ups: a list that fetched a row's resident, unit or doctor one line at a time (N+1)
    # would issue at least twelve more queries.
    template = m.ChronicFollowUp.objects.order_by("pk").first()
    for i in range(12):
        clone = m.ChronicFollowUp.objects.get(pk=template.pk)
        clone.pk = None
        clone.encounter_no = f"F-EXTRA-{i}"
        clone.save()
    many_queries, many_rows = queries_for_list()
    assert many_rows == few_rows + 12
    assert many_queries == few_queries, (few_queries, many_queries)


# --- every page renders ------------------------------------------------------------------------------
def _registered_models():
    from django.contrib import admin

    return [model for model in admin.site._registry if model._meta.app_label in ("records", "synth")]


def test_every_records_model_is_registered():
    from django.apps import apps
    from django.contrib import admin

    missing = [model.__name__ for model in apps.get_app_config("records").get_models()
               if model not in admin.site._registry]
    assert missing == []
    assert m.Resident in admin.site._registry and "synth" in {mdl._meta.app_label for mdl in _registered_models()}


@pytest.mark.parametrize("username", ["vd", "sup", "sa"])
def test_every_admin_page_renders(region, username):
    c = client_for(username)
    user = get_user_model().objects.get(username=username)
    for model in _registered_models():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        can_view = user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        can_add = user.has_perm(f"{opts.app_label}.add_{opts.model_name}") and opts.model_name not in (
            "changelog", "accesslog", "loadbatch", "injectedproblem")
        response = c.get(base)
        assert response.status_code == (200 if can_view else 403), (base, response.status_code)
        response = c.get(base + "add/")
        assert response.status_code == (200 if can_add else 403), (base + "add/", response.status_code)
        obj = model._default_manager.order_by("pk").first()
        if obj is not None and can_view:
            response = c.get(f"{base}{obj.pk}/change/")
            assert response.status_code in (200, 302), (base, obj.pk)


def test_add_encounter_through_the_form(region):
    c = client_for("vd")
    r = resident(OWN)
    unit = r.managing_unit
    response = c.post("/admin/records/chronicfollowup/add/", {
        "encounter_no": "F-NEW-1", "resident": r.pk, "org_unit": unit.pk, "provider": "", "service_date": "2024-06-01",
        "entered_at_0": "", "entered_at_1": "", "enrollment": "", "program": "hypertension", "mode": "2",
        "sbp": "150", "dbp": "95",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    fu = m.ChronicFollowUp.objects.get(encounter_no="F-NEW-1")
    assert fu.entered_at is not None and fu.sbp == 150
    assert m.ChangeLog.objects.filter(model="records.ChronicFollowUp", object_pk=str(fu.pk), action="create").exists()


def test_system_admin_moves_a_unit_and_the_subtree_follows(region):
    c = client_for("sa")
    village = m.OrgUnit.objects.get(code="360426100202")
    other_township = m.OrgUnit.objects.get(code="360426200000")
    response = c.post(f"/admin/records/orgunit/{village.pk}/change/", {
        "institution_code": "", "name": village.name, "level": "village", "kind": "village_clinic",
        "parent": other_township.pk, "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    village.refresh_from_db()
    assert village.parent == other_township and village.path == f"{other_township.path}{village.pk}/"
    # the township staff of 蒲亭镇 no longer see 南门村's residents; 高塘乡 does
    assert result_rows(client_for("ts").get("/admin/records/resident/").content.decode()) == 3
    assert m.ChangeLog.objects.filter(model="records.OrgUnit", action="move").exists()


def test_township_admin_adds_staff_in_subtree_only(region):
    c = client_for("ta")
    village = m.OrgUnit.objects.get(code="360426100202")
    response = c.post("/admin/records/staff/add/", {
        "code": "S-NEW", "name": "新村医", "role": "village_doctor", "org_unit": village.pk, "phone": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert m.Staff.objects.get(code="S-NEW").org_unit == village
    response = c.post("/admin/records/staff/add/", {
        "code": "S-NEW2", "name": "越权", "role": "system_admin", "org_unit": village.pk, "phone": ""})
    assert response.status_code == 200 and not m.Staff.objects.filter(code="S-NEW2").exists()


def test_edit_record_whose_times_have_microseconds(region):
    """Rows loaded in bulk keep sub-second times; editing them in a form must still pass the entry layer."""
    import datetime as dt

    fu = m.ChronicFollowUp.objects.get(encounter_no=f"F-{OWN}")
    stamp = dt.datetime(2024, 3, 1, 9, 15, 30, 123456, tzinfo=dt.UTC)
    m.ChronicFollowUp.objects.filter(pk=fu.pk).update(entered_at=stamp)
    c = client_for("vd")
    response = c.post(f"/admin/records/chronicfollowup/{fu.pk}/change/", {
        "resident": fu.resident_id, "org_unit": fu.org_unit_id, "provider": "", "service_date": "2024-03-01",
        "entered_at_0": "2024-03-01", "entered_at_1": "17:15:30", "enrollment": fu.enrollment_id,
        "program": "hypertension", "mode": "1", "sbp": "141", "dbp": "88"})
    assert response.status_code == 302, response.content.decode()[:2000]
    fu.refresh_from_db()
    assert fu.sbp == 141 and fu.entered_at == stamp  # untouched field kept exactly, not re-rounded
    log = m.ChangeLog.objects.get(model="records.ChronicFollowUp", object_pk=str(fu.pk), action="update")
    assert log.before == {"sbp": 142} and log.after == {"sbp": 141}


def test_health_record_page_masks_contact_phone_and_logs_the_view(region):
    r = resident(OWN)
    phone = m.HealthRecord.objects.get(pk=r.pk).contact_phone
    html = client_for("sup").get("/admin/records/healthrecord/").content.decode()
    assert phone not in html and roles.mask_phone(phone) in html
    assert phone in client_for("ts").get("/admin/records/healthrecord/").content.decode()
    assert client_for("sup").get(f"/admin/records/healthrecord/{r.pk}/change/").status_code == 200
    assert m.AccessLog.objects.filter(resident=r, user__username="sup", purpose="查看档案").count() == 1
