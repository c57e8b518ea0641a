from django.apps import AppConfig


class BulletinsConfig(AppConfig):
    name = "gongwei.bulletins"
    verbose_name = "通报"
    default_auto_field = "django.db.models.BigAutoField"
