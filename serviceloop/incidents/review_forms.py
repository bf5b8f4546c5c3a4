"""Forms of the review page: the review's fields, a new action, completing."""

from __future__ import annotations

from typing import Any

from django import forms

from serviceloop.accounts.models import User
from serviceloop.incidents.models import Review, ReviewAction


def _staff() -> Any:
    return User.objects.filter(is_active=True).exclude(role=User.Role.CUSTOMER).order_by("name")


class ReviewForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="— nobody —")
    root_cause_category = forms.ChoiceField(choices=Review.RootCause.choices, label="Root-cause category")
    root_cause = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=20000)
    contributing_factors = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=20000,
        help_text='One per line. Blameless: name the conditions, not "human error".',
    )
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=20000, help_text="How service was restored"
    )
    customer_summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=20000,
        help_text="Published on the status page with the incident",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)  # nosec B101  # narrows the type for mypy
        field.queryset = _staff()

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["contributing_factors"] = [line for line in data["contributing_factors"].splitlines() if line.strip()]
        return data


class ActionForm(forms.Form):
    title = forms.CharField(max_length=300)
    kind = forms.ChoiceField(choices=ReviewAction.Kind.choices)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="— nobody —")
    due_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Due on")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.auto_id = "action_%s"
        field = self.fields["owner"]
        assert isinstance(field, forms.ModelChoiceField)  # nosec B101  # narrows the type for mypy
        field.queryset = _staff()


class CompleteForm(forms.Form):
    no_actions = forms.BooleanField(
        required=False, label="No follow-up action is needed", help_text="Say so on purpose when there are no actions"
    )
