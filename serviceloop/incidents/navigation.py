from serviceloop.core.navigation import NavItem

ITEMS = [
    NavItem("Incident reviews", "incidents:reviews", audience="staff", order=36),
]
