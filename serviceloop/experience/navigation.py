from serviceloop.core.links import ObjectLink
from serviceloop.core.navigation import NavItem

ITEMS = [
    # Customers see the XLAs of their own organisation's relationships (read-only).
    NavItem("XLAs", "experience:xla_list", audience="all", order=35),
]

OBJECT_LINKS = [
    ObjectLink("catalogue.service", "XLAs", "experience:xla_list", query={"service": "public_id"}, order=20),
]
