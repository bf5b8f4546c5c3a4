"""Demo staff logins and the consumer organisations (the tenants)."""

from __future__ import annotations

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.services import organisation_create, user_create
from serviceloop.core.demo import DEMO_PASSWORD, DemoContext

STAFF = [
    ("administrator", "admin@serviceloop.demo", "Ada Admin"),
    ("service_manager", "manager@serviceloop.demo", "Sam Manager"),
    ("service_manager", "priya.manager@serviceloop.demo", "Priya Natarajan"),
    ("agent", "agent@serviceloop.demo", "Alex Agent"),
    ("agent", "jo.agent@serviceloop.demo", "Jo Okafor"),
    ("agent", "lena.agent@serviceloop.demo", "Lena Fischer"),
]

ORGANISATIONS = [
    ("Acme Logistics", "acme.example"),
    ("Borealis Health", "borealis.example"),
    ("Cobalt Legal", "cobalt.example"),
    ("Dunmore Council", "dunmore.example"),
    ("Evergreen Foods", "evergreen.example"),
    ("Fjord Shipping", "fjord.example"),
    ("Granite Insurance", "granite.example"),
    ("Harbour University", "harbour.example"),
    ("Ivy Retail", "ivy.example"),
    ("Juniper Energy", "juniper.example"),
    ("Kestrel Media", "kestrel.example"),
    ("Lumen Architects", "lumen.example"),
]


def load(ctx: DemoContext) -> None:
    staff: dict[str, list[User]] = {}
    for role, email, name in STAFF:
        user = user_create(email=email, role=role, password=DEMO_PASSWORD, name=name, validate=False)
        staff.setdefault(role, []).append(user)
    organisations: list[Organisation] = [
        organisation_create(name=name, domain=domain) for name, domain in ORGANISATIONS
    ]
    ctx.objects["staff"] = staff
    ctx.objects["organisations"] = organisations


def demo_logins() -> list[tuple[str, str]]:
    """Every demo login, to print: each staff login, then each customer login with its organisation."""
    staff_emails = [email for _, email, _ in STAFF]
    found = {user.email: user for user in User.objects.filter(email__in=staff_emails)}
    rows = [(found[email].get_role_display(), email) for email in staff_emails if email in found]
    customers = User.objects.filter(role=User.Role.CUSTOMER).select_related("organisation")
    for user in customers.order_by("organisation__name", "email"):
        rows.append((f"customer · {user.organisation}", user.email))
    return rows
