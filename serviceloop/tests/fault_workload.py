"""A workload for the multi-process fault tests, run as a process of its own against their database:

    python -m serviceloop.tests.fault_workload resolve 6
    python -m serviceloop.tests.fault_workload seed 6

`resolve` opens N tickets for N different requesters (so each may be invited: the throttle is per person) and
resolves them, through the desk's services, each change in its own transaction, as web requests
would. `seed` creates the same people and service and an agent's API token, for a workload sent over
HTTP. Each prints one JSON line.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _people(count: int) -> tuple[Any, Any, list[Any]]:
    from serviceloop.accounts.models import User
    from serviceloop.accounts.services import organisation_create, user_create
    from serviceloop.catalogue.models import Service
    from serviceloop.relationships.models import Person

    agent = user_create(
        email="agent@provider.example", role=User.Role.AGENT, password="x" * 20, name="Agent", validate=False
    )
    manager = user_create(
        email="manager@provider.example", role=User.Role.SERVICE_MANAGER, password="x" * 20, validate=False
    )
    organisation = organisation_create(name="Acme Logistics", domain="acme.example")
    service = Service.objects.create(name="Printing", slug="printing", service_manager=manager, lifecycle="live")
    people = [
        Person.objects.create(organisation=organisation, email=f"requester{n}@acme.example", name=f"R {n}")
        for n in range(count)
    ]
    return agent, service, people


def seed(count: int) -> dict[str, object]:
    import django

    django.setup()
    from serviceloop.accounts.services import api_token_create

    agent, service, people = _people(count)
    token = api_token_create(user=agent, name="scale-out test").secret
    return {"token": token, "service": service.public_id, "people": [person.public_id for person in people]}


def resolve(count: int) -> dict[str, object]:
    import django

    django.setup()
    from serviceloop.desk.services import ticket_create, ticket_resolve

    agent, service, people = _people(count)
    tickets = []
    for n, person in enumerate(people):
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
    commands = {"resolve": resolve, "seed": seed}
    if len(argv) != 2 or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(commands[argv[0]](int(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
