"""Evaluation pages (web/pages/evaluation.py): rounds → a round → a unit → the people behind a lost point; each
page as every role (the scope sweep's equivalent for URLs keyed by round) and the evaluator's journey in a browser."""

from __future__ import annotations

import pytest

from gongwei.service import access, results
from gongwei.service import evaluation as sev
from gongwei.spec.periods import parse
from tests.test_admin import LOGINS, ORG_UNITS
from tests.test_evaluation_rounds import COUNTY, GAOTANG, PUTING, enter_all, scheme  # noqa: F401
from tests.web_fixtures import browser_as, client_for, make_dashboard_region, screenshot_path

PARENT = {c: p for c, _n, _l, _k, p in ORG_UNITS}
OWN = {u: c for u, _r, c in LOGINS}


def _region_with_round():
    from gongwei.service import snapshots

    made = make_dashboard_region(periods=("2025",))
    results.qc_tally(snapshots.engine(made["snapshot"].folder), parse("2025"), ["C-06"])
    ev = access.for_user(made["users"]["ev"])
    rnd = sev.create_round(ev, "t-2025", 2025, "year_end", COUNTY)
    enter_all(ev, rnd)
    sev.score_round(ev, rnd.pk)
    made["round"] = rnd
    return made


@pytest.fixture
def scored(db, fast_passwords, scheme):  # noqa: F811
    return _region_with_round()


@pytest.fixture
def live_scored(transactional_db, fast_passwords, scheme):  # noqa: F811
    return _region_with_round()


def _above_or_at(username: str, code: str) -> bool:
    """The login's unit is the unit or above it."""
    own = OWN[username]
    while code:
        if code == own:
            return True
        code = PARENT.get(code, "")
    return username == "sa"


def test_every_round_page_as_every_role_on_every_unit(scored):
    rnd = scored["round"]
    for username, _role, _own in LOGINS:
        c = client_for(username)
        listed = c.get("/evaluation/")
        assert listed.status_code == 200
        sees_units = [u for u in (PUTING, GAOTANG) if _above_or_at(username, u)]
        expected = 200 if sees_units else 403
        for url in (f"/evaluation/{rnd.pk}/", f"/evaluation/{rnd.pk}/export.xlsx"):
            status = c.get(url).status_code
            assert status == expected, f"{username} {url}: {status}"
        for code, *_ in ORG_UNITS:
            status = c.get(f"/evaluation/{rnd.pk}/unit/?unit={code}").status_code
            if not _above_or_at(username, code):
                assert status == 403, f"{username} unit {code}: {status}"
            else:  # inside the subtree: a scored unit is shown; another unit is not one of the round's (404), unless
                # the login sees none of the round's units at all (403, like the round page)
                want = 200 if code in (PUTING, GAOTANG) else (404 if sees_units else 403)
                assert status == want, f"{username} unit {code}: {status}"
        if sees_units:
            page = c.get(f"/evaluation/{rnd.pk}/").content.decode()
            others = {PUTING: "蒲亭镇卫生院", GAOTANG: "高塘乡卫生院"}
            for u, name in others.items():
                assert (name in page) == (u in sees_units), (username, u)


def test_the_unit_page_links_each_lost_point_to_its_people(scored):
    rnd = scored["round"]
    c = client_for("ev")
    html = c.get(f"/evaluation/{rnd.pk}/unit/?unit={PUTING}").content.decode()
    assert "高血压规范管理" in html and "现场核查问题" in html
    assert f'href="/unit/{PUTING}/indicators/H2/gaps/?period=2025"' in html or "H2：" in html
    assert f'href="/unit/{PUTING}/findings/?rule=C-06"' in html
    assert c.get(f"/evaluation/{rnd.pk}/unit/").status_code == 400
    assert c.get("/evaluation/999/").status_code == 404


def test_evaluator_journey_round_unit_item_people(live_scored, live_server, chromium, tmp_path):
    rnd = live_scored["round"]
    with browser_as(chromium, live_server, "ev") as (page, offsite):
        page.goto(f"{live_server.url}/evaluation/")
        page.click(f"a[href='/evaluation/{rnd.pk}/']")
        page.wait_for_load_state("networkidle")
        assert "绩效评价情况表" in page.content()
        page.screenshot(path=str(screenshot_path(tmp_path, "evaluation_round")), full_page=False)
        page.click("text=蒲亭镇卫生院")
        page.wait_for_load_state("networkidle")
        assert "总分" in page.content()
        page.screenshot(path=str(screenshot_path(tmp_path, "evaluation_unit")), full_page=True)
        link = page.locator("a", has_text="缺口人员").first
        if link.count():
            link.click()
            page.wait_for_load_state("networkidle")
            assert page.url.startswith(f"{live_server.url}/unit/{PUTING}/indicators/")
            page.screenshot(path=str(screenshot_path(tmp_path, "evaluation_people")), full_page=False)
        assert offsite == []


# --- the evaluator's actions on the web (i12funds): manual entry with evidence, scoring, publication, correction ---
@pytest.fixture
def evidence_dir():
    from gongwei.service import snapshots

    return snapshots.data_dir() / "evidence"  # the snapshots' data folder, which the test session makes its own


def test_manual_entry_with_evidence_keeps_history_and_refuses_bad_input(scored, evidence_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gongwei.evaluation import models as em

    rnd = scored["round"]
    c = client_for("ev")
    url = f"/evaluation/{rnd.pk}/manual/"
    form = c.get(url, {"unit": PUTING, "item": "A1"}).content.decode()
    # enter_all gave A1 = 8: the form offers a change (reason required) and lists that entry as current
    assert "修改评分" in form and "培训记录齐全" in form and 'name="reason"' in form
    # a change without a reason: refused, naming the item and the rule; nothing written
    before = em.ManualScore.objects.filter(round=rnd).count()
    got = c.post(url, {"unit": PUTING, "item": "A1", "value": "9", "note": "复核"})
    assert got.status_code == 400 and "项目 A1 已录入 8" in got.content.decode() and "修改须说明原因" in got.content.decode()
    # A1 is worth 10 points: 10.5 is outside 0–10
    got = c.post(url, {"unit": PUTING, "item": "A1", "value": "10.5", "note": "复核", "reason": "r"})
    assert got.status_code == 400 and "超出范围（0–10）" in got.content.decode()
    # an executable is no evidence
    exe = SimpleUploadedFile("run.exe", b"MZ")
    got = c.post(url, {"unit": PUTING, "item": "A1", "value": "9", "note": "复核", "reason": "r", "evidence": exe})
    assert got.status_code == 400 and "佐证文件类型“.exe”不允许" in got.content.decode()
    assert em.ManualScore.objects.filter(round=rnd).count() == before
    # a good change with a scanned record: stored in the round's folder, owner-only, the name without its path
    scan = SimpleUploadedFile("../../督导记录.pdf", b"%PDF-1.4 scan", content_type="application/pdf")
    got = c.post(url, {"unit": PUTING, "item": "A1", "value": "9", "note": "补交督导记录", "reason": "复核后加 1 分",
                       "evidence": scan})
    assert got.status_code == 302 and got["Location"].endswith(f"?unit={PUTING}#item-A1")
    rows = list(em.ManualScore.objects.filter(round=rnd, org_unit__code=PUTING, item="A1").order_by("pk"))
    assert [r.value for r in rows] == [8, 9] and rows[0].superseded_by_id == rows[1].pk
    assert rows[1].reason == "复核后加 1 分" and rows[1].file.endswith("-督导记录.pdf")
    stored = evidence_dir / f"round-{rnd.pk}" / rows[1].file
    assert stored.read_bytes() == b"%PDF-1.4 scan" and stored.stat().st_mode & 0o777 == 0o600
    download = c.get(f"/evaluation/{rnd.pk}/evidence/{rows[1].pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 scan"
    from urllib.parse import quote

    assert download["Content-Disposition"].endswith(quote("督导记录.pdf"))  # the name without the stored prefix
    # the entry made by the CLI names a file kept elsewhere: no download, a Chinese 404
    assert c.get(f"/evaluation/{rnd.pk}/evidence/{rows[0].pk}/").status_code == 404
    history = c.get(url, {"unit": PUTING, "item": "A1"}).content.decode()
    # two entries: the CLI's 8 (replaced) and the web's 9 (current)
    assert history.count("已被替换") == 1 and history.count('class="met">当前') == 1 and "复核后加 1 分" in history


def test_only_an_evaluator_enters_and_a_unit_sees_only_its_own_evidence(scored, evidence_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rnd = scored["round"]
    ev = client_for("ev")
    scan = SimpleUploadedFile("公开截图.png", b"\x89PNG...")
    ev.post(f"/evaluation/{rnd.pk}/manual/", {"unit": GAOTANG, "item": "D1", "value": "1", "note": "网站截图",
                                               "reason": "补佐证", "evidence": scan})
    from gongwei.evaluation import models as em

    entry = em.ManualScore.objects.get(round=rnd, org_unit__code=GAOTANG, item="D1", superseded_by__isnull=True)
    ta = client_for("ta")  # the township admin of 蒲亭镇: sees its own items, enters nothing
    page = ta.get(f"/evaluation/{rnd.pk}/manual/", {"unit": PUTING, "item": "A1"})
    assert page.status_code == 200 and "只能由绩效评价员录入" in page.content.decode()
    assert 'id="manual-form"' not in page.content.decode()
    got = ta.post(f"/evaluation/{rnd.pk}/manual/", {"unit": PUTING, "item": "A1", "value": "10", "note": "自评",
                                                     "reason": "r"})
    assert got.status_code == 403 and "只能由绩效评价员或系统管理员进行" in got.content.decode()
    for action in ("score", "publish"):
        assert ta.post(f"/evaluation/{rnd.pk}/{action}/").status_code == 403
    # the neighbour's evidence and its entry form are outside 蒲亭镇's subtree
    assert ta.get(f"/evaluation/{rnd.pk}/evidence/{entry.pk}/").status_code == 403
    assert ta.get(f"/evaluation/{rnd.pk}/manual/", {"unit": GAOTANG, "item": "D1"}).status_code == 403
    assert client_for("sup").get(f"/evaluation/{rnd.pk}/evidence/{entry.pk}/").status_code == 200


def test_score_publish_lock_and_correct_on_the_web(scored, evidence_dir):
    from gongwei.evaluation import models as em

    rnd = scored["round"]
    c = client_for("ev")
    page = c.get(f"/evaluation/{rnd.pk}/").content.decode()
    assert 'id="publish-round"' in page and 'id="score-round"' in page
    c.post(f"/evaluation/{rnd.pk}/manual/", {"unit": PUTING, "item": "C2", "value": "2", "note": "入户核查 2 处",
                                              "reason": "补查一户"})
    # an entry after the scoring: publication is refused until the round is scored again
    got = c.post(f"/evaluation/{rnd.pk}/publish/", follow=True)
    assert "请重新评分后再发布" in got.content.decode()
    assert em.Round.objects.get(pk=rnd.pk).status == "draft"
    scored_now = c.post(f"/evaluation/{rnd.pk}/score/", follow=True).content.decode()
    assert "已评分：2 个单位，待录入人工评分项 0 个" in scored_now, scored_now[-3000:]
    # C2 deducts 2 points per verified problem, floor 1 of its 10: 2 problems → 10 − 4 = 6
    unit = c.get(f"/evaluation/{rnd.pk}/unit/", {"unit": PUTING}).content.decode()
    assert "核实问题 2 个，扣 4 分：入户核查 2 处" in unit
    got = c.post(f"/evaluation/{rnd.pk}/publish/", follow=True)
    assert "已发布，本轮结果已锁定" in got.content.decode()
    published = em.Round.objects.get(pk=rnd.pk)
    assert published.status == "published" and published.published_by.startswith("ev")
    page = c.get(f"/evaluation/{rnd.pk}/").content.decode()
    assert 'id="publish-round"' not in page and 'id="correct-round"' in page
    got = c.post(f"/evaluation/{rnd.pk}/manual/", {"unit": PUTING, "item": "C2", "value": "0", "note": "x",
                                                    "reason": "y"})
    assert got.status_code == 403 and "已发布的考核轮次不能修改，请新建一轮更正" in got.content.decode()
    assert c.post(f"/evaluation/{rnd.pk}/score/").status_code == 403
    assert c.post(f"/evaluation/{rnd.pk}/correct/", {"note": " "}).status_code == 400
    c.post(f"/evaluation/{rnd.pk}/correct/", {"note": "蒲亭镇C2复核为1处"})
    fixed = em.Round.objects.get(corrects=rnd)
    assert fixed.status == "draft" and fixed.note == "蒲亭镇C2复核为1处"
    assert f"更正第 {rnd.pk} 轮：蒲亭镇C2复核为1处" in c.get("/evaluation/").content.decode()


def test_evaluator_enters_a_manual_score_and_publishes_in_a_browser(live_scored, live_server, chromium, tmp_path):
    rnd = live_scored["round"]
    scan = tmp_path / "核查记录.pdf"
    scan.write_bytes(b"%PDF-1.4 check")
    with browser_as(chromium, live_server, "ev") as (page, offsite):
        page.goto(f"{live_server.url}/evaluation/{rnd.pk}/")
        page.click("text=蒲亭镇卫生院")
        page.wait_for_load_state("networkidle")
        page.locator("#item-C2 a.manual-link").click()
        page.wait_for_load_state("networkidle")
        assert "录入历史" in page.content()
        page.fill("input[name=value]", "3")
        page.fill("textarea[name=note]", "入户核查发现 3 处随访记录与实际不符")
        page.fill("input[name=reason]", "复核增加 2 处")
        page.set_input_files("input[name=evidence]", str(scan))
        page.screenshot(path=str(screenshot_path(tmp_path, "evaluation_manual")), full_page=True)
        page.click("#save-manual")
        page.wait_for_load_state("networkidle")
        assert "已保存，重新评分后计入得分" in page.content()
        page.click(f"a[href='/evaluation/{rnd.pk}/']")
        page.click("#score-round")
        page.wait_for_load_state("networkidle")
        page.click("text=蒲亭镇卫生院")
        page.wait_for_load_state("networkidle")
        # 3 verified problems × 2 points = 6 lost of C2's 10 (floor 1 not reached)
        assert "核实问题 3 个，扣 6 分" in page.content()
        assert page.locator("#item-C2 a", has_text="佐证").count() == 1
        page.click(f"a[href='/evaluation/{rnd.pk}/']")
        page.click("#publish-round")
        page.wait_for_load_state("networkidle")
        assert "已发布，本轮结果已锁定" in page.content()
        page.screenshot(path=str(screenshot_path(tmp_path, "evaluation_published")), full_page=False)
        assert offsite == []
