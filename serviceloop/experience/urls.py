from django.urls import path

from serviceloop.experience import report_views

app_name = "experience"

urlpatterns = [
    path("reports/", report_views.report_list, name="report_list"),
    path("reports/new/", report_views.report_request, name="report_request"),
    path("reports/<str:public_id>/", report_views.report_detail, name="report_detail"),
    path("reports/<str:public_id>/pdf/", report_views.report_pdf, name="report_pdf"),
    path("reports/<str:public_id>/regenerate/", report_views.report_regenerate, name="report_regenerate"),
]
