from serviceloop.core.navigation import NavItem

ITEMS = [
    NavItem("Organisations", "relationships:organisation_list", audience="staff", order=30),
    NavItem("People", "relationships:person_list", audience="staff", order=31),
    NavItem("Relationships", "relationships:relationship_list", audience="staff", order=32),
]
