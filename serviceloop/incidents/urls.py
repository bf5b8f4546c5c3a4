from django.urls import path

from serviceloop.incidents import maintenance_urls, review_urls, views, views_incident, views_portal

app_name = "incidents"

# Others append their pages' routes to this list (one `path` a line, by room); fixed words
# (declare/, link/, portal/) come before `<str:public_id>/`, which would take them.
urlpatterns = [
    # Staff: scheduled maintenance (maintenance/…)
    *maintenance_urls.urlpatterns,
    # Staff: post-incident reviews (reviews/, <id>/review/)
    *review_urls.urlpatterns,
    # Staff: the list, declaring, linking tickets
    path("", views.incident_list, name="list"),
    path("declare/", views.declare, name="declare"),
    path("link/", views.link_ticket_page, name="link"),
    # Customers: the portal's view
    path("portal/", views_portal.portal, name="portal"),
    path("portal/<str:public_id>/", views_portal.portal_incident, name="portal_incident"),
    # Staff: the working page of one incident
    path("<str:public_id>/", views_incident.incident, name="incident"),
    path("<str:public_id>/tickets/", views.link_tickets, name="link_tickets"),
    path("<str:public_id>/updates/", views_incident.update_post, name="update_post"),
    path("<str:public_id>/plans/<str:audience>/", views_incident.plan_set, name="plan_set"),
    path("<str:public_id>/steps/", views_incident.step_add, name="step_add"),
    path("<str:public_id>/steps/<str:step_id>/", views_incident.step_edit, name="step_edit"),
    path("<str:public_id>/eta/", views_incident.eta_set, name="eta_set"),
    path("<str:public_id>/publish-plan/", views_incident.plan_publish, name="plan_publish"),
    path("<str:public_id>/resolve/", views_incident.resolve, name="resolve"),
    path("<str:public_id>/change/", views_incident.change, name="change"),
]
