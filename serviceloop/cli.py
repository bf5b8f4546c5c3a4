"""The `serviceloop` command: run the product, load demo data, and operator tools.

Each subcommand lives in a small function; `serviceloop <command> --help` explains each.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess  # nosec B404  # starts our own gunicorn and celery, argv built here
import sys
import time
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]
# Extra subcommands contributed by apps: (name, help, configure-parser, handler); see `_app_commands`.
COMMAND_MODULES = [
    "serviceloop.desk.commands",
    "serviceloop.feedback.commands",
    "serviceloop.experience.commands",
    "serviceloop.experience.trust_commands",
]


def _django() -> None:
    from serviceloop.core.cli import setup_django

    setup_django()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def cmd_migrate(args: argparse.Namespace) -> int:
    _django()
    _manage("migrate", "--noinput", "-v", "0")
    print("Database is up to date.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _django()
    from serviceloop.demo import demo_is_loaded, load_demo

    if demo_is_loaded() and not args.force:
        print("Demo data is already loaded (use --force on an empty database only).")
        return 0
    load_demo(seed=args.seed, progress=sys.stderr.isatty())
    from serviceloop.demo import print_logins

    print_logins()
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    _django()
    import getpass

    from serviceloop.accounts.services import user_create
    from serviceloop.core.errors import DomainError

    password = args.password or os.environ.get("SERVICELOOP_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    try:
        user = user_create(email=args.email, role="administrator", password=password, name=args.name or "")
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    print(f"Administrator {user.email} created.")
    return 0


def _gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "serviceloop.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
        # No control socket: it would be a file under $HOME, outside the data directory, and unused.
        "--no-control-socket",
    ]


def _beat_argv() -> list[str]:
    from django.conf import settings

    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "serviceloop",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(settings.CELERY_BEAT_SCHEDULE_FILENAME),
    ]


def _worker_argv(beat: bool, concurrency: int) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "serviceloop",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
    ]
    if beat:
        argv.append("--beat")
    return argv


def _site_url_default(host: str, port: int) -> None:
    # Links in emails, the widget snippet and QR codes point at the address actually served,
    # unless the operator configured the public address.
    os.environ.setdefault("SERVICELOOP_SITE_URL", f"http://{host}:{port}")


def _prepare() -> None:
    _django()
    _manage("migrate", "--noinput", "-v", "0")
    _manage("collectstatic", "--noinput", "-v", "0")


def unapplied_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def cmd_serve(args: argparse.Namespace) -> int:
    """One web process of many: it never migrates (that is `serviceloop migrate`, once per release)."""
    _site_url_default(args.host, args.port)
    _django()
    pending = unapplied_migrations()
    if pending:
        print(
            f"error: the database needs {len(pending)} migration(s) ({', '.join(pending[:3])}"
            f"{', …' if len(pending) > 3 else ''}); run 'serviceloop migrate' once, then start serve.",
            file=sys.stderr,
        )
        return 2
    _manage("collectstatic", "--noinput", "-v", "0")
    os.execv(sys.executable, _gunicorn_argv(args.host, args.port, args.workers))  # nosec B606  # our interpreter, our argv


def cmd_worker(args: argparse.Namespace) -> int:
    """Workers scale out; the scheduler (beat) must run exactly once per installation: --beat, or `serviceloop beat`."""
    _django()
    os.execv(sys.executable, _worker_argv(args.beat, args.concurrency))  # nosec B606  # our interpreter, our argv


def cmd_beat(args: argparse.Namespace) -> int:
    _django()
    os.execv(sys.executable, _beat_argv())  # nosec B606  # our interpreter, our argv


def cmd_run(args: argparse.Namespace) -> int:
    """Web server and worker together, for one machine; Ctrl-C stops both."""
    _site_url_default(args.host, args.port)
    _prepare()
    from serviceloop.demo import demo_is_loaded, load_demo, print_logins

    if not args.no_demo and not demo_is_loaded():
        print("First run: loading demo data (once)…", flush=True)
        load_demo(seed=42, progress=sys.stderr.isatty())
    children = [
        subprocess.Popen(_gunicorn_argv(args.host, args.port, args.workers)),  # nosec B603  # our interpreter, our argv
        subprocess.Popen(_worker_argv(True, 1)),  # nosec B603  # our interpreter, our argv
    ]
    print(f"\nserviceloop is running at http://{args.host}:{args.port}/  (Ctrl-C stops it)", flush=True)
    if not args.no_demo:
        print_logins()
    from serviceloop.core.mail import delivery_summary

    print(f"\n{delivery_summary()}", flush=True)

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["serviceloop manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serviceloop", description="serviceloop: service experience platform.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="migrate, load demo data on first run, start web server and worker")
    serve = sub.add_parser("serve", help="start the web server (gunicorn); run 'migrate' first")
    for p in (run, serve):
        p.add_argument("--host", default=os.environ.get("SERVICELOOP_HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        p.add_argument("--workers", type=int, default=int(os.environ.get("SERVICELOOP_WEB_WORKERS", "2")))
    run.add_argument("--no-demo", action="store_true", help="do not load demo data")
    run.set_defaults(handler=cmd_run)
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="start a Celery worker (add --beat on exactly one of them)")
    worker.add_argument(
        "--beat", action="store_true", help="also run the scheduler here (exactly one per installation)"
    )
    worker.add_argument("--concurrency", type=int, default=2)
    worker.set_defaults(handler=cmd_worker)

    beat = sub.add_parser("beat", help="start the scheduler alone (exactly one per installation)")
    beat.set_defaults(handler=cmd_beat)

    migrate = sub.add_parser("migrate", help="create or update the database tables")
    migrate.set_defaults(handler=cmd_migrate)

    demo = sub.add_parser("demo", help="load the deterministic demo data set")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--force", action="store_true", help="load even if demo data seems present")
    demo.set_defaults(handler=cmd_demo)

    admin = sub.add_parser("createadmin", help="create an administrator login")
    admin.add_argument("email")
    admin.add_argument("--name", default="")
    admin.add_argument("--password", help="default: SERVICELOOP_ADMIN_PASSWORD or a prompt")
    admin.set_defaults(handler=cmd_createadmin)

    manage = sub.add_parser("manage", help="run a Django management command (e.g. 'check --deploy')")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=cmd_manage)

    for module_name in COMMAND_MODULES:
        _app_commands(sub, module_name)
    return parser


def _app_commands(sub: argparse._SubParsersAction, module_name: str) -> None:  # type: ignore[type-arg]
    """Apps add operator commands through `register(subparsers)` in their `commands.py`."""
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        return
    module.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serviceloop.settings")
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
