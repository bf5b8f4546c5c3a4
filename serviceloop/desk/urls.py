from django.urls import path

from serviceloop.desk import views

app_name = "desk"

urlpatterns = [
    path("portal/", views.portal, name="portal"),
    path("portal/new/", views.portal_new, name="portal_new"),
    path("portal/tickets/<str:public_id>/", views.portal_ticket, name="portal_ticket"),
    path("portal/tickets/<str:public_id>/reply/", views.portal_reply, name="portal_reply"),
    path("portal/tickets/<str:public_id>/reopen/", views.portal_reopen, name="portal_reopen"),
    path("attachments/<str:public_id>/", views.attachment, name="attachment"),
    path("queue/", views.queue, name="queue"),
    path("queue/bulk/", views.bulk, name="bulk"),
    path("tickets/new/", views.ticket_new, name="ticket_new"),
    path("tickets/<str:public_id>/", views.ticket, name="ticket"),
    path("tickets/<str:public_id>/reply/", views.ticket_reply_view, name="ticket_reply"),
    path("tickets/<str:public_id>/assign/", views.ticket_assign_view, name="ticket_assign"),
    path("tickets/<str:public_id>/status/", views.ticket_status_view, name="ticket_status"),
    path("tickets/<str:public_id>/priority/", views.ticket_priority_view, name="ticket_priority"),
    path("tickets/<str:public_id>/move/", views.ticket_move_view, name="ticket_move"),
    path("mail-routes/", views.mail_routes, name="mail_routes"),
    path("mail-routes/<str:public_id>/", views.mail_route_edit, name="mail_route_edit"),
    path("mail-routes/<str:public_id>/delete/", views.mail_route_delete_view, name="mail_route_delete"),
]
