from django.urls import path

from serviceloop.experience import alert_views

app_name = "experience"

urlpatterns = [
    path("alerts/", alert_views.alert_list, name="alert_list"),
    path("alerts/<str:public_id>/", alert_views.alert_detail, name="alert_detail"),
    path("alerts/<str:public_id>/acknowledge", alert_views.alert_acknowledge, name="alert_acknowledge"),
]
