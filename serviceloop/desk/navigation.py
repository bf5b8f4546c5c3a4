from serviceloop.core.links import ObjectLink
from serviceloop.core.navigation import NavItem

ITEMS = [
    NavItem("Queue", "desk:queue", audience="staff", order=30),
    NavItem("My tickets", "desk:portal", audience="customer", order=10),
    NavItem("New ticket", "desk:portal_new", audience="customer", order=20),
]

# The desk's pages about objects of lower apps (rendered there by `{% object_links obj %}`).
OBJECT_LINKS = [
    ObjectLink(
        "catalogue.service", "Tickets", "desk:queue", query={"service": "public_id"}, constants={"queue": "all"}
    ),
    ObjectLink(
        "accounts.organisation",
        "Tickets",
        "desk:queue",
        query={"organisation": "public_id"},
        constants={"queue": "all"},
    ),
    ObjectLink(
        "relationships.person", "Tickets", "desk:queue", query={"requester": "public_id"}, constants={"queue": "all"}
    ),
    ObjectLink("relationships.person", "New ticket", "desk:ticket_new", query={"requester": "public_id"}, order=101),
]
