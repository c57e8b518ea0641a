import pytest

pytestmark = pytest.mark.django_db


def test_chinese_by_default_even_for_an_english_browser(client):
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert page.status_code == 200 and page.headers["Content-Language"] == "zh-hans"
    assert "登录" in page.content.decode()


def test_english_when_chosen(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"})
    page = client.get("/admin/login/")
    assert page.headers["Content-Language"] == "en" and "Log in" in page.content.decode()
