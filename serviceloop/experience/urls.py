from django.urls import path

from serviceloop.experience import views

app_name = "experience"

urlpatterns = [
    path("services/<str:public_id>/", views.service_page, name="service"),
    path("organisations/<str:public_id>/", views.organisation_page, name="organisation"),
    path("mine/", views.my_organisation, name="mine"),
]
