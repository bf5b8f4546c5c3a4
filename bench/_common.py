"""What the benchmarks share: a child process on a database of its own, timing, and set-wise seeding.

A benchmark runs its measurements in a child process (`--child`) with a fresh data directory and, for
PostgreSQL, a database of its own on the server named by SERVICELOOP_BENCH_DATABASE_URL (created and
dropped by the run), so the configured database is never touched. The child prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def postgres_url() -> str | None:
    return os.environ.get("SERVICELOOP_BENCH_DATABASE_URL") or os.environ.get("SERVICELOOP_DATABASE_URL")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def postgres_admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as connection:
        connection.execute(statement)


def run_child(
    script: str, arguments: Sequence[str], *, database_url: str | None, suffix: str, label: str
) -> dict[str, Any] | None:
    """Run `script --child arguments…` on a fresh SQLite (no url) or a PostgreSQL database of its own.

    The child's stderr (progress bars) goes to the terminal; its last stdout line is its JSON answer.
    """
    data_dir = tempfile.mkdtemp(prefix="serviceloop-bench-")
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "serviceloop.settings",
            "SERVICELOOP_DATA_DIR": data_dir,
            "SERVICELOOP_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "SERVICELOOP_LOG_LEVEL": "WARNING",
            "SERVICELOOP_TASKS_EAGER": "true",
            "PYTHONPATH": str(ROOT),
            # Pages rendered in-process need no collected manifest.
            "SERVICELOOP_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        }
    )
    env.pop("SERVICELOOP_DATABASE_URL", None)
    database = None
    if database_url:
        database = f"{urlsplit(database_url).path.strip('/') or 'serviceloop'}_{suffix}"
        postgres_admin(database_url, f'DROP DATABASE IF EXISTS "{database}"')
        postgres_admin(database_url, f'CREATE DATABASE "{database}"')
        env["SERVICELOOP_DATABASE_URL"] = with_database(database_url, database)
    try:
        result = subprocess.run(
            [sys.executable, script, "--child", *arguments],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        if database_url and database:
            postgres_admin(database_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)
    if result.returncode != 0:
        print(f"{label}: the child failed (exit {result.returncode}); its output is above", file=sys.stderr)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def best_of(repeat: int, call: Callable[[], Any]) -> tuple[float, float, Any]:
    """(best ms, median ms, the last answer) of `repeat` calls after one warm-up call."""
    call()
    times = []
    answer = None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = call()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times), answer


# ---------------------------------------------------------------- set-wise seeding


def hashed(column: str, salt: int, modulus: int) -> str:
    """A deterministic pseudo-random integer 0..modulus-1 from the row number `column` (the same on
    SQLite and PostgreSQL: integer arithmetic only)."""
    multiplier = (2654435761, 40503, 2246822519, 3266489917, 668265263, 374761393, 1597334677, 3812015801)
    return f"(((CAST({column} AS BIGINT) + {salt * 7919}) * {multiplier[salt % len(multiplier)]}) % 4294967291 % {modulus})"


def clone_rows(
    table: str,
    template_pk: int,
    count: int,
    overrides: Mapping[str, str],
    *,
    start: int = 1,
) -> None:
    """Insert `count` copies of one template row, set-wise, each column from the template except the
    `overrides` (SQL expressions over `g`, the row number from `start`). The id column is left to the
    database. PostgreSQL uses generate_series; SQLite a recursive CTE."""
    from django.db import connection

    with connection.cursor() as cursor:
        columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
        unknown = set(overrides) - set(columns)
        if unknown:
            raise ValueError(f"{table} has no column {sorted(unknown)}")
        names = [name for name in columns if name != "id"]
        quoted = ", ".join(connection.ops.quote_name(name) for name in names)
        # "%" doubled: the statement has one parameter, so the driver reads the rest as a format.
        values = ", ".join(overrides.get(name, f"t.{connection.ops.quote_name(name)}") for name in names).replace(
            "%", "%%"
        )
        last = start + count - 1
        if connection.vendor == "postgresql":
            series = f"generate_series({start}, {last}) AS s(g)"
            sql = f"INSERT INTO {table} ({quoted}) SELECT {values} FROM {table} t, {series} WHERE t.id = %s"  # nosec B608  # table and column names are ours
        else:
            sql = (
                f"WITH RECURSIVE s(g) AS (SELECT {start} UNION ALL SELECT g + 1 FROM s WHERE g < {last}) "  # nosec B608  # names are ours
                f"INSERT INTO {table} ({quoted}) SELECT {values} FROM {table} t, s WHERE t.id = %s"
            )
        cursor.execute(sql, [template_pk])


def chunks(total: int, size: int) -> list[tuple[int, int]]:
    """(start, count) pairs covering 1..total."""
    return [(start, min(size, total - start + 1)) for start in range(1, total + 1, size)]


def shown_ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base > 0 else "—"
