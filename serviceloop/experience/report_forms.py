"""The form that asks for a service review: a service or a relationship, and a period."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from serviceloop.catalogue.models import Service
from serviceloop.core import clock
from serviceloop.core.forms import BoundedDateField
from serviceloop.relationships.models import Relationship

PERIODS = [
    ("last_month", "Last calendar month"),
    ("last_quarter", "Last calendar quarter"),
    ("this_month", "This month so far"),
    ("this_quarter", "This quarter so far"),
    ("last_90_days", "The last 90 days"),
    ("custom", "Other days (below)"),
]


def _quarter_start(day: date) -> date:
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def period_of(choice: str, today: date) -> tuple[date, date]:
    """The first and last day of a named period, seen from `today` (project time zone)."""
    month_start = today.replace(day=1)
    if choice == "last_month":
        end = month_start - timedelta(days=1)
        return end.replace(day=1), end
    if choice == "this_month":
        return month_start, today
    quarter_start = _quarter_start(today)
    if choice == "last_quarter":
        end = quarter_start - timedelta(days=1)
        return _quarter_start(end), end
    if choice == "this_quarter":
        return quarter_start, today
    if choice == "last_90_days":
        return today - timedelta(days=89), today
    raise ValueError(f"unknown period {choice!r}")


class ReviewRequestForm(forms.Form):
    service = forms.ModelChoiceField(
        Service.objects.order_by("name"), to_field_name="public_id", required=False, empty_label="—"
    )
    relationship = forms.ModelChoiceField(
        Relationship.objects.select_related("organisation", "offering__service").order_by(
            "organisation__name", "offering__name"
        ),
        to_field_name="public_id",
        required=False,
        empty_label="— the whole service (every organisation)",
        label="Relationship (organisation × offering)",
        help_text="A relationship's review counts that organisation's answers and tickets for that offering only, "
        "and its customers may read and download it.",
    )
    period = forms.ChoiceField(choices=PERIODS, initial="last_month")
    period_start = BoundedDateField(required=False, label="First day")
    period_end = BoundedDateField(required=False, label="Last day")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("service") and not data.get("relationship"):
            self.add_error("service", "Choose a service, or a relationship below.")
        choice = data.get("period")
        if choice == "custom":
            if not data.get("period_start"):
                self.add_error("period_start", "Give the first day of the period.")
            if not data.get("period_end"):
                self.add_error("period_end", "Give the last day of the period.")
        elif choice:
            data["period_start"], data["period_end"] = period_of(choice, timezone.localdate(clock.now()))
        return data
