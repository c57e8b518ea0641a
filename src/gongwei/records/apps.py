from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "gongwei.records"
    verbose_name = "居民健康档案"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from gongwei.records import lookups

        lookups.register()
