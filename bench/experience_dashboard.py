"""Experience at scale: the home dashboard and a service page beside direct queries of the rollup table.

    .venv/bin/python bench/experience_dashboard.py                       # SQLite, 100,000 responses
    SERVICELOOP_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sl_bench \\
        .venv/bin/python bench/experience_dashboard.py --responses 1000000,10000000
    .venv/bin/python bench/experience_dashboard.py --scale smoke         # 3,000 responses: does it run

For each size, in a database of its own (bench/_common.py):

1. seeds set-wise a year of responses (40 services of uneven size, two offerings each, 300
   organisations each consuming three services, five channels of uneven use, scores, lost time,
   drivers and sentiment spread deterministically) and one resolved ticket per ten responses;
2. rebuilds the rollups in full (`rollups_rebuild()`, timed) and refreshes one day (timed, best of 3):
   target ≤ 5% of the full rebuild;
3. times, best of `--repeat`, beside the direct queries of the rollup table that read the same
   counts (the baseline, in the same run): the figures the home dashboard needs
   (`experience.api.compute` of every service over 90 days and of every service by week over 12
   weeks) and a service page's (one service by week, by organisation, by offering, by channel), and,
   where the pages exist, the pages themselves as a signed-in manager (server time in-process:
   view, queries, template). Target: ≤ 3× the baseline.
Misses are printed plainly ("TARGET MISSED").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import best_of, chunks, clone_rows, hashed, postgres_url, run_child, shown_ratio

SERVICES = 40
ORGANISATIONS = 300
SERVICES_PER_ORGANISATION = 3
DAYS = 365
PAGE_TARGET = 3.0
REFRESH_TARGET = 0.05
CHUNK = 250_000


def _timestamp(vendor: str, now_sql: str, seconds: str) -> str:
    if vendor == "postgresql":
        return f"({now_sql}::timestamptz - ({seconds}) * interval '1 second')"
    return f"strftime('%Y-%m-%d %H:%M:%f', {now_sql}, '-' || ({seconds}) || ' seconds')"


def _plus(vendor: str, moment: str, seconds: str) -> str:
    if vendor == "postgresql":
        return f"({moment} + ({seconds}) * interval '1 second')"
    return f"strftime('%Y-%m-%d %H:%M:%f', {moment}, '+' || ({seconds}) || ' seconds')"


def _case(expression: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {index} THEN '{value}'" for index, value in enumerate(values))
    return f"(CASE {expression} {whens} END)"


def _build(responses: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from tqdm import tqdm

    from serviceloop.accounts.models import Organisation, User
    from serviceloop.catalogue.models import Offering, Service
    from serviceloop.core import clock
    from serviceloop.desk.models import Ticket
    from serviceloop.feedback.models import Response
    from serviceloop.relationships.models import Person

    vendor = connection.vendor
    now = clock.now().replace(microsecond=0)
    now_sql = "'" + now.strftime("%Y-%m-%d %H:%M:%S") + ("+00:00'" if vendor == "postgresql" else "'")
    with transaction.atomic():
        manager = User.objects.create_user("bench-manager@provider.example", role=User.Role.SERVICE_MANAGER)
        services = [
            Service.objects.create(
                name=f"Service {n:02d}", slug=f"service-{n:02d}", service_manager=manager, lifecycle="live"
            )
            for n in range(SERVICES)
        ]
        offerings = [
            Offering.objects.create(service=service, name=f"{service.name} {kind}", slug=f"{service.slug}-{kind}")
            for service in services
            for kind in ("standard", "premium")
        ]
        organisations = Organisation.objects.bulk_create(
            Organisation(name=f"Organisation {n:03d}", slug=f"org-{n:03d}", domain=f"org{n}.example")
            for n in range(ORGANISATIONS)
        )
        person = Person.objects.create(organisation=organisations[0], name="Bench Person", email="p@org0.example")
        template_response = Response.objects.create(
            service=services[0], organisation=organisations[0], channel="email", responded_at=now, happiness=9
        )
        template_ticket = Ticket.objects.create(
            reference="SL-000000",
            organisation=organisations[0],
            requester=person,
            service=services[0],
            subject="Bench ticket",
            opened_at=now,
            status="resolved",
        )
    service0, offering0, organisation0 = services[0].pk, offerings[0].pk, organisations[0].pk
    assert [s.pk for s in services] == list(range(service0, service0 + SERVICES))
    assert [o.pk for o in organisations] == list(range(organisation0, organisation0 + ORGANISATIONS))

    # Uneven services: the service index is 40·u² for u uniform (the first services are the big ones);
    # an organisation consumes three services, so each service has about 22 organisations.
    u = hashed("g", 1, 1000)
    slot = hashed("g", 2, SERVICES_PER_ORGANISATION)
    service_index = f"({u} * {u} * {SERVICES} / 1000000)"  # integer division: 0..39 on both databases
    # The organisation: one of those whose three services include this one (org k consumes k, k+13, k+26 mod 40).
    organisation_index = f"((({service_index} - 13 * {slot} + {SERVICES * 3}) % {SERVICES}) + {SERVICES} * {hashed('g', 3, ORGANISATIONS // SERVICES)})"
    channel = _case(hashed("g", 4, 5), ["email", "email", "email", "widget", "portal"])
    lost = hashed("g", 5, 20)
    lost_bucket = f"(CASE WHEN {lost} < 6 THEN 'none' WHEN {lost} < 11 THEN 'lt30' WHEN {lost} < 14 THEN 'm30_60' WHEN {lost} < 16 THEN 'h1_2' WHEN {lost} < 18 THEN 'h2_4' WHEN {lost} < 19 THEN 'h4_8' ELSE 'gt_day' END)"
    drivers = _case(
        hashed("g", 6, 6),
        ["[]", '["speed"]', '["communication"]', '["quality", "knowledge"]', '["attitude"]', "[]"],
    )
    if vendor == "postgresql":
        drivers = f"({drivers})::jsonb"
    sentiment = _case(hashed("g", 7, 4), ["positive", "neutral", "negative", "positive"])
    happiness_value = f"(CASE WHEN {hashed('g', 8, 10)} < 6 THEN 9 + {hashed('g', 9, 2)} WHEN {hashed('g', 8, 10)} < 8 THEN 7 + {hashed('g', 9, 2)} ELSE {hashed('g', 9, 7)} END)"
    response_overrides = {
        "public_id": "'r' || CAST(g AS TEXT)",
        "service_id": f"({service0} + {service_index})",
        "offering_id": f"({offering0} + 2 * {service_index} + {hashed('g', 10, 2)})",
        "organisation_id": f"({organisation0} + {organisation_index} % {ORGANISATIONS})",
        "channel": channel,
        "responded_at": _timestamp(vendor, now_sql, hashed("g", 11, DAYS * 86400)),
        "created_at": _timestamp(vendor, now_sql, hashed("g", 11, DAYS * 86400)),
        "happiness": happiness_value,
        "csat": f"(1 + {hashed('g', 12, 5)})",
        "ces": f"(CASE WHEN {hashed('g', 13, 3)} = 0 THEN NULL ELSE 1 + {hashed('g', 14, 7)} END)",
        "lost_time_bucket": lost_bucket,
        "drivers": drivers,
        "comment": f"(CASE WHEN {hashed('g', 7, 4)} = 1 THEN '' ELSE 'A bench comment' END)",
        "sentiment_label": f"(CASE WHEN {hashed('g', 7, 4)} = 1 THEN NULL ELSE {sentiment} END)",
    }
    opened = _timestamp(vendor, now_sql, hashed("g", 21, DAYS * 86400))
    ticket_overrides = {
        "public_id": "'t' || CAST(g AS TEXT)",
        "reference": "'SL-B' || CAST(g AS TEXT)",
        "service_id": f"({service0} + {hashed('g', 22, 1000)} * {hashed('g', 22, 1000)} * {SERVICES} / 1000000)",
        "organisation_id": f"({organisation0} + {hashed('g', 23, ORGANISATIONS)})",
        "opened_at": opened,
        "created_at": opened,
        "first_response_at": _plus(vendor, opened, f"60 * (5 + {hashed('g', 24, 240)})"),
        "resolved_at": _plus(vendor, opened, f"60 * (60 + {hashed('g', 25, 2880)})"),
        "reassignment_count": hashed("g", 26, 4),
        "first_contact_resolution": f"({hashed('g', 27, 3)} > 0)",
        "priority": _case(hashed("g", 28, 4), ["P1", "P2", "P3", "P4"]),
    }
    with connection.cursor() as cursor:
        ticket_columns = {c.name for c in connection.introspection.get_table_description(cursor, Ticket._meta.db_table)}
    for column, expression in {
        "response_business_minutes": f"(5 + {hashed('g', 24, 240)})",
        "resolution_business_minutes": f"(60 + {hashed('g', 25, 1440)})",
    }.items():
        if column in ticket_columns:
            ticket_overrides[column] = expression

    started = time.perf_counter()
    if vendor == "postgresql":
        # The seed's keys are right by construction: no foreign-key trigger per row (superuser only).
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    with tqdm(total=responses, desc="responses", unit="row", file=sys.stderr, unit_scale=True) as bar:
        for start, count in chunks(responses - 1, CHUNK):
            with transaction.atomic():
                clone_rows(Response._meta.db_table, template_response.pk, count, response_overrides, start=start)
            bar.update(count)
        bar.update(1)
    tickets = max(1, responses // 10)
    with tqdm(total=tickets, desc="tickets", unit="row", file=sys.stderr, unit_scale=True) as bar:
        for start, count in chunks(tickets - 1, CHUNK):
            with transaction.atomic():
                clone_rows(Ticket._meta.db_table, template_ticket.pk, count, ticket_overrides, start=start)
            bar.update(count)
        bar.update(1)
    seed = time.perf_counter() - started
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")
    return {"manager": manager, "services": services, "seed_s": seed, "tickets": tickets, "now": now}


def child(responses: int, repeat: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, reverse
    from tqdm import tqdm

    call_command("migrate", "--noinput", "-v", "0")
    from serviceloop.experience.api import compute
    from serviceloop.experience.models import RollupCount, RollupDay
    from serviceloop.experience.recount import day_of
    from serviceloop.experience.rollups import rollups_rebuild
    from serviceloop.experience.tally import Scope

    world = _build(responses)
    today = day_of(world["now"])

    def wrap(items: Any, total: int) -> Any:
        return tqdm(items, total=total, desc="rebuild", unit="chunk", file=sys.stderr)

    started = time.perf_counter()
    rebuilt = rollups_rebuild(wrap=wrap)
    full_rebuild = time.perf_counter() - started
    rollup_rows = RollupCount.objects.count()
    day_rows = RollupDay.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    one_day = today - timedelta(days=3)
    refresh_ms, refresh_median, _ = best_of(3, lambda: rollups_rebuild(since=one_day, until=one_day))

    big = world["services"][0]
    since90, since12w = today - timedelta(days=89), today - timedelta(weeks=12) + timedelta(days=1)
    since30, since60 = today - timedelta(days=29), today - timedelta(days=59)
    # The baselines read the table compute() reads for that shape: the day rows for the unfiltered
    # reads (every service, a service by week), the finer cells for breakdowns by organisation & co.
    table, day_table = RollupCount._meta.db_table, RollupDay._meta.db_table
    week = "date_trunc('week', day)" if connection.vendor == "postgresql" else "date(day, 'weekday 0', '-6 days')"

    def direct(sql: str, params: list[Any]) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    portfolio_sql = f"SELECT service_id, measure, value, SUM(count) FROM {day_table} WHERE day >= %s AND day <= %s GROUP BY service_id, measure, value"  # nosec B608  # our table
    weekly_sql = f"SELECT service_id, {week}, measure, value, SUM(count) FROM {day_table} WHERE day >= %s AND day <= %s GROUP BY 1, 2, 3, 4"  # nosec B608  # our table

    def fine_sql(column: str) -> str:
        return f"SELECT service_id, {column}, measure, value, SUM(count) FROM {table} WHERE day >= %s AND day <= %s GROUP BY 1, 2, 3, 4"  # nosec B608  # our table and columns

    def service_sql(column: str) -> str:
        source = day_table if column == week else table
        return f"SELECT {column}, measure, value, SUM(count) FROM {source} WHERE service_id = %s AND day >= %s AND day <= %s GROUP BY 1, 2, 3"  # nosec B608  # our table and columns

    home_names = ["happiness", "lost_time_mean", "lost_time_total", "csat", "response_rate"]
    service_names = ["happiness", "csat", "nps", "ces", "lost_time_mean", "lost_time_total"]
    cases: list[tuple[str, str, Any]] = [
        (
            "home",
            "baseline: rollup tables, the portfolio's 7 reads",
            # What the home page reads, straight from the tables: every service over 90 days, by week
            # over 12 weeks, the two 30-day periods of "fell the most", and the hotspots by
            # organisation and by offering over 90 days (the finer cells).
            lambda: (
                direct(portfolio_sql, [since90, today])
                + direct(weekly_sql, [since12w, today])
                + direct(portfolio_sql, [since30, today])
                + direct(portfolio_sql, [since60, since30 - timedelta(days=1)])
                + direct(fine_sql("organisation_id"), [since90, today])
                + direct(fine_sql("offering_id"), [since90, today])
            ),
        ),
        (
            "home",
            "compute(): every service, 90 days + by week (2 of the 7 reads)",
            lambda: (
                len(compute(Scope(since=since90, until=today), ["service"], home_names))
                + len(compute(Scope(since=since12w, until=today), ["service", "week"], ["happiness"]))
            ),
        ),
        (
            "service",
            "baseline: rollup table, one service by week, org, offering, channel",
            lambda: sum(
                direct(service_sql(column), [big.pk, since90, today])
                for column in (week, "organisation_id", "offering_id", "channel")
            ),
        ),
        (
            "service",
            "compute(): one service by week, org, offering, channel",
            lambda: sum(
                len(compute(Scope(service_ids=(big.pk,), since=since90, until=today), [dimension], service_names))
                for dimension in ("week", "organisation", "offering", "channel")
            ),
        ),
    ]
    client = Client()
    client.force_login(world["manager"])
    pages: list[tuple[str, str, str, dict[str, Any]]] = [("home", "page: home (portfolio)", "home", {})]
    pages.append(("service", "page: service", "experience:service", {"public_id": big.public_id}))
    skipped = []
    for group, label, name, kwargs in pages:
        try:
            url = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            skipped.append(f"{label}: no such page yet ({name})")
            continue

        def get(url: str = url) -> int:
            answer = client.get(url)
            if answer.status_code != 200:
                raise RuntimeError(f"{url} answered {answer.status_code}")
            return len(answer.content)

        cases.append((group, label, get))
    results = []
    for group, label, call in cases:
        ms, median, found = best_of(repeat, call)
        results.append({"group": group, "case": label, "ms": ms, "median_ms": median, "found": found})
    return {
        "vendor": connection.vendor,
        "responses": responses,
        "tickets": world["tickets"],
        "seed_s": world["seed_s"],
        "rollup_rows": rollup_rows,
        "day_rows": day_rows,
        "rebuild_s": full_rebuild,
        "rebuild_chunks": rebuilt.chunks,
        "refresh_ms": refresh_ms,
        "refresh_median_ms": refresh_median,
        "results": results,
        "skipped": skipped,
    }


def report(label: str, figures: dict[str, Any]) -> bool:
    ok = True
    print(
        f"\n{label}: {figures['responses']:,} responses, {figures['tickets']:,} tickets "
        f"(seeded in {figures['seed_s']:.0f} s); {figures['rollup_rows']:,} rollup rows, {figures['day_rows']:,} day rows"
    )
    rebuild_ms = figures["rebuild_s"] * 1000
    share = figures["refresh_ms"] / rebuild_ms if rebuild_ms else 0.0
    verdict = "ok" if share <= REFRESH_TARGET else "TARGET MISSED"
    ok &= share <= REFRESH_TARGET
    print(
        f"full rebuild {figures['rebuild_s']:.1f} s ({figures['rebuild_chunks']} chunks); one day refreshed in "
        f"{figures['refresh_ms']:.0f} ms = {share:.2%} of it (target ≤ {REFRESH_TARGET:.0%}: {verdict})"
    )
    print(f"{'case':<70} {'best ms':>9} {'median':>9} {'vs baseline':>12}")
    baselines = {row["group"]: row["ms"] for row in figures["results"] if row["case"].startswith("baseline")}
    for row in figures["results"]:
        base = baselines[row["group"]]
        mark = ""
        if not row["case"].startswith("baseline"):
            within = row["ms"] <= PAGE_TARGET * base
            ok &= within
            mark = "" if within else f"  TARGET MISSED (≤ {PAGE_TARGET:g}×)"
        print(
            f"{row['case'][:70]:<70} {row['ms']:>9.1f} {row['median_ms']:>9.1f} {shown_ratio(row['ms'], base):>12}{mark}"
        )
    for line in figures["skipped"]:
        print(f"  skipped: {line}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--responses", default="1000000", help="sizes on PostgreSQL, comma-separated (e.g. 1000000,10000000)"
    )
    parser.add_argument("--sqlite-responses", type=int, default=100_000, help="size on SQLite (0: skip SQLite)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", choices=["full", "smoke"], default="full", help="smoke: 3,000 responses, 2 runs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.size, args.repeat), default=str))
        return 0
    sizes = [int(size) for size in args.responses.split(",") if size.strip()]
    if args.scale == "smoke":
        sizes, args.sqlite_responses, args.repeat = [3000], 3000, 2
    targets: list[tuple[str, str | None, int]] = []
    if args.sqlite_responses:
        targets.append(("SQLite", None, args.sqlite_responses))
    postgres = postgres_url()
    targets += [("PostgreSQL", postgres, size) for size in sizes] if postgres else []
    print(
        f"experience dashboard at scale, best of {args.repeat}; targets: pages ≤ {PAGE_TARGET:g}× the rollup table, one day ≤ {REFRESH_TARGET:.0%} of a rebuild"
    )
    ok = True
    for label, url, size in targets:
        figures = run_child(
            __file__,
            ["--size", str(size), "--repeat", str(args.repeat)],
            database_url=url,
            suffix="bench_experience",
            label=label,
        )
        if figures is None:
            ok = False
            continue
        ok &= report(label, figures)
    if not postgres:
        print("(set SERVICELOOP_BENCH_DATABASE_URL=postgres://… to measure PostgreSQL too, in a database of its own)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
