from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "gongwei.web"
    label = "web"
    verbose_name = "网页"
