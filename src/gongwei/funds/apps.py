from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "gongwei.funds"
    verbose_name = "资金台账"
    default_auto_field = "django.db.models.BigAutoField"
