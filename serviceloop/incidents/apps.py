from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "serviceloop.incidents"
    label = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from serviceloop.incidents import receivers  # noqa: F401  (registers the event subscribers)
