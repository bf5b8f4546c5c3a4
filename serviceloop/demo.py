"""Load the demo data set: each app's `demo.load(ctx)`, lowest floor first, in one transaction."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.db import transaction

from serviceloop.core import clock
from serviceloop.core.demo import DemoContext

# Kept for printing after a later start, without re-reading the data set.
_LOGIN_ROLES = ("administrator", "service_manager", "agent", "customer")


def demo_is_loaded() -> bool:
    from serviceloop.accounts.models import Organisation

    return Organisation.objects.exists()


def load_demo(*, seed: int = 42, progress: bool = False) -> DemoContext:
    now = clock.now().replace(microsecond=0)
    ctx = DemoContext(seed=seed, now=now, progress=progress)
    with transaction.atomic():
        for config in apps.get_app_configs():
            if not config.name.startswith("serviceloop."):
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{config.name}.demo":
                    raise
                continue
            # core.demo holds DemoContext and loads nothing itself.
            load = getattr(module, "load", None)
            if load is not None:
                load(ctx)
    return ctx


def print_logins() -> None:
    from serviceloop.accounts.demo import demo_logins

    logins = demo_logins()
    width = max((len(role) for role, _ in logins), default=0)
    print(f"\nDemo logins ({len(logins)}; the password of every one is serviceloop-demo):")
    for role, email in logins:
        print(f"  {role:<{width}}  {email}")
