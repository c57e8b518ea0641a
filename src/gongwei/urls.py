from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),  # system administrators only (records.admin)
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: switch to English and back
    path("", include("gongwei.web.urls")),
]

handler404 = "gongwei.web.views.not_found"
handler403 = "gongwei.web.views.forbidden"
handler500 = "gongwei.web.views.server_error"
