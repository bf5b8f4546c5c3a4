from serviceloop.core.navigation import NavItem
from serviceloop.experience.alert_queries import open_alert_count

ITEMS = [NavItem("Alerts", "experience:alert_list", audience="staff", order=450, count=open_alert_count)]
