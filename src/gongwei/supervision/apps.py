from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "gongwei.supervision"
    verbose_name = "督导整改与基础数据"
    default_auto_field = "django.db.models.BigAutoField"
