from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "serviceloop.incidents"
    label = "incidents"
    verbose_name = "Incidents"
