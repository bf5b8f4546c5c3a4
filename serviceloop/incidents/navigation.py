from serviceloop.core.navigation import NavItem

ITEMS = [
    NavItem("Maintenance", "incidents:maintenance_list", audience="staff", order=40),
]
