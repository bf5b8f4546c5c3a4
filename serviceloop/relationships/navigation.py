from serviceloop.core.navigation import NavItem

ITEMS = [NavItem("Organisations", "relationships:organisation_list", audience="staff", order=30)]
