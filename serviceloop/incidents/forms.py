"""Forms of the incident pages: shape only; the services (incidents.services) decide meaning.

The per-service component status is one select per service, named `status_<service public id>`,
"not affected" by default: a row of the declare form and of the update composer each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.desk.models import BusinessCalendar
from serviceloop.incidents.models import (
    Audience,
    Channel,
    ComponentStatus,
    Incident,
    RecoveryStep,
    Severity,
)

NOT_AFFECTED = ""
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalField(forms.DateTimeField):
    """A date and time in the viewer's time zone, from the browser's date-time picker."""

    input_formats = [DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
    widget = forms.DateTimeInput(format=DATETIME_FORMAT, attrs={"type": "datetime-local"})

    def clean(self, value: Any) -> datetime | None:
        result = super().clean(value)
        if result is not None and not 1970 <= result.year <= 2099:
            raise forms.ValidationError("Give a date between 1970 and 2099.")
        return result


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class OfferingChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.service.name} — {obj.name}"


def _staff() -> Any:
    return User.objects.filter(is_active=True).exclude(role=User.Role.CUSTOMER).order_by("name", "email")


def status_field_name(service: Service) -> str:
    return f"status_{service.public_id}"


class ServiceStatusMixin:
    """Adds one component-status select per service; `service_statuses()` gives {service: status}."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def add_service_fields(self, services: list[Service], *, none_label: str, initial: dict[int, str]) -> None:
        self.status_services = services
        for service in services:
            self.fields[status_field_name(service)] = forms.ChoiceField(
                label=service.name,
                required=False,
                choices=[(NOT_AFFECTED, none_label), *ComponentStatus.choices],
                initial=initial.get(service.pk, NOT_AFFECTED),
            )

    def service_statuses(self) -> dict[Service, str]:
        return {
            service: self.cleaned_data[status_field_name(service)]
            for service in self.status_services
            if self.cleaned_data.get(status_field_name(service))
        }

    def service_bound_fields(self) -> list[Any]:
        return [self[status_field_name(service)] for service in self.status_services]  # type: ignore[index]


class DeclareForm(ServiceStatusMixin, forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autofocus": True}))
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.SEV2)
    offerings = OfferingChoiceField(
        queryset=Offering.objects.select_related("service").order_by("service__name", "name"),
        required=False,
        help_text="Optional: narrow the impact to these offerings.",
    )
    organisations = forms.ModelMultipleChoiceField(
        queryset=Organisation.objects.order_by("name"),
        required=False,
        help_text="Leave empty for every organisation consuming an affected service.",
    )
    impact_started_at = DateTimeLocalField(label="Impact started", required=False)
    owner = StaffChoiceField(queryset=User.objects.none(), required=False, label="Incident owner")
    comms_lead = StaffChoiceField(queryset=User.objects.none(), required=False, label="Communications lead")
    visibility = forms.ChoiceField(choices=Incident.Visibility.choices, initial=Incident.Visibility.CUSTOMERS)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, label="What is known")

    MAIN = ("title", "severity", "visibility", "impact_started_at", "owner", "comms_lead")
    SCOPE = ("offerings", "organisations", "description")

    def __init__(self, *args: Any, services: list[Service], initial_statuses: dict[int, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _staff()  # type: ignore[attr-defined]
        self.fields["comms_lead"].queryset = _staff()  # type: ignore[attr-defined]
        self.add_service_fields(services, none_label="Not affected", initial=initial_statuses)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.service_statuses():
            self.add_error(None, "Choose the status of at least one affected service.")
        return cleaned

    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.MAIN]

    def scope_fields(self) -> list[Any]:
        return [self[name] for name in self.SCOPE]


class UpdateForm(ServiceStatusMixin, forms.Form):
    audiences = forms.MultipleChoiceField(
        choices=Audience.choices, widget=forms.CheckboxSelectMultiple, label="Send to"
    )
    status = forms.ChoiceField()
    affected = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="What is affected")
    impacted = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Who is impacted")
    actions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="What we are doing")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Message as published",
        help_text="Leave empty to compose it from the three parts (then all three are needed).",
    )
    next_update_at = DateTimeLocalField(label="Next update by", required=False)
    deliver_notifications = forms.BooleanField(required=False, initial=True, label="Notify subscribers")

    def __init__(self, *args: Any, incident: Incident, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if incident.kind == Incident.Kind.MAINTENANCE:
            states = [(s, label) for s, label in Incident.Status.choices if s not in Incident.OPEN_INCIDENT]
        else:
            states = [(s, label) for s, label in Incident.Status.choices if s in Incident.OPEN_INCIDENT]
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (s, label) for s, label in states if s not in (Incident.Status.RESOLVED, Incident.Status.COMPLETED)
        ]
        affected = list(incident.affected_services.all())
        self.add_service_fields(
            [a.service for a in affected],
            none_label="Unchanged",
            initial={},
        )
        for service in self.status_services:
            current = next(a for a in affected if a.service_id == service.pk)
            self.fields[status_field_name(service)].help_text = f"Now: {current.get_component_status_display()}"


class PlanForm(forms.Form):
    cadence_minutes = forms.IntegerField(min_value=5, max_value=1440, label="Every (minutes)")
    channels = forms.MultipleChoiceField(choices=Channel.choices, widget=forms.CheckboxSelectMultiple, required=False)
    owner = StaffChoiceField(queryset=User.objects.none(), required=False)
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.order_by("name"), required=False, empty_label="Every hour of every day"
    )
    is_active = forms.BooleanField(required=False, label="Active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _staff()  # type: ignore[attr-defined]


class StepForm(forms.Form):
    title = forms.CharField(max_length=300)
    detail = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    owner = StaffChoiceField(queryset=User.objects.none(), required=False)
    eta = DateTimeLocalField(label="ETA", required=False)
    eta_confidence = forms.ChoiceField(
        choices=[("", "—"), *Incident.Confidence.choices], required=False, label="Confidence"
    )
    customer_facing = forms.BooleanField(required=False, label="Customer-facing")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _staff()  # type: ignore[attr-defined]


class StepEditForm(StepForm):
    status = forms.ChoiceField(choices=RecoveryStep.Status.choices)


class EtaForm(forms.Form):
    eta = DateTimeLocalField(label="Recovery ETA", required=False, help_text="Empty clears the ETA.")
    confidence = forms.ChoiceField(choices=[("", "—"), *Incident.Confidence.choices], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The working page holds several forms: ids of their own, so each label names its own field.
        kwargs.setdefault("auto_id", "eta_%s")
        super().__init__(*args, **kwargs)


class ResolveForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Resolution notice")
    resolved_at = DateTimeLocalField(label="Resolved at", required=False, help_text="Empty: now.")
    impact_ended_at = DateTimeLocalField(label="Impact ended", required=False, help_text="Empty: when resolved.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its `body` would share the id of the update composer's on the same page.
        kwargs.setdefault("auto_id", "resolve_%s")
        super().__init__(*args, **kwargs)


class ChangeForm(forms.Form):
    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=Severity.choices)
    visibility = forms.ChoiceField(choices=Incident.Visibility.choices)
    owner = StaffChoiceField(queryset=User.objects.none(), required=False, label="Incident owner")
    comms_lead = StaffChoiceField(queryset=User.objects.none(), required=False, label="Communications lead")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "change_%s")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _staff()  # type: ignore[attr-defined]
        self.fields["comms_lead"].queryset = _staff()  # type: ignore[attr-defined]
