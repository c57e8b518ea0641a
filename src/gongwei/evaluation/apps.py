from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "gongwei.evaluation"
    verbose_name = "绩效评价"
    default_auto_field = "django.db.models.BigAutoField"
