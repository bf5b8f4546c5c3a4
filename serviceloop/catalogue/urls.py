from django.urls import path

from serviceloop.catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("", views.service_list, name="service_list"),
    path("new/", views.service_create, name="service_create"),
    path("ours/", views.our_services, name="our_services"),
    path("services/<str:public_id>/", views.service_detail, name="service_detail"),
    path("services/<str:public_id>/edit/", views.service_edit, name="service_edit"),
    path("services/<str:public_id>/offerings/new/", views.offering_create, name="offering_create"),
    path("offerings/<str:public_id>/", views.offering_detail, name="offering_detail"),
    path("offerings/<str:public_id>/edit/", views.offering_edit, name="offering_edit"),
    path("offerings/<str:public_id>/view/", views.offering_public, name="offering_public"),
    path("offerings/<str:public_id>/components/new/", views.component_create, name="component_create"),
    path("offerings/<str:public_id>/value/new/", views.value_item_create, name="value_item_create"),
    path("components/<str:public_id>/edit/", views.component_edit, name="component_edit"),
    path("components/<str:public_id>/delete/", views.component_delete, name="component_delete"),
    path("value/<str:public_id>/edit/", views.value_item_edit, name="value_item_edit"),
    path("value/<str:public_id>/delete/", views.value_item_delete, name="value_item_delete"),
]
