"""Forms of the portal and the staff pages: shape only; the services decide meaning."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.desk.models import Team, Ticket
from serviceloop.relationships.models import Person


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class OfferingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.service.name} — {obj.name}"


class NewTicketForm(forms.Form):
    offering = OfferingChoiceField(queryset=Offering.objects.none(), label="Service", empty_label=None)
    type = forms.ChoiceField(choices=Ticket.Type.choices, initial=Ticket.Type.INCIDENT, label="What is it?")
    subject = forms.CharField(max_length=300)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=100_000, label="Description")
    urgency = forms.ChoiceField(
        choices=Ticket.Level.choices, initial=Ticket.Level.MEDIUM, help_text="How soon does it hurt your work?"
    )
    impact = forms.ChoiceField(
        choices=Ticket.Level.choices, initial=Ticket.Level.MEDIUM, help_text="How many people or how much work?"
    )
    attachments = MultipleFileField(label="Attach files")

    def __init__(self, *args: Any, offerings: list[Offering], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["offering"]
        assert isinstance(field, forms.ModelChoiceField)  # nosec B101  # narrows the type for mypy; declared above
        field.queryset = Offering.objects.filter(pk__in=[o.pk for o in offerings]).select_related("service")


class StaffNewTicketForm(forms.Form):
    """A ticket opened by staff for someone who called, wrote or walked up: the person must be a contact."""

    requester = forms.EmailField(
        label="Requester's email", max_length=254, help_text="A contact of a consumer organisation."
    )
    service = forms.ModelChoiceField(queryset=Service.objects.none(), empty_label=None)
    type = forms.ChoiceField(choices=Ticket.Type.choices, initial=Ticket.Type.INCIDENT, label="What is it?")
    subject = forms.CharField(max_length=300)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=100_000, label="Description")
    urgency = forms.ChoiceField(choices=Ticket.Level.choices, initial=Ticket.Level.MEDIUM)
    impact = forms.ChoiceField(choices=Ticket.Level.choices, initial=Ticket.Level.MEDIUM)
    attachments = MultipleFileField(label="Attach files")
    # Set when the page was opened from a person's page: tells apart contacts who share an email.
    person = forms.CharField(required=False, max_length=24, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["service"]
        assert isinstance(field, forms.ModelChoiceField)  # nosec B101  # narrows the type for mypy; declared above
        field.queryset = Service.objects.exclude(lifecycle=Service.Lifecycle.RETIRED).order_by("name")

    def clean_requester(self) -> Person:
        email = self.cleaned_data["requester"]
        contacts = Person.objects.filter(email__iexact=email).select_related("organisation")
        chosen = str(self.data.get("person") or "")[:24]
        if chosen:
            contacts = contacts.filter(public_id=chosen)
        found = list(contacts[:2])
        if not found:
            raise forms.ValidationError("No contact has this email. Add the person on their organisation's page first.")
        if len(found) > 1:
            raise forms.ValidationError(
                "Several organisations have a contact with this email; open the form from the person's page."
            )
        return found[0]


class ReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=100_000, label="Your reply")
    attachments = MultipleFileField(label="Attach files")


class StaffReplyForm(ReplyForm):
    internal = forms.BooleanField(required=False, label="Internal note (never shown to the customer)")


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="— nobody —")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="— no team —")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)  # nosec B101  # narrows the type for mypy; declared above
        field.queryset = User.objects.filter(is_active=True).exclude(role=User.Role.CUSTOMER).order_by("name")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices)
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=100_000, help_text="When resolving"
    )


class PriorityForm(forms.Form):
    impact = forms.ChoiceField(choices=Ticket.Level.choices)
    urgency = forms.ChoiceField(choices=Ticket.Level.choices)


class MoveForm(forms.Form):
    """Move a ticket: the choices are the offerings its organisation consumes, so every one is allowed."""

    offering = OfferingChoiceField(
        queryset=Offering.objects.none(), label="Move to", empty_label="— choose a service and offering —"
    )
    note = forms.CharField(max_length=500, required=False, label="Why", help_text="Kept in the ticket's history")

    def __init__(self, *args: Any, offerings: list[Offering], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["offering"]
        assert isinstance(field, forms.ModelChoiceField)  # nosec B101  # narrows the type for mypy; declared above
        field.queryset = (
            Offering.objects.filter(pk__in=[o.pk for o in offerings])
            .select_related("service")
            .order_by("service__name", "name")
        )


class MailRouteForm(forms.Form):
    """A mail route: an address, or a rule (keywords and/or the sender's organisation)."""

    service = forms.ModelChoiceField(queryset=Service.objects.none(), empty_label=None)
    offering = OfferingChoiceField(
        queryset=Offering.objects.none(),
        required=False,
        empty_label="— the organisation's offering of the service —",
        help_text="Only when the sender's organisation consumes it; else the service alone.",
    )
    address = forms.CharField(
        max_length=254,
        required=False,
        label="Address",
        help_text="Mail sent to this address (e.g. payroll@desk.example) opens its ticket here. Leave empty for a rule.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    keywords = forms.CharField(
        max_length=500,
        required=False,
        label="Keywords (a rule)",
        help_text="Comma-separated; any one at the start of a word of the subject or body matches (payslip, salary).",
    )
    sender_organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="— any organisation —",
        label="Sender's organisation (a rule)",
    )
    position = forms.IntegerField(
        min_value=0, max_value=1_000_000, initial=100, help_text="Rules are tried from the lowest position up."
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    note = forms.CharField(max_length=200, required=False, label="Note for colleagues")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (
            ("service", Service.objects.exclude(lifecycle=Service.Lifecycle.RETIRED).order_by("name")),
            ("offering", Offering.objects.select_related("service").order_by("service__name", "name")),
            ("sender_organisation", Organisation.objects.order_by("name")),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)  # nosec B101  # narrows the type for mypy; declared above
            field.queryset = queryset


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=[("assign", "Assign"), ("status", "Change state"), ("resolve", "Resolve")])
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="— nobody —")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="— no team —")
    # Resolving has an action of its own, with the resolution text it needs.
    status = forms.ChoiceField(
        choices=[("", "—"), *(c for c in Ticket.Status.choices if c[0] != Ticket.Status.RESOLVED)], required=False
    )
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "aria-describedby": "resolution-help"}),
        required=False,
        max_length=100_000,
        help_text="Sent to each requester with the resolution notice.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)  # nosec B101  # narrows the type for mypy; declared above
        field.queryset = User.objects.filter(is_active=True).exclude(role=User.Role.CUSTOMER).order_by("name")
