"""The XLA forms: create (a service or a relationship) and edit (the definition, not the scope)."""

from __future__ import annotations

from typing import Any

from django import forms

from serviceloop.accounts.models import User
from serviceloop.accounts.versioning import VersionedForm
from serviceloop.catalogue.models import Service
from serviceloop.experience.metrics import METRICS
from serviceloop.experience.models import Xla
from serviceloop.experience.xlas import DEFAULT_MARGINS
from serviceloop.relationships.models import Relationship


def _decimal(help_text: str, required: bool = True) -> forms.DecimalField:
    # A text box, not <input type=number>: a browser empties a number box it cannot read, and the
    # form would silently store nothing; the server refuses such input with a message instead.
    return forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def _margins() -> str:
    return ", ".join(f"{margin} {unit}" for unit, margin in DEFAULT_MARGINS.items())


class XlaEditForm(VersionedForm):
    name = forms.CharField(max_length=200, help_text="e.g. “Happiness of payroll users”")
    metric = forms.ChoiceField(choices=())
    comparator = forms.ChoiceField(choices=Xla.Comparator.choices, initial=Xla.Comparator.AT_LEAST)
    target = _decimal("In the metric's unit: per cent, points (−100 to 100), minutes …")
    window = forms.ChoiceField(choices=Xla.Window.choices, initial=Xla.Window.ROLLING_30)
    min_sample = forms.IntegerField(
        min_value=1,
        required=False,
        help_text="Below this many answers (or tickets): not enough data. Default: the project's.",
    )
    risk_margin = _decimal("", required=False)
    start_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Default: today."
    )
    baseline_kind = forms.ChoiceField(choices=Xla.BaselineKind.choices, initial=Xla.BaselineKind.NONE, label="Baseline")
    baseline = _decimal("Only with “A value I give”.", required=False)
    baseline.label = "Baseline value"
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        help_text="Accountable for it; empty: the service's manager.",
        error_messages={"invalid_choice": "Pick an active service manager or administrator from the list."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [  # type: ignore[attr-defined]
            (name, f"{metric.label} ({metric.unit})") for name, metric in METRICS.items()
        ]
        self.fields["risk_margin"].label = "At-risk margin"
        self.fields["risk_margin"].help_text = (
            "Met, but by less than this (in the metric's unit): at risk. Default by unit: " + _margins() + "."
        )
        owner = self.fields["owner"]
        owner.queryset = User.objects.filter(  # type: ignore[attr-defined]
            role__in=(User.Role.SERVICE_MANAGER, User.Role.ADMINISTRATOR), is_active=True
        ).order_by("name", "email")
        owner.label_from_instance = lambda user: f"{user.display_name} ({user.get_role_display().lower()})"  # type: ignore[attr-defined]


class XlaForm(XlaEditForm):
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), required=False, help_text="For the whole service (or pick a relationship)."
    )
    relationship = forms.ModelChoiceField(
        queryset=Relationship.objects.none(),
        required=False,
        help_text="For one organisation's use of one offering.",
    )
    field_order = ["name", "service", "relationship"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["relationship"].queryset = (  # type: ignore[attr-defined]
            Relationship.objects.exclude(status=Relationship.Status.ENDED)
            .select_related("organisation", "offering__service")
            .order_by("organisation__name", "offering__name")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("service") and not data.get("relationship"):
            self.add_error("service", "Pick a service or a relationship.")
        return data
