from typing import Any

from django.apps import AppConfig
from django.core import checks


class CoreConfig(AppConfig):
    name = "serviceloop.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        checks.register(rate_limit_settings_check)


def rate_limit_settings_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A mistyped SERVICELOOP_RATE_* or SERVICELOOP_TRUSTED_PROXIES stops the start, not a request."""
    import ipaddress

    from django.conf import settings

    from serviceloop.core.ratelimit import parse_rule

    errors: list[checks.CheckMessage] = []
    for name in dir(settings):
        if name.startswith("SERVICELOOP_RATE_"):
            try:
                parse_rule(name.removeprefix("SERVICELOOP_RATE_").lower(), str(getattr(settings, name)))
            except ValueError as error:
                errors.append(checks.Error(str(error), id="serviceloop.E101"))
    for value in getattr(settings, "SERVICELOOP_TRUSTED_PROXIES", []):
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            errors.append(
                checks.Error(
                    f"SERVICELOOP_TRUSTED_PROXIES: {value!r} is not an address or network", id="serviceloop.E102"
                )
            )
    return errors
