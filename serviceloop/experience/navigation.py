from serviceloop.core.links import ObjectLink
from serviceloop.core.navigation import NavItem

ITEMS = [
    NavItem("Reviews", "experience:report_list", audience="staff", order=410),
    NavItem("Service reviews", "experience:report_list", audience="customer", order=40),
]

# The reviews of a service or a relationship, linked from its page (the list narrowed to it).
OBJECT_LINKS = [
    ObjectLink(
        "catalogue.service", "Service reviews", "experience:report_list", query={"service": "public_id"}, order=20
    ),
    ObjectLink(
        "relationships.relationship",
        "Service reviews",
        "experience:report_list",
        query={"relationship": "public_id"},
        order=20,
    ),
]
