from serviceloop.core.navigation import NavItem

ITEMS = [NavItem("API tokens", "accounts:tokens", audience="all", order=900)]
