from serviceloop.core.navigation import NavItem

ITEMS = [NavItem("Feedback", "feedback:home", audience="staff", order=400)]
