from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "gongwei.quality"
    verbose_name = "数据质控"
    default_auto_field = "django.db.models.BigAutoField"
