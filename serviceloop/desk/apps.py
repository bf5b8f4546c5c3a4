from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "serviceloop.desk"
    label = "desk"
    verbose_name = "Desk"
