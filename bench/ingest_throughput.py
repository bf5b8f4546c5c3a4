"""Bulk ingest throughput: the ingest API's code path against a plain bulk insert of the same rows.

    .venv/bin/python bench/ingest_throughput.py [--lines 10000] [--repeat 3]

For SQLite (a fresh database in a temporary data directory) and, when SERVICELOOP_BENCH_DATABASE_URL
is set (e.g. postgres://postgres@127.0.0.1:5432/sl_bench — the database is emptied), PostgreSQL too:

1. runs the migrations into the fresh database and creates a service;
2. builds N NDJSON lines (seeded; 60% with a comment, so sentiment scoring is part of the work);
3. times ``ingest_batch`` — the function POST /api/feedback/ingest/batch calls: parse and validate
   every line, look up services, skip stored keys, mask (setting), score sentiment in bulk, bulk insert
   in one transaction, read back the ids — on an empty table;
4. times a plain ``Response.objects.bulk_create`` of the same rows (already parsed, already scored,
   in one transaction) on an empty table;
5. prints rows/s for both and the ratio (target: the real path at least 70% of the plain insert).

Each measurement is the best of ``--repeat`` runs; the table is emptied before each run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261125
TARGET = 0.70
# Comments are two fragments joined, so most texts differ (no analyser shortcut for repeats).
FRAGMENTS = [
    "Fixed quickly, thank you!",
    "The outage lasted 4 hours and nobody told us anything.",
    "Still waiting for an answer after three days.",
    "Friendly agent, sorted my laptop in minutes.",
    "VPN keeps dropping, this is the third ticket this month.",
    "ok",
    "Great communication during the incident, well done.",
    "Slow response, but the fix works now.",
    "Printer on floor 3 is still broken",
    "Password reset took two minutes",
    "Nobody called back as promised",
    "Very helpful, explained everything clearly",
]


def build_lines(count: int, service_slug: str) -> list[bytes]:
    rng = random.Random(SEED)
    lines = []
    for n in range(count):
        item: dict[str, object] = {
            "source": "bench",
            "external_id": f"b-{n}",
            "service": service_slug,
            "happiness": rng.randint(0, 10),
            "responded_at": f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:00:00Z",
        }
        if rng.random() < 0.5:
            item["lost_time"] = rng.choice(["none", "lt30", "30to60", "1to2h"])
            item["drivers"] = rng.sample(["communication", "speed", "quality"], k=rng.randint(1, 2))
        if rng.random() < 0.6:
            item["comment"] = f"{rng.choice(FRAGMENTS)} {rng.choice(FRAGMENTS)} (ref {n})"
        lines.append(json.dumps(item).encode())
    return lines


def child(count: int, repeat: int) -> dict[str, float]:
    """Runs inside a process whose settings point at the database to measure."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", "--noinput", "-v", "0")
    from serviceloop.accounts.models import User
    from serviceloop.catalogue.models import Service
    from serviceloop.core.clock import now
    from serviceloop.feedback.models import Response
    from serviceloop.feedback.services.ingest import (
        IngestReport,
        ingest_batch,
        lookups_for,
        parse_lines,
        row_fields,
        score_fields,
    )

    Response.objects.all().delete()
    manager, _ = User.objects.get_or_create(
        email="bench@provider.example", defaults={"role": User.Role.SERVICE_MANAGER, "name": "Bench"}
    )
    service, _ = Service.objects.get_or_create(
        slug="bench-service", defaults={"name": "Bench service", "service_manager": manager, "lifecycle": "live"}
    )
    lines = build_lines(count, service.slug)

    def empty() -> None:
        Response.objects.all().delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE feedback_response")

    # The plain insert's rows: the field values the real path stores (parsed, resolved, scored),
    # computed outside the timing; the plain insert makes the model objects and bulk-inserts them.
    items, _, _ = parse_lines(lines)
    lookups = lookups_for([item for _, item in items])
    received_at = now()
    values = [row_fields(item, lookups, received_at) for _, item in items]
    plain_values = [row for row in values if isinstance(row, dict)]
    score_fields(plain_values)

    real_best = plain_best = float("inf")
    for _ in range(repeat):
        empty()
        started = time.perf_counter()
        report: IngestReport = ingest_batch(lines=lines, by=None)
        real_best = min(real_best, time.perf_counter() - started)
        assert report.created == count, report

        empty()
        started = time.perf_counter()
        with transaction.atomic():
            Response.objects.bulk_create([Response(**row) for row in plain_values], batch_size=1000)
        plain_best = min(plain_best, time.perf_counter() - started)
        assert Response.objects.count() == count
    empty()
    return {"real": count / real_best, "plain": count / plain_best, "vendor": connection.vendor}  # type: ignore[dict-item]


def run(database_url: str | None, label: str, count: int, repeat: int) -> dict[str, float] | None:
    env = dict(os.environ)
    data_dir = tempfile.mkdtemp(prefix="serviceloop-bench-")
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "serviceloop.settings",
            "SERVICELOOP_DATA_DIR": data_dir,
            "SERVICELOOP_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "SERVICELOOP_TASKS_EAGER": "true",
            "SERVICELOOP_LOG_LEVEL": "WARNING",
        }
    )
    env.pop("SERVICELOOP_DATABASE_URL", None)
    if database_url:
        env["SERVICELOOP_DATABASE_URL"] = database_url
    result = subprocess.run(
        [sys.executable, __file__, "--child", "--lines", str(count), "--repeat", str(repeat)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(f"{label}: failed\n{result.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(args.lines, args.repeat)))
        return 0

    targets = [("SQLite", None)]
    if os.environ.get("SERVICELOOP_BENCH_DATABASE_URL"):
        targets.append(("PostgreSQL", os.environ["SERVICELOOP_BENCH_DATABASE_URL"]))
    print(
        f"bulk ingest of {args.lines:,} NDJSON lines (best of {args.repeat}); target: real path >= {TARGET:.0%} of plain"
    )
    print(f"{'database':<11} {'ingest_batch rows/s':>20} {'plain bulk_create rows/s':>25} {'ratio':>7}")
    ok = True
    for label, url in targets:
        figures = run(url, label, args.lines, args.repeat)
        if figures is None:
            ok = False
            continue
        ratio = figures["real"] / figures["plain"]
        ok = ok and ratio >= TARGET
        print(f"{label:<11} {figures['real']:>20,.0f} {figures['plain']:>25,.0f} {ratio:>7.0%}")
    if len(targets) == 1:
        print("(set SERVICELOOP_BENCH_DATABASE_URL=postgres://… to measure PostgreSQL too)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
