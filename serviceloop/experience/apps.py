from django.apps import AppConfig


class ExperienceConfig(AppConfig):
    name = "serviceloop.experience"
    label = "experience"
    verbose_name = "Experience"

    def ready(self) -> None:
        from serviceloop.experience import receivers  # noqa: F401  (registers the event subscribers)
