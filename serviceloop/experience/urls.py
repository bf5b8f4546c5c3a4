from django.urls import path

from serviceloop.experience import xla_views

app_name = "experience"

urlpatterns = [
    path("xlas/", xla_views.xla_list, name="xla_list"),
    path("xlas/new/", xla_views.xla_create, name="xla_create"),
    path("xlas/<str:public_id>/", xla_views.xla_detail, name="xla_detail"),
    path("xlas/<str:public_id>/edit/", xla_views.xla_edit, name="xla_edit"),
    path("xlas/<str:public_id>/evaluate/", xla_views.xla_evaluate, name="xla_evaluate"),
    path("xlas/<str:public_id>/archive/", xla_views.xla_archive, name="xla_archive"),
]
