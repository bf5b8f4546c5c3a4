"""Forms of the maintenance pages: shape only; the services decide what a window may be."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from serviceloop.catalogue.models import Offering, Service
from serviceloop.core.schemas import EARLIEST_YEAR, LATEST_YEAR
from serviceloop.incidents.maintenance_checks import NOTICE_MAX_MINUTES
from serviceloop.incidents.models import Incident

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def _in_range(value: Any) -> None:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise forms.ValidationError(f"Give a time between {EARLIEST_YEAR} and {LATEST_YEAR}.")


class LocalDateTimeField(forms.DateTimeField):
    """A `datetime-local` input, read and shown in the viewer's time zone (the active one)."""

    default_validators = [_in_range]
    widget = forms.DateTimeInput(format=LOCAL_FORMAT, attrs={"type": "datetime-local"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", [LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
        super().__init__(**kwargs)


def _notice_field() -> forms.IntegerField:
    return forms.IntegerField(
        label="Notice (minutes before)",
        min_value=0,
        max_value=NOTICE_MAX_MINUTES,
        required=False,
        help_text=f"When the reminder goes out; empty: {settings.SERVICELOOP_MAINTENANCE_NOTICE_MINUTES} minutes.",
    )


class WindowMixin(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("scheduled_for"), cleaned.get("scheduled_until")
        if start and end and end <= start:
            self.add_error("scheduled_until", "The window must end after it starts.")
        return cleaned


class MaintenanceForm(WindowMixin):
    title = forms.CharField(max_length=200, help_text="As customers will read it, e.g. “Mail server upgrade”.")
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(),
        to_field_name="public_id",
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="The services under maintenance (Ctrl or ⌘ to choose several).",
    )
    offerings = forms.ModelMultipleChoiceField(
        queryset=Offering.objects.none(),
        to_field_name="public_id",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text="Only these offerings' customers are affected; none: every offering of the services.",
    )
    scheduled_for = LocalDateTimeField(label="Starts")
    scheduled_until = LocalDateTimeField(label="Ends")
    notice_minutes = _notice_field()
    visibility = forms.ChoiceField(choices=Incident.Visibility.choices, initial=Incident.Visibility.PUBLIC)
    auto_start = forms.BooleanField(required=False, initial=True, label="Start automatically at the planned start")
    auto_complete = forms.BooleanField(required=False, initial=True, label="Complete automatically at the planned end")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
        label="Announcement",
        help_text="Empty: written from the services and the window.",
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10000, label="Internal notes"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = Service.objects.order_by("name")  # type: ignore[attr-defined]
        offerings = self.fields["offerings"]
        offerings.queryset = Offering.objects.select_related("service").order_by("service__name", "name")  # type: ignore[attr-defined]
        offerings.label_from_instance = lambda o: f"{o.service.name} — {o.name}"  # type: ignore[attr-defined]


class RescheduleForm(WindowMixin):
    scheduled_for = LocalDateTimeField(label="Starts")
    scheduled_until = LocalDateTimeField(label="Ends")
    notice_minutes = _notice_field()
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
        label="What to say",
        help_text="Empty: “Rescheduled: maintenance on … is scheduled for …”.",
    )


class StepForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=10000, label="Update")


class UpdateForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000, label="Update")
