from django.urls import path

from serviceloop.incidents import maintenance_views as views

urlpatterns = [
    path("maintenance/", views.maintenance_list, name="maintenance_list"),
    path("maintenance/new/", views.maintenance_new, name="maintenance_new"),
    path("maintenance/<str:public_id>/", views.maintenance_detail, name="maintenance_detail"),
    path("maintenance/<str:public_id>/reschedule/", views.maintenance_reschedule, name="maintenance_reschedule"),
    path("maintenance/<str:public_id>/start/", views.maintenance_start, name="maintenance_start"),
    path("maintenance/<str:public_id>/verify/", views.maintenance_verify, name="maintenance_verify"),
    path("maintenance/<str:public_id>/complete/", views.maintenance_complete, name="maintenance_complete"),
    path("maintenance/<str:public_id>/cancel/", views.maintenance_cancel, name="maintenance_cancel"),
    path("maintenance/<str:public_id>/updates/", views.maintenance_update, name="maintenance_update"),
]
