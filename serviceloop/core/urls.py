from django.urls import path

from serviceloop.core import views

app_name = "core"

urlpatterns = [
    path("events/", views.event_log, name="event_log"),
    path("events/<str:subject_type>/<str:public_id>/", views.event_log, name="object_history"),
    path("operations/", views.operations, name="operations"),
    path("operations/mails/<str:public_id>/retry/", views.mail_retry_view, name="mail_retry"),
    path("operations/deliveries/<str:public_id>/retry/", views.delivery_retry_view, name="delivery_retry"),
]
