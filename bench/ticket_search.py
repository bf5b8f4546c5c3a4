"""Ticket search: the queue's search by reference, email, name, organisation and words, beside an
unsearched queue page and a primary-key lookup timed in the same run.

    .venv/bin/python bench/ticket_search.py [--tickets 100000] [--sqlite-tickets 20000] [--repeat 7]
    .venv/bin/python bench/ticket_search.py --scale smoke          # 300 tickets: does it run at all
    SERVICELOOP_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sl_bench .venv/bin/python bench/ticket_search.py

For SQLite (a fresh database in a temporary data directory, `--sqlite-tickets`) and, when
SERVICELOOP_BENCH_DATABASE_URL (or SERVICELOOP_DATABASE_URL) is set, PostgreSQL (`--tickets`) — in a
database of its own on that server, `<name>_bench_search`, created and dropped by the run, so the
configured database is never touched.

1. builds a seeded desk set-wise: 200 organisations, one person per five tickets, tickets with one
   to three messages (a fifth of them internal notes), then refreshes every search document with
   `search_reindex()` (timed: what migration 0008 costs on a desk of that size);
2. times, best of `--repeat`, what the queue page does with `?queue=all&q=…` as an agent: the
   count and the first page of 50 (`ticket_queue` with the ranked order), for a reference with and
   without its prefix, an exact email, a name, the start of a name, an organisation, a rare word,
   a common word (about a quarter of the tickets: the rank of every match is computed), the same
   sorted newest first (no ranking), two words, and a customer's portal search (their
   organisation's tickets only);
3. beside them, the baselines: the same queue page without a search, filtered by organisation and
   sorted newest first (indexed), and a ticket fetched by primary key;
4. prints milliseconds, the number of matches, and the ratio to the unsearched queue page.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, best_of, postgres_url, run_child

SEED = 20261201
ORGANISATIONS = 200
TICKETS_PER_PERSON = 5
FIRST = ["Ben", "Ada", "Kim", "Lea", "Omar", "Sofia", "Yusuf", "Mila", "Noah", "Ines", "Tariq", "Eva", "Jonas", "Aiko"]
LAST = ["Yilmaz", "Novak", "Schmidt", "Okafor", "Garcia", "Larsen", "Kowalski", "Haddad", "Moreau", "Tanaka", "Byrne"]
SUBJECTS = [
    "VPN drops every hour",
    "Printer on floor {n} is jammed",
    "Password reset for the portal",
    "Laptop screen flickers",
    "New mailbox for a starter",
    "Invoice export is empty",
    "Cannot join the video call",
    "Shared drive is read-only",
    "Phone does not ring",
    "Access to the finance report",
]
SENTENCES = [
    "It started this morning after the update.",
    "The error says connection refused.",
    "Colleagues on the same floor see it too.",
    "I restarted twice and it came back.",
    "Please call me back when you can.",
    "We replaced the cable and it works again.",
    "Waiting for the vendor to answer.",
    "The certificate expired on Monday.",
    "Thanks, that fixed it.",
]


def _build(tickets: int) -> dict[str, Any]:
    """The seeded desk, written set-wise; returns what the cases search for."""
    from django.db import connection, transaction

    from serviceloop.accounts.models import Organisation, User
    from serviceloop.catalogue.models import Offering, Service
    from serviceloop.core import clock
    from serviceloop.desk.models import Message, Ticket, TicketSequence
    from serviceloop.relationships.models import Person, Relationship, RelationshipRole

    rng = random.Random(SEED)
    now = clock.now()
    with transaction.atomic():
        manager = User.objects.create_user("bench-manager@provider.example", role=User.Role.SERVICE_MANAGER)
        agent = User.objects.create_user("bench-agent@provider.example", role=User.Role.AGENT)
        service = Service.objects.create(name="Workplace", slug="workplace", service_manager=manager, lifecycle="live")
        offering = Offering.objects.create(service=service, name="Desktop", slug="desktop")
        organisations = Organisation.objects.bulk_create(
            Organisation(
                name=f"{rng.choice(LAST)} {rng.choice(['Logistics', 'Health', 'Freight', 'Foods'])} {n}",
                slug=f"org-{n}",
                domain=f"org{n}.example",
            )
            for n in range(ORGANISATIONS)
        )
        people_count = max(1, tickets // TICKETS_PER_PERSON)
        people = Person.objects.bulk_create(
            (
                Person(
                    organisation=organisations[n % ORGANISATIONS],
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    email=f"person{n}@org{n % ORGANISATIONS}.example",
                )
                for n in range(people_count)
            ),
            batch_size=5000,
        )
        rows = []
        for n in range(tickets):
            person = people[rng.randrange(people_count)]
            rows.append(
                Ticket(
                    reference=f"SL-{100001 + n:06d}",
                    organisation_id=person.organisation_id,
                    requester=person,
                    service=service,
                    offering=offering,
                    subject=rng.choice(SUBJECTS).format(n=rng.randint(1, 9)),
                    opened_at=now - timedelta(minutes=tickets - n),
                    status=rng.choice(["new", "open", "resolved", "closed"]),
                )
            )
        Ticket.objects.bulk_create(rows, batch_size=5000)
        TicketSequence.objects.update_or_create(name="ticket", defaults={"value": 100000 + tickets})
        ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
        messages = []
        for ticket_id in ids:
            for _ in range(rng.randint(1, 3)):
                words = " ".join(rng.sample(SENTENCES, 2))
                if rng.random() < 0.1:
                    words += " The printer needs toner."
                if rng.random() < 0.001:
                    words += " Forwarded to the zebrafish team."
                kind = Message.Kind.INTERNAL if rng.random() < 0.2 else Message.Kind.PUBLIC
                messages.append(Message(ticket_id=ticket_id, kind=kind, body=words))
        Message.objects.bulk_create(messages, batch_size=5000)
        # A customer of the first organisation who sees its whole organisation (the portal case).
        customer_org = organisations[0]
        customer = User.objects.create_user(
            "bench-customer@org0.example", role=User.Role.CUSTOMER, organisation=customer_org
        )
        relationship = Relationship.objects.create(organisation=customer_org, offering=offering, started_on=now.date())
        customer_person = Person.objects.create(organisation=customer_org, email=customer.email, user=customer)
        RelationshipRole.objects.create(relationship=relationship, person=customer_person, role="customer")

    from serviceloop.desk.search import search_reindex

    started = time.perf_counter()
    with transaction.atomic():
        search_reindex()
    reindex = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    middle = people[people_count // 2]
    target = Ticket.objects.filter(requester=middle).order_by("pk").first() or Ticket.objects.order_by("pk").first()
    assert target is not None
    first, last = middle.name.split(" ", 1)
    return {
        "agent": agent,
        "customer": customer,
        "reference": target.reference,
        "target_pk": target.pk,
        "email": middle.email.upper(),
        "name": middle.name,
        "name_start": f"{first[:3]} {last[:3]}",
        "organisation": middle.organisation.name,
        "organisation_public_id": middle.organisation.public_id,
        "messages": len(messages),
        "reindex": reindex,
    }


def _scans(queryset: Any) -> str:
    """How the database reads the tables for this page: the scan nodes of its plan (PostgreSQL)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return ""
    plan = queryset.explain()
    found = re.findall(r"(Seq Scan on \w+|Bitmap Index Scan on \w+|Index(?: Only)? Scan(?: Backward)? using \w+)", plan)
    return ", ".join(dict.fromkeys(found))


def child(tickets: int, repeat: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "--noinput", "-v", "0")
    from serviceloop.core import clock
    from serviceloop.desk import queries
    from serviceloop.desk.models import Ticket

    world = _build(tickets)
    now = clock.now()

    plans: dict[str, str] = {}

    def queue_page(**filters: str) -> Callable[[], int]:
        def run() -> int:
            tickets_found = queries.ticket_queue(
                viewer=world["agent"], filters=queries.QueueFilter(queue="all", **filters), now=now
            )
            count = tickets_found.count()
            list(tickets_found[:50])
            plans.setdefault(repr(filters), _scans(tickets_found[:50]))
            return count

        return run

    def portal_page(q: str) -> Callable[[], int]:
        def run() -> int:
            tickets_found = queries.portal_tickets(viewer=world["customer"], status="all", q=q)
            count = tickets_found.count()
            list(tickets_found[:50])
            plans.setdefault(repr(("portal", q)), _scans(tickets_found[:50]))
            return count

        return run

    def by_pk() -> int:
        Ticket.objects.get(pk=world["target_pk"])
        return 1

    reference = world["reference"]
    cases: list[tuple[str, Callable[[], int]]] = [
        (
            "baseline: queue page, organisation filter, newest",
            queue_page(organisation=world["organisation_public_id"], sort="newest"),
        ),
        ("baseline: ticket by primary key", by_pk),
        (f"reference {reference}", queue_page(q=reference)),
        (f"reference {reference.lower()}", queue_page(q=reference.lower())),
        (f"number {reference[3:]}", queue_page(q=reference[3:])),
        (f"email {world['email']}", queue_page(q=world["email"])),
        (f"name {world['name']}", queue_page(q=world["name"])),
        (f"name start {world['name_start']}", queue_page(q=world["name_start"])),
        (f"organisation {world['organisation']}", queue_page(q=world["organisation"])),
        ("rare word zebrafish", queue_page(q="zebrafish")),
        ("common word printer", queue_page(q="printer")),
        ("common word printer, sort newest", queue_page(q="printer", sort="newest")),
        ("two words certificate monday", queue_page(q="certificate monday")),
        ("portal (customer): printer", portal_page("printer")),
    ]
    results = []
    for label, call in cases:
        call()  # warm: the first run pays for the plan cache and the page cache
        plans.clear()
        best, median, found = best_of(repeat, call)
        scans = next(iter(plans.values()), "")
        results.append({"case": label, "ms": best, "median_ms": median, "found": found, "scans": scans})
    return {
        "vendor": connection.vendor,
        "tickets": tickets,
        "messages": world["messages"],
        "reindex_s": world["reindex"],
        "results": results,
    }


def report(label: str, figures: dict[str, Any]) -> None:
    results = figures["results"]
    base = results[0]["ms"]
    print(
        f"\n{label}: {figures['tickets']:,} tickets, {figures['messages']:,} messages; "
        f"search_reindex() of every ticket {figures['reindex_s']:.1f} s"
    )
    print(f"{'case':<52} {'best ms':>8} {'median':>8} {'found':>7} {'vs queue page':>14}")
    for row in results:
        print(
            f"{row['case'][:52]:<52} {row['ms']:>8.2f} {row['median_ms']:>8.2f} {row['found']:>7,}"
            f" {row['ms'] / base:>13.2f}×"
        )
        if row.get("scans"):
            print(f"    {row['scans']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets on PostgreSQL (default 100,000)")
    parser.add_argument("--sqlite-tickets", type=int, default=20_000, help="tickets on SQLite (default 20,000)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--scale", choices=["full", "smoke"], default="full", help="smoke: 300 tickets, 2 runs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(args.tickets, args.repeat), default=str))
        return 0
    if args.scale == "smoke":
        args.tickets = args.sqlite_tickets = 300
        args.repeat = 2

    targets: list[tuple[str, str | None, int]] = [("SQLite", None, args.sqlite_tickets)]
    postgres = postgres_url()
    if postgres:
        targets.append(("PostgreSQL", postgres, args.tickets))
    print(f"ticket search as the queue page runs it (count + first 50), best of {args.repeat}")
    ok = True
    for label, url, tickets in targets:
        figures = run_child(
            __file__,
            ["--tickets", str(tickets), "--repeat", str(args.repeat)],
            database_url=url,
            suffix="bench_search",
            label=label,
        )
        if figures is None:
            ok = False
            continue
        report(label, figures)
    if len(targets) == 1:
        print("(set SERVICELOOP_BENCH_DATABASE_URL=postgres://… to measure PostgreSQL too, in a database of its own)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
