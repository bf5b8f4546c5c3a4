from django.apps import AppConfig


class ExperienceConfig(AppConfig):
    name = "serviceloop.experience"
    label = "experience"
    verbose_name = "Experience"
