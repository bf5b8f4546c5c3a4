"""A workload for the multi-process fault tests, run as a process of its own against their database:

    python -m serviceloop.tests.fault_workload resolve 6

opens N tickets for N different requesters (so each may be invited: the throttle is per person) and
resolves them, through the desk's services, each change in its own transaction, as web requests
would. Prints one JSON line: the tickets' ids and the mail the commits promised.
"""

from __future__ import annotations

import json
import sys


def resolve(count: int) -> dict[str, object]:
    import django

    django.setup()
    from serviceloop.accounts.models import User
    from serviceloop.accounts.services import organisation_create, user_create
    from serviceloop.catalogue.models import Service
    from serviceloop.desk.services import ticket_create, ticket_resolve
    from serviceloop.relationships.models import Person

    agent = user_create(
        email="agent@provider.example", role=User.Role.AGENT, password="x" * 20, name="Agent", validate=False
    )
    manager = user_create(
        email="manager@provider.example", role=User.Role.SERVICE_MANAGER, password="x" * 20, validate=False
    )
    organisation = organisation_create(name="Acme Logistics", domain="acme.example")
    service = Service.objects.create(name="Printing", slug="printing", service_manager=manager, lifecycle="live")
    tickets = []
    for n in range(count):
        person = Person.objects.create(organisation=organisation, email=f"requester{n}@acme.example", name=f"R {n}")
        ticket = ticket_create(
            requester=person,
            service=service,
            type="incident",
            subject=f"Printer {n} jams",
            body="On every page.",
            channel="api",
            by=agent,
        )
        tickets.append(ticket_resolve(ticket=ticket, by=agent, resolution="Replaced the fuser.").pk)
    return {"tickets": tickets}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "resolve":
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(resolve(int(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
