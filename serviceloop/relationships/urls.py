from django.urls import path

from serviceloop.relationships import views

app_name = "relationships"

urlpatterns = [
    path("", views.relationship_list, name="relationship_list"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/<str:public_id>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<str:public_id>/edit/", views.organisation_edit, name="organisation_edit"),
    path("organisations/<str:public_id>/people/new/", views.person_create, name="person_create"),
    path("organisations/<str:public_id>/relationships/new/", views.relationship_create, name="relationship_create"),
    path("people/", views.person_list, name="person_list"),
    path("people/<str:public_id>/", views.person_detail, name="person_detail"),
    path("people/<str:public_id>/edit/", views.person_edit, name="person_edit"),
    path("<str:public_id>/", views.relationship_detail, name="relationship_detail"),
    path("<str:public_id>/status/", views.relationship_status, name="relationship_status"),
    path("<str:public_id>/roles/grant/", views.role_grant, name="role_grant"),
    path("<str:public_id>/roles/revoke/", views.role_revoke, name="role_revoke"),
]
