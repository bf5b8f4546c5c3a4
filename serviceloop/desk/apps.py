from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "serviceloop.desk"
    label = "desk"
    verbose_name = "Desk"

    def ready(self) -> None:
        from serviceloop.desk import mail_receivers

        mail_receivers.connect()
