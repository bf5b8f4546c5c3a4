from django.apps import AppConfig


class ChargingConfig(AppConfig):
    name = "serviceloop.charging"
    label = "charging"
    verbose_name = "Charging"
