"""Public status subscription pages, mounted at /status/subscribe/ (namespace status_subscribe)."""

from django.urls import path

from serviceloop.incidents import subscription_views as views

app_name = "status_subscribe"

urlpatterns = [
    path("", views.subscribe, name="subscribe"),
    path("webhook/", views.webhook_subscribe, name="webhook_subscribe"),
    path("sent/", views.sent, name="sent"),
    path("confirm/<str:signed>/", views.confirm, name="confirm"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("webhooks/", views.webhooks, name="webhooks"),
]
