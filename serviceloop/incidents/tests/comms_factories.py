"""Rows for the communication tests: a world with two organisations on one service, and a ticket."""

from __future__ import annotations

from dataclasses import dataclass

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.desk.models import Ticket
from serviceloop.desk.tests.factories import grant, make_offering, make_person, make_relationship, make_ticket
from serviceloop.incidents.models import Incident
from serviceloop.incidents.services import incident_declare
from serviceloop.relationships.models import Person, Relationship


@dataclass
class CommsWorld:
    service: Service
    offering: Offering
    other_offering: Offering
    rel_a: Relationship
    rel_b: Relationship
    customer_a: Person
    sponsor_a: Person
    customer_b: Person
    users_a: list[Person]
    users_b: list[Person]


def comms_world(service: Service, org_a: Organisation, org_b: Organisation) -> CommsWorld:
    """Organisation A has 3 users and a customer and a sponsor on the Mailbox; B has 2 users and a customer."""
    offering = make_offering(service, "Mailbox")
    other = make_offering(service, "Shared calendars")
    rel_a = make_relationship(org_a, offering)
    rel_b = make_relationship(org_b, other)
    customer_a = make_person(org_a, email="cora@acme.example", name="Cora Customer")
    sponsor_a = make_person(org_a, email="sid@acme.example", name="Sid Sponsor")
    customer_b = make_person(org_b, email="bea@borealis.example", name="Bea Customer")
    grant(rel_a, customer_a, "customer")
    grant(rel_a, sponsor_a, "sponsor")
    grant(rel_a, customer_a, "user")  # also a user: counted once as a user, mailed once
    grant(rel_b, customer_b, "customer")
    users_a = [make_person(org_a, email=f"user{n}@acme.example") for n in range(2)]
    users_b = [make_person(org_b, email=f"user{n}@borealis.example") for n in range(2)]
    for person in users_a:
        grant(rel_a, person, "user")
    for person in users_b:
        grant(rel_b, person, "user")
    return CommsWorld(service, offering, other, rel_a, rel_b, customer_a, sponsor_a, customer_b, users_a, users_b)


def a_ticket(world: CommsWorld, *, subject: str = "Mail is down") -> Ticket:
    return make_ticket(world.customer_a, world.service, subject=subject, offering=world.offering)


def declared(world: CommsWorld, by: User, **fields: object) -> Incident:
    defaults: dict[str, object] = {
        "title": "Mail delivery delayed",
        "severity": "sev1",
        "services": {world.service: "major_outage"},
    }
    defaults.update(fields)
    return incident_declare(by=by, **defaults)  # type: ignore[arg-type]
