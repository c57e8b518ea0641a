from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "gongwei.synth"
    verbose_name = "合成数据"
    default_auto_field = "django.db.models.BigAutoField"
