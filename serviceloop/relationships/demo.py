"""Demo people, relationships over the past two years, roles, and a customer login per organisation.

Each organisation also has dozens or hundreds of colleagues (as many as its share of the tickets needs) who only raise tickets and answer surveys: written
set-wise (bulk_create, no events: nothing waits on a person's creation but the audit trail, and these
are demo rows), so the twelve months of tickets spread over enough people for the survey throttle.

Seeded through `ctx.rng`, so the same seed gives the same names, emails, dates and roles.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from serviceloop.accounts.models import Organisation, User
from serviceloop.accounts.services import user_create
from serviceloop.catalogue.models import Offering
from serviceloop.core.demo import DEMO_PASSWORD, DemoContext
from serviceloop.core.demo_story import DEFAULT_WEEKLY, STORY_RELATIONSHIPS, WEEKLY
from serviceloop.relationships.models import Person, Relationship, RelationshipRole
from serviceloop.relationships.services import person_create, relationship_create, relationship_set_status, role_grant

FIRST_NAMES = [
    "Amara",
    "Ben",
    "Chiara",
    "Daniel",
    "Elif",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nikolai",
    "Olivia",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aisha",
    "Bruno",
    "Clara",
    "Dmitri",
    "Emma",
    "Felix",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
]
LAST_NAMES = [
    "Andersen",
    "Bianchi",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fernandes",
    "Garcia",
    "Hoffmann",
    "Ibrahim",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Mensah",
    "Nakamura",
    "O'Brien",
    "Petrov",
    "Quispe",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Uddin",
    "Varga",
    "Walsh",
    "Yilmaz",
    "Zhang",
    "Novak",
    "Moreau",
    "Haddad",
    "Okafor",
    "Silva",
]
HOME_ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Oslo",
    "Europe/Amsterdam",
    "Europe/Dublin",
    "Europe/Stockholm",
    "Europe/Rome",
    "Europe/Warsaw",
    "Europe/Lisbon",
    "Europe/Helsinki",
]
TRAVEL_ZONES = ["America/New_York", "America/Chicago", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "UTC"]
HISTORY_DAYS = 730
# How many more people each organisation has (bulk-written): enough that each raises a ticket about
# once a month at most (the survey throttle asks each person at most once a week, three times a month).
COLLEAGUES_MIN = 40
COLLEAGUES_PER_WEEKLY_TICKET = 6


def _email_part(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalpha())


def _people(ctx: DemoContext, manager: User, organisation: Organisation, home_zone: str) -> list[Person]:
    rng = ctx.rng
    count = rng.randint(8, 11)
    names: list[tuple[str, str]] = []
    while len(names) < count:
        pair = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        if pair not in names:
            names.append(pair)
    people = []
    for index, (first, last) in enumerate(names):
        # The first person of each organisation signs in to the portal as customer@<domain>.
        email = (
            f"customer@{organisation.domain}"
            if index == 0
            else f"{_email_part(first)}.{_email_part(last)}@{organisation.domain}"
        )
        login = None
        if index == 0:
            login = user_create(
                email=email,
                role=User.Role.CUSTOMER,
                password=DEMO_PASSWORD,
                name=f"{first} {last}",
                organisation=organisation,
                time_zone=home_zone,
                validate=False,
            )
            ctx.logins.append((f"customer ({organisation.name})", email, DEMO_PASSWORD))
        people.append(
            person_create(
                by=manager,
                organisation=organisation,
                email=email,
                name=f"{first} {last}",
                time_zone=home_zone if rng.random() < 0.85 else rng.choice(TRAVEL_ZONES),
                survey_opt_out=index > 0 and rng.random() < 0.06,
                user=login,
            )
        )
    return people


def _weekly_tickets(relationships: list[Relationship]) -> dict[int, float]:
    """The tickets each organisation raises a week, on average: its share of each service's (`core.demo_story`)."""
    open_ = [r for r in relationships if r.status != Relationship.Status.ENDED]
    by_service: dict[int, list[Relationship]] = {}
    for relationship in open_:
        by_service.setdefault(relationship.offering.service_id, []).append(relationship)
    load: dict[int, float] = {}
    for own in by_service.values():
        weekly = WEEKLY.get(own[0].offering.service.slug, DEFAULT_WEEKLY)
        for relationship in own:
            load[relationship.organisation_id] = load.get(relationship.organisation_id, 0) + weekly / len(own)
    return load


def _colleagues(
    ctx: DemoContext, organisation: Organisation, known: list[Person], home_zone: str, count: int
) -> list[Person]:
    """More people of the organisation, without logins or roles: they raise tickets and answer surveys."""
    rng = ctx.rng
    taken = {person.email.lower() for person in known}
    pairs = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(pairs)
    rows: list[Person] = []
    for first, last in pairs:
        if len(rows) >= count:
            break
        email = f"{_email_part(first)}.{_email_part(last)}@{organisation.domain}"
        if email in taken:
            continue
        taken.add(email)
        joined = ctx.now - timedelta(days=rng.randint(HISTORY_DAYS // 2, HISTORY_DAYS))
        opted_out = rng.random() < 0.04
        rows.append(
            Person(
                organisation=organisation,
                email=email,
                name=f"{first} {last}",
                time_zone=home_zone if rng.random() < 0.85 else rng.choice(TRAVEL_ZONES),
                survey_opt_out=opted_out,
                survey_opted_out_at=joined + timedelta(days=1) if opted_out else None,
                created_at=joined,
            )
        )
    return Person.objects.bulk_create(rows, batch_size=500)


def _at(day: datetime, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day.date(), time(hour, 0)), timezone.get_default_timezone())


def _relationships(
    ctx: DemoContext, manager: User, organisation: Organisation, people: list[Person], offerings: list[Offering]
) -> list[Relationship]:
    rng = ctx.rng
    chosen = rng.sample(offerings, k=min(len(offerings), rng.randint(3, 6)))
    relationships = []
    for offering in chosen:
        started = ctx.now - timedelta(days=rng.randint(20, HISTORY_DAYS))
        relationship = relationship_create(
            by=manager, organisation=organisation, offering=offering, started_on=started.date(), at=_at(started, 9)
        )
        granted_at = _at(started + timedelta(days=1), 10)
        customer = people[0] if rng.random() < 0.5 else rng.choice(people)
        role_grant(
            relationship=relationship, person=customer, role=RelationshipRole.Role.CUSTOMER, by=manager, at=granted_at
        )
        role_grant(
            relationship=relationship,
            person=rng.choice(people),
            role=RelationshipRole.Role.SPONSOR,
            by=manager,
            at=granted_at,
        )
        # The customer often uses the service too: one person, several roles.
        users = set(rng.sample(people, k=rng.randint(2, min(6, len(people)))))
        if rng.random() < 0.6:
            users.add(customer)
        for person in sorted(users, key=lambda p: p.email):
            role_grant(
                relationship=relationship, person=person, role=RelationshipRole.Role.USER, by=manager, at=granted_at
            )
        fate = rng.random()
        age = (ctx.now - started).days
        if fate < 0.12 and age > 60:
            ended = started + timedelta(days=rng.randint(30, age - 1))
            relationship = relationship_set_status(
                relationship=relationship,
                by=manager,
                status=Relationship.Status.ENDED,
                on=ended.date(),
                note="Contract not renewed.",
                at=_at(ended, 17),
            )
        elif fate < 0.2 and age > 30:
            paused = started + timedelta(days=rng.randint(10, age - 1))
            relationship = relationship_set_status(
                relationship=relationship,
                by=manager,
                status=Relationship.Status.PAUSED,
                note="Paused during a reorganisation.",
                at=_at(paused, 11),
            )
        relationships.append(relationship)
    return relationships


def _story_relationships(
    ctx: DemoContext,
    manager: User,
    people: dict[str, list[Person]],
    offerings: list[Offering],
    relationships: list[Relationship],
) -> list[Relationship]:
    """The relationships the demo's story needs (`core.demo_story`), whatever the draw above gave: the
    unhappy organisation consumes payroll, all year long."""
    added = []
    organisations = {organisation.name: organisation for organisation in ctx.objects["organisations"]}
    for name, slug in STORY_RELATIONSHIPS:
        organisation = organisations.get(name)
        offered = [offering for offering in offerings if offering.service.slug == slug]
        if organisation is None or not offered:
            continue
        own = [r for r in relationships if r.organisation_id == organisation.pk and r.offering in offered]
        if any(r.status == Relationship.Status.ACTIVE and (ctx.now.date() - r.started_on).days > 400 for r in own):
            continue
        taken = {r.offering_id for r in own if r.status != Relationship.Status.ENDED}
        free = [offering for offering in offered if offering.pk not in taken]
        if not free:
            continue
        started = ctx.now - timedelta(days=HISTORY_DAYS - 30)
        relationship = relationship_create(
            by=manager, organisation=organisation, offering=free[0], started_on=started.date(), at=_at(started, 9)
        )
        granted_at = _at(started + timedelta(days=1), 10)
        staff = people[organisation.slug]
        role_grant(
            relationship=relationship, person=staff[0], role=RelationshipRole.Role.CUSTOMER, by=manager, at=granted_at
        )
        for person in staff[1:4]:
            role_grant(
                relationship=relationship, person=person, role=RelationshipRole.Role.USER, by=manager, at=granted_at
            )
        added.append(relationship)
    return added


def load(ctx: DemoContext) -> None:
    manager = ctx.objects["staff"]["service_manager"][0]
    offerings: list[Offering] = ctx.objects["offerings"]
    people: dict[str, list[Person]] = {}
    relationships: list[Relationship] = []
    for index, organisation in enumerate(ctx.objects["organisations"]):
        own = _people(ctx, manager, organisation, HOME_ZONES[index % len(HOME_ZONES)])
        people[organisation.slug] = own
        relationships += _relationships(ctx, manager, organisation, own, offerings)
    relationships += _story_relationships(ctx, manager, people, offerings, relationships)
    load = _weekly_tickets(relationships)
    for index, organisation in enumerate(ctx.objects["organisations"]):
        count = max(COLLEAGUES_MIN, round(load.get(organisation.pk, 0) * COLLEAGUES_PER_WEEKLY_TICKET))
        own = people[organisation.slug]
        own += _colleagues(ctx, organisation, own, HOME_ZONES[index % len(HOME_ZONES)], count)
    ctx.objects["people"] = [person for own in people.values() for person in own]
    ctx.objects["people_by_organisation"] = people
    ctx.objects["relationships"] = relationships
