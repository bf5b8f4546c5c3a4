from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "serviceloop.incidents"
    label = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        # Registers the incidents app's subscribers with the core event outbox.
        from serviceloop.incidents import receivers  # noqa: F401
