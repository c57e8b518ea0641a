"""The web shell: login lands on one's own unit, the breadcrumb starts at it, other units are refused in Chinese."""

from __future__ import annotations

from tests.web_fixtures import (
    COUNTY,
    OTHER_TOWNSHIP,
    TOWNSHIP,
    VILLAGE,
    browser_as,
    client_for,
    screenshot_path,
)


def test_each_login_lands_on_its_own_unit(web_region):
    for username, unit in (("vd", VILLAGE), ("ts", TOWNSHIP), ("sup", COUNTY)):
        response = client_for(username).get("/")
        assert response.status_code == 302 and response["Location"] == f"/unit/{unit}/indicators/"


def test_a_unit_outside_the_login_is_a_chinese_403_and_an_unknown_one_a_404(web_region):
    c = client_for("ts")
    refused = c.get(f"/unit/{OTHER_TOWNSHIP}/")
    assert refused.status_code == 403 and "不在您的权限范围内" in refused.content.decode()
    missing = c.get("/unit/999999999999/")
    assert missing.status_code == 404 and "机构代码 999999999999 不存在" in missing.content.decode()


def test_breadcrumb_starts_at_the_login_unit(web_region):
    page = client_for("ts").get(f"/unit/{VILLAGE}/").content.decode()
    start = page.index('class="crumbs"')
    crumbs = page[start:page.index("</nav>", start)]
    assert "蒲亭镇卫生院" in crumbs and "北门村卫生室" in crumbs and "德安县" not in crumbs


def test_pages_need_a_login(web_region):
    from django.test import Client

    response = Client().get(f"/unit/{COUNTY}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_shell_in_a_real_browser_loads_nothing_from_another_host(chromium, live_server, live_dashboard_region,
                                                                   tmp_path):
    with browser_as(chromium, live_server, "sup") as (page, offsite):
        assert page.url.endswith(f"/unit/{COUNTY}/indicators/")
        assert "德安县" in page.inner_text("h1")
        bg = page.eval_on_selector(".topbar", "e => getComputedStyle(e).backgroundColor")
        assert bg not in ("rgba(0, 0, 0, 0)", "transparent")  # the local stylesheet applied
        page.screenshot(path=str(screenshot_path(tmp_path, "shell_supervisor")), full_page=True)
    assert offsite == [], f"requests left the local server: {offsite}"
