from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "serviceloop.feedback"
    label = "feedback"
    verbose_name = "Feedback"

    def ready(self) -> None:
        from serviceloop.feedback import receivers  # noqa: F401  (registers the event subscribers)
