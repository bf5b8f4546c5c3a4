"""The incidents settings that need parsing, read by serviceloop/settings.py at start-up (no Django models here)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
# A severity the setting leaves out has its review due after this many days.
DEFAULT_DUE_DAYS = 10


def review_due_days(name: str, text: str) -> dict[str, int]:
    """Parse "sev1=3,sev2=5" into days per severity; anything else stops the start plainly."""
    days = dict.fromkeys(SEVERITIES, DEFAULT_DUE_DAYS)
    for part in text.split(","):
        key, sep, value = part.strip().partition("=")
        key = key.strip().lower()
        value = value.strip()
        if not sep or key not in days or not value.isdigit() or not 1 <= int(value) <= 365:
            raise ImproperlyConfigured(
                f"{name} lists severities with days from 1 to 365, e.g. sev1=3,sev2=5; {part.strip()!r} is not one."
            )
        days[key] = int(value)
    return days


def minutes(name: str, text: str) -> int:
    """A whole number of minutes from 0 to 1440."""
    text = text.strip()
    if not text.isdigit() or int(text) > 1440:
        raise ImproperlyConfigured(f"{name} is a whole number of minutes from 0 to 1440, not {text!r}.")
    return int(text)
