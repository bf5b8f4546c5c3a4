from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "serviceloop.desk"
    label = "desk"
    verbose_name = "Desk"

    def ready(self) -> None:
        # Registers the desk's subscribers with the core event outbox: its own (outbound mail) and
        # those to lower floors' events (search documents follow renamed people and organisations).
        from serviceloop.core.subjects import subject_page
        from serviceloop.desk import mail_receivers, receivers  # noqa: F401

        # The event log links a ticket's events to its staff page.
        subject_page("desk.ticket", "desk:ticket")
