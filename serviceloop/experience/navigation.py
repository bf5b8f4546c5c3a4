from serviceloop.core.links import ObjectLink
from serviceloop.core.navigation import NavItem
from serviceloop.experience.alert_queries import open_alert_count

ITEMS = [
    NavItem("Reviews", "experience:report_list", audience="staff", order=410),
    # Trust per relationship (docs/trust-pages.md): the provider's; customers see their own only when shown.
    NavItem("Trust", "experience:trust_list", audience="staff", order=420),
    NavItem("Alerts", "experience:alert_list", audience="staff", order=450, count=open_alert_count),
    # A customer's "Experience": their own organisation's page (experience:mine sends them there).
    NavItem("Experience", "experience:mine", audience="customer", order=30),
    NavItem("Service reviews", "experience:report_list", audience="customer", order=40),
    # Customers see the XLAs of their own organisation's relationships (read-only).
    NavItem("XLAs", "experience:xla_list", audience="all", order=35),
]

# Links from the catalogue's service page and the organisation's page to their experience pages, and
# the reviews of a service or a relationship (the list narrowed to it).
OBJECT_LINKS = [
    ObjectLink("catalogue.service", "Experience", "experience:service", args=("public_id",), order=5),
    ObjectLink("accounts.organisation", "Experience", "experience:organisation", args=("public_id",), order=5),
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
    ObjectLink("catalogue.service", "XLAs", "experience:xla_list", query={"service": "public_id"}, order=21),
]
