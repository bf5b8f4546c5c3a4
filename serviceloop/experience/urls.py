from django.urls import include, path

from serviceloop.experience import alert_views, report_views, views, xla_views

app_name = "experience"

urlpatterns = [
    path("trust/", include("serviceloop.experience.trust_urls")),
    path("services/<str:public_id>/", views.service_page, name="service"),
    path("organisations/<str:public_id>/", views.organisation_page, name="organisation"),
    path("mine/", views.my_organisation, name="mine"),
    path("alerts/", alert_views.alert_list, name="alert_list"),
    path("alerts/<str:public_id>/", alert_views.alert_detail, name="alert_detail"),
    path("alerts/<str:public_id>/acknowledge", alert_views.alert_acknowledge, name="alert_acknowledge"),
    path("reports/", report_views.report_list, name="report_list"),
    path("reports/new/", report_views.report_request, name="report_request"),
    path("reports/<str:public_id>/", report_views.report_detail, name="report_detail"),
    path("reports/<str:public_id>/pdf/", report_views.report_pdf, name="report_pdf"),
    path("reports/<str:public_id>/regenerate/", report_views.report_regenerate, name="report_regenerate"),
    path("xlas/", xla_views.xla_list, name="xla_list"),
    path("xlas/new/", xla_views.xla_create, name="xla_create"),
    path("xlas/<str:public_id>/", xla_views.xla_detail, name="xla_detail"),
    path("xlas/<str:public_id>/edit/", xla_views.xla_edit, name="xla_edit"),
    path("xlas/<str:public_id>/evaluate/", xla_views.xla_evaluate, name="xla_evaluate"),
    path("xlas/<str:public_id>/archive/", xla_views.xla_archive, name="xla_archive"),
]
