from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "gongwei.jobs"
    label = "jobs"
    verbose_name = "后台任务"
    default_auto_field = "django.db.models.BigAutoField"
