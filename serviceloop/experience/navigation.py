from serviceloop.core.links import ObjectLink
from serviceloop.core.navigation import NavItem
from serviceloop.experience.alert_queries import open_alert_count

ITEMS = [
    NavItem("Alerts", "experience:alert_list", audience="staff", order=450, count=open_alert_count),
    # Customers see the XLAs of their own organisation's relationships (read-only).
    NavItem("XLAs", "experience:xla_list", audience="all", order=35),
]

OBJECT_LINKS = [
    ObjectLink("catalogue.service", "XLAs", "experience:xla_list", query={"service": "public_id"}, order=20),
]
