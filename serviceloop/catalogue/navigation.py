from serviceloop.core.navigation import NavItem

ITEMS = [
    NavItem("Catalogue", "catalogue:service_list", audience="staff", order=20),
    NavItem("Our services", "catalogue:our_services", audience="customer", order=20),
]
