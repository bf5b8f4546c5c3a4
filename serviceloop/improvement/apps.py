from django.apps import AppConfig


class ImprovementConfig(AppConfig):
    name = "serviceloop.improvement"
    label = "improvement"
    verbose_name = "Improvement"
