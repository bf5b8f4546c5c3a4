"""Desk metrics: MTTA/MTTR from the stored business minutes (SQL) beside the Python loop they replace.

    .venv/bin/python bench/desk_metrics.py [--tickets 100000] [--sqlite-tickets 20000] [--repeat 5]
    .venv/bin/python bench/desk_metrics.py --scale smoke          # 500 tickets: does it run at all
    SERVICELOOP_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sl_bench .venv/bin/python bench/desk_metrics.py

For SQLite (a fresh database in a temporary data directory, `--sqlite-tickets`) and, when
SERVICELOOP_BENCH_DATABASE_URL (or SERVICELOOP_DATABASE_URL) is set, PostgreSQL (`--tickets`) — in a
database of its own on that server, `<name>_bench_desk`, created and dropped by the run.

1. seeds a year of tickets set-wise: 5 services (four with P1–P4 targets on an office calendar in
   Europe/London with holidays or a 24×7 one, one without targets), 200 organisations, most tickets
   answered and resolved, some reopened; then fills the stored minutes with
   `business_minutes_refresh()` (timed: what migration 0009 costs on a desk of that size);
2. times, best of `--repeat`, MTTA and MTTR (mean and median) over the whole year, ungrouped and by
   month × service: **before** — `baseline_durations`, a copy of the function the metrics used until
   now (one query for the instants, business time per ticket in Python) — and **after** —
   `desk_figures` on the stored minutes; prints the ratio, and checks the two agree (the stored
   minutes are whole and the figures rounded to whole minutes: means within a minute);
3. on PostgreSQL the median both ways (`percentile_cont` in SQL, or the grouped minute values
   fetched and the median taken in Python) — what the module chooses by vendor;
4. the refusal of a year grouped by day × organisation (more than MAX_GROUPS groups) and the query
   plans of the metric queries for one service (the indexes of migration 0009).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, postgres_url, run_child

SEED = 20261201
ORGANISATIONS = 200
NAMES = ("mtta_mean", "mtta_median", "mttr_mean", "mttr_median")


def baseline_durations(
    scope: Any, group_by: Sequence[str], date_field: str, start_field: str
) -> dict[Any, list[float]]:
    """The metrics' code before the minutes were stored (a copy): business minutes per ticket in Python."""
    from django.conf import settings

    from serviceloop.desk.business_time import Calendar, business_seconds_between
    from serviceloop.desk.models import BusinessCalendar
    from serviceloop.desk.services.sla import calendar_of
    from serviceloop.experience.desk_metrics import DONE, Population, _grouping, _in_scope, _key

    rows = _in_scope(scope, Population(date_field, _q()))
    if date_field == "resolved_at":
        rows = rows.filter(status__in=DONE)
    calendars: dict[int | None, Calendar] = {
        calendar.pk: calendar_of(calendar) for calendar in BusinessCalendar.objects.prefetch_related("holidays")
    }
    calendars[None] = Calendar(time_zone=settings.TIME_ZONE)
    result: dict[Any, list[float]] = defaultdict(list)
    values = rows.values(
        "opened_at", start_field, "sla_target__calendar_id", **_grouping(group_by, date_field)
    ).order_by()
    for row in values.iterator(chunk_size=2000):
        calendar = calendars.get(row["sla_target__calendar_id"], calendars[None])
        seconds = max(business_seconds_between(calendar, row["opened_at"], row[start_field]), 0.0)
        result[_key(row, group_by)].append(seconds / 60)
    return result


def _q() -> Any:
    from django.db.models import Q

    return Q()


def baseline_figures(scope: Any, group_by: Sequence[str]) -> dict[Any, dict[str, float | None]]:
    answered = baseline_durations(scope, group_by, "first_response_at", "first_response_at")
    resolving = baseline_durations(scope, group_by, "resolved_at", "resolved_at")
    result: dict[Any, dict[str, float | None]] = defaultdict(dict)
    for prefix, durations in (("mtta", answered), ("mttr", resolving)):
        for key, minutes in durations.items():
            result[key][f"{prefix}_mean"] = sum(minutes) / len(minutes)
            result[key][f"{prefix}_median"] = statistics.median(minutes)
    return result


def _build(tickets: int) -> dict[str, Any]:
    from django.db import connection, transaction

    from serviceloop.accounts.models import Organisation, User
    from serviceloop.catalogue.models import Service
    from serviceloop.desk.business_time import add_business_seconds
    from serviceloop.desk.models import BusinessCalendar, Holiday, SlaTarget, Ticket
    from serviceloop.desk.services.business_minutes import business_minutes_refresh
    from serviceloop.desk.services.sla import calendar_of
    from serviceloop.relationships.models import Person

    rng = random.Random(SEED)
    end = datetime(2026, 11, 30, tzinfo=UTC)
    start = end - timedelta(days=365)
    with transaction.atomic():
        manager = User.objects.create_user("bench-manager@provider.example", role=User.Role.SERVICE_MANAGER)
        services = [
            Service.objects.create(name=f"Service {n}", slug=f"service-{n}", service_manager=manager, lifecycle="live")
            for n in range(5)
        ]
        weekdays = {str(day): [["09:00", "17:30"]] for day in range(5)}
        office = BusinessCalendar.objects.create(name="Office", time_zone="Europe/London", working_hours=weekdays)
        Holiday.objects.bulk_create(
            Holiday(calendar=office, date=day, name="Holiday")
            for day in (date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4), date(2026, 8, 31))
        )
        always = BusinessCalendar.objects.create(
            name="24×7", time_zone="UTC", working_hours={str(day): [["00:00", "24:00"]] for day in range(7)}
        )
        targets: dict[tuple[int, str], SlaTarget] = {}
        for n, service in enumerate(services[:4]):
            for priority, first, resolve in (("p1", 15, 240), ("p2", 60, 480), ("p3", 240, 1440), ("p4", 480, 2880)):
                targets[(service.pk, priority)] = SlaTarget.objects.create(
                    service=service,
                    priority=priority,
                    calendar=always if n == 0 else office,
                    first_response_minutes=first,
                    resolution_minutes=resolve,
                )
        calendars = {office.pk: calendar_of(office), always.pk: calendar_of(always)}
        organisations = Organisation.objects.bulk_create(
            Organisation(name=f"Organisation {n}", slug=f"org-{n}", domain=f"org{n}.example")
            for n in range(ORGANISATIONS)
        )
        people = Person.objects.bulk_create(
            Person(organisation=organisations[n % ORGANISATIONS], name=f"Person {n}", email=f"p{n}@org.example")
            for n in range(max(1, tickets // 5))
        )
        rows = []
        span = (end - start).total_seconds()
        for n in range(tickets):
            person = people[rng.randrange(len(people))]
            service = rng.choice(services)
            priority = rng.choice(["p1", "p2", "p3", "p3", "p4"])
            target = targets.get((service.pk, priority))
            calendar = calendars[target.calendar_id] if target else calendars[office.pk]
            opened = start + timedelta(seconds=rng.uniform(0, span * 0.98))
            ticket = Ticket(
                reference=f"SL-{100001 + n:06d}",
                organisation_id=person.organisation_id,
                requester=person,
                service=service,
                subject="Bench",
                priority=priority,
                opened_at=opened,
                status="open",
                sla_target=target,
            )
            if rng.random() < 0.95:
                ticket.first_response_at = add_business_seconds(calendar, opened, rng.uniform(60, 8 * 3600))
            if ticket.first_response_at and rng.random() < 0.9:
                ticket.resolved_at = add_business_seconds(
                    calendar, ticket.first_response_at, rng.expovariate(1 / 20000)
                )
                ticket.status = rng.choice(["resolved", "closed", "closed"])
                ticket.reopen_count = 1 if rng.random() < 0.05 else 0
            if ticket.resolved_at and ticket.resolved_at > end:
                ticket.resolved_at, ticket.status = None, "open"
            rows.append(ticket)
        Ticket.objects.bulk_create(rows, batch_size=5000)
    started = time.perf_counter()
    business_minutes_refresh()
    refresh = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {"refresh": refresh, "service": services[1].pk, "start": start.date(), "end": end.date()}


def _best(repeat: int, call: Callable[[], Any]) -> tuple[float, Any]:
    times, answer = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = call()
        times.append(time.perf_counter() - started)
    return min(times) * 1000, answer


def _scans(sql_plan: str) -> str:
    found = re.findall(
        r"(Seq Scan on \w+|Bitmap Index Scan on \w+|Index(?: Only)? Scan(?: Backward)? using \w+)", sql_plan
    )
    return ", ".join(dict.fromkeys(found))


def child(tickets: int, repeat: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "--noinput", "-v", "0")
    from serviceloop.core.errors import InvalidInput
    from serviceloop.experience import desk_metrics
    from serviceloop.experience.desk_metrics import Population, _in_scope, desk_figures
    from serviceloop.experience.tally import Scope

    world = _build(tickets)
    year = Scope(since=world["start"], until=world["end"])
    results = []
    for label, group_by in (("the year, ungrouped", []), ("the year by month × service", ["month", "service"])):
        before_ms, before = _best(max(1, repeat // 2), lambda group_by=group_by: baseline_figures(year, group_by))
        after_ms, after = _best(repeat, lambda group_by=group_by: desk_figures(year, group_by, NAMES))
        worst = 0.0
        for key, figures in after.items():
            for name in ("mtta_mean", "mttr_mean"):
                if figures[name].value is not None and before[key].get(name) is not None:
                    worst = max(worst, abs(figures[name].value - before[key][name]))
        results.append(
            {"case": label, "before_ms": before_ms, "after_ms": after_ms, "groups": len(after), "worst_diff": worst}
        )
    medians = {}
    if connection.vendor == "postgresql":
        for label, in_sql in (("percentile_cont", True), ("Python median", False)):
            original = desk_metrics.sql_median
            desk_metrics.sql_median = lambda in_sql=in_sql: in_sql  # type: ignore[assignment]
            try:
                for grouping in ([], ["month", "service"]):
                    ms, _ = _best(repeat, lambda grouping=grouping: desk_figures(year, grouping, ["mttr_median"]))
                    medians[f"{label}, {'by month × service' if grouping else 'ungrouped'}"] = ms
            finally:
                desk_metrics.sql_median = original  # type: ignore[assignment]

    def refused() -> str:
        try:
            desk_figures(year, ["day", "organisation"], [*NAMES, "sla_resolution", "fcr"])
        except InvalidInput as error:
            return error.code
        return "computed"

    refusal_ms, refusal = _best(repeat, refused)
    plans = {}
    if connection.vendor == "postgresql":
        one = Scope(service_ids=(world["service"],), since=date(2026, 6, 1), until=date(2026, 6, 30))
        for population in ("resolved", "answered"):
            spec = desk_metrics._populations()[population]
            rows = _in_scope(one, Population(spec.date_field, spec.condition))
            grouped = rows.values(**desk_metrics._grouping(["month"], spec.date_field)).order_by()
            plans[population] = _scans(grouped.annotate(**desk_metrics._aggregates(population, set(NAMES))).explain())
    return {
        "vendor": connection.vendor,
        "tickets": tickets,
        "refresh_s": world["refresh"],
        "results": results,
        "medians": medians,
        "refusal_ms": refusal_ms,
        "refusal": refusal,
        "plans": plans,
    }


def report(label: str, figures: dict[str, Any]) -> bool:
    print(
        f"\n{label}: {figures['tickets']:,} tickets over a year; "
        f"business_minutes_refresh() of every ticket {figures['refresh_s']:.1f} s"
    )
    print(
        f"{'MTTA + MTTR, mean and median':<34} {'before ms':>10} {'after ms':>9} {'ratio':>8} {'groups':>7} {'Δ mean':>7}"
    )
    ok = True
    for row in figures["results"]:
        ratio = row["before_ms"] / row["after_ms"] if row["after_ms"] else float("inf")
        print(
            f"{row['case']:<34} {row['before_ms']:>10.1f} {row['after_ms']:>9.1f} {ratio:>7.1f}×"
            f" {row['groups']:>7,} {row['worst_diff']:>7.2f}"
        )
        if row["worst_diff"] > 1.0:
            print("    MISSED: the stored minutes disagree with the Python loop by more than a minute")
            ok = False
    for case, ms in figures["medians"].items():
        print(f"median {case:<46} {ms:>8.1f} ms")
    print(f"a year by day × organisation: {figures['refusal']} in {figures['refusal_ms']:.1f} ms")
    if figures["refusal"] != "too_many_groups" and figures["tickets"] >= 20_000:
        print("    MISSED: the grouping was computed, not refused")
        ok = False
    for population, scans in figures["plans"].items():
        print(f"plan, {population} tickets of one service in June: {scans}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets on PostgreSQL (default 100,000)")
    parser.add_argument("--sqlite-tickets", type=int, default=20_000, help="tickets on SQLite (default 20,000)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", choices=["full", "smoke"], default="full", help="smoke: 500 tickets, 2 runs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(args.tickets, args.repeat), default=str))
        return 0
    if args.scale == "smoke":
        args.tickets = args.sqlite_tickets = 500
        args.repeat = 2
    targets: list[tuple[str, str | None, int]] = [("SQLite", None, args.sqlite_tickets)]
    postgres = postgres_url()
    if postgres:
        targets.append(("PostgreSQL", postgres, args.tickets))
    print(f"desk metrics MTTA/MTTR: the Python loop (before) and the stored minutes (after), best of {args.repeat}")
    ok = True
    for label, url, tickets in targets:
        figures = run_child(
            __file__,
            ["--tickets", str(tickets), "--repeat", str(args.repeat)],
            database_url=url,
            suffix="bench_desk",
            label=label,
        )
        if figures is None:
            ok = False
            continue
        ok = report(label, figures) and ok
    if len(targets) == 1:
        print("(set SERVICELOOP_BENCH_DATABASE_URL=postgres://… to measure PostgreSQL too, in a database of its own)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
