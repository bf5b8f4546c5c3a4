from serviceloop.core.links import MailPart, ObjectLink, ObjectPanel
from serviceloop.core.navigation import NavItem

ITEMS = [NavItem("Feedback", "feedback:home", audience="staff", order=400)]

# Feedback's pages about a service, linked from the service's own page.
OBJECT_LINKS = [
    ObjectLink("catalogue.service", "Feedback", "feedback:service_stream", args=("public_id",), order=10),
    ObjectLink("catalogue.service", "Posts", "feedback:service_posts", args=("public_id",), order=11),
    ObjectLink("catalogue.service", "QR code", "feedback:service_qr", args=("public_id",), order=12),
    # The suppressed-invitation log, narrowed to the object whose page links to it.
    ObjectLink(
        "catalogue.service",
        "Suppressed invitations",
        "feedback:suppressed_list",
        query={"service": "public_id"},
        order=13,
    ),
    ObjectLink(
        "accounts.organisation",
        "Suppressed invitations",
        "feedback:suppressed_list",
        query={"organisation": "public_id"},
        order=40,
    ),
    ObjectLink(
        "relationships.person",
        "Suppressed invitations",
        "feedback:suppressed_list",
        query={"person": "public_id"},
        order=40,
    ),
]

# Feedback's block on the ticket page: was a survey invitation sent for it, and what came of it.
OBJECT_PANELS = [ObjectPanel("desk.ticket", "serviceloop.feedback.panels.ticket_survey")]

# Feedback's part of the desk's resolution notice: the survey's one-click buttons (one mail, not two).
MAIL_PARTS = [MailPart("desk.ticket_resolved", "serviceloop.feedback.mail_parts.resolution_survey")]
