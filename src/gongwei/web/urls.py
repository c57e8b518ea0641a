from django.contrib.auth import views as auth_views
from django.urls import path

from gongwei.web import views
from gongwei.web.pages import quality as quality_pages

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("unit/<str:code>/", views.unit, name="unit"),
    # --- data quality (issue 10 point 4): scorecard, rectification ledger, duplicate queue, closing list ---
    path("unit/<str:code>/quality/", quality_pages.scorecard, name="quality"),
    path("unit/<str:code>/findings/", quality_pages.findings, name="quality-findings"),
    path("unit/<str:code>/duplicates/", quality_pages.duplicates, name="quality-duplicates"),
    path("unit/<str:code>/close/", quality_pages.close, name="quality-close"),
]
