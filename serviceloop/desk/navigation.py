from serviceloop.core.navigation import NavItem

ITEMS = [
    NavItem("Queue", "desk:queue", audience="staff", order=30),
    NavItem("My tickets", "desk:portal", audience="customer", order=10),
    NavItem("New ticket", "desk:portal_new", audience="customer", order=20),
]
