from django.urls import path

from serviceloop.experience import alert_views, xla_views

app_name = "experience"

urlpatterns = [
    path("alerts/", alert_views.alert_list, name="alert_list"),
    path("alerts/<str:public_id>/", alert_views.alert_detail, name="alert_detail"),
    path("alerts/<str:public_id>/acknowledge", alert_views.alert_acknowledge, name="alert_acknowledge"),
    path("xlas/", xla_views.xla_list, name="xla_list"),
    path("xlas/new/", xla_views.xla_create, name="xla_create"),
    path("xlas/<str:public_id>/", xla_views.xla_detail, name="xla_detail"),
    path("xlas/<str:public_id>/edit/", xla_views.xla_edit, name="xla_edit"),
    path("xlas/<str:public_id>/evaluate/", xla_views.xla_evaluate, name="xla_evaluate"),
    path("xlas/<str:public_id>/archive/", xla_views.xla_archive, name="xla_archive"),
]
