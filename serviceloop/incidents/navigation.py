from serviceloop.core.links import ObjectLink, ObjectPanel
from serviceloop.core.navigation import NavItem

ITEMS = [
    NavItem("Incidents", "incidents:list", audience="staff", order=35),
    NavItem("Service status", "incidents:portal", audience="customer", order=25),
    NavItem("Incident reviews", "incidents:reviews", audience="staff", order=36),
    NavItem("Maintenance", "incidents:maintenance_list", audience="staff", order=40),
]

# Pages of lower apps that offer incidents (rendered there by `{% object_links obj %}`).
OBJECT_LINKS = [
    ObjectLink(
        "catalogue.service", "Incidents", "incidents:list", query={"service": "public_id"}, constants={"list": "all"}
    ),
    ObjectLink(
        "accounts.organisation",
        "Incidents",
        "incidents:list",
        query={"organisation": "public_id"},
        constants={"list": "all"},
    ),
    ObjectLink("desk.ticket", "Link to a major incident", "incidents:link", query={"ticket": "public_id"}),
    ObjectLink(
        "desk.ticket", "Declare a major incident from this ticket", "incidents:declare", query={"ticket": "public_id"}
    ),
]

# The ticket page (desk) shows the incident a ticket is linked to, or the two links above.
OBJECT_PANELS = [ObjectPanel("desk.ticket", "serviceloop.incidents.panels.ticket_panel", order=20)]
