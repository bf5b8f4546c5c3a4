from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "serviceloop.desk"
    label = "desk"
    verbose_name = "Desk"

    def ready(self) -> None:
        # Registers the desk's own subscribers (outbound mail) with the core event outbox.
        from serviceloop.core.subjects import subject_page
        from serviceloop.desk import mail_receivers  # noqa: F401

        # The event log links a ticket's events to its staff page.
        subject_page("desk.ticket", "desk:ticket")
