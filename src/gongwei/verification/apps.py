from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "gongwei.verification"
    verbose_name = "抽样核查"
    default_auto_field = "django.db.models.BigAutoField"
