from django.contrib.auth import views as auth_views
from django.urls import path

from gongwei.web import views
from gongwei.web.pages import residents as resident_pages

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("unit/<str:code>/", views.unit, name="unit"),
    # issue 11 (1–2): find a resident, the record's home page
    path("residents/", resident_pages.search, name="residents"),
    path("resident/<str:record_no>/", resident_pages.record, name="resident"),
]
