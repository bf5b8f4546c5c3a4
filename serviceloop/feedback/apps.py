from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "serviceloop.feedback"
    label = "feedback"
    verbose_name = "Feedback"
