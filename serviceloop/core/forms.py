"""The event log's filters: shape only; a filter that does not parse is shown next to its field."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from serviceloop.core.queries import MAX_TEXT
from serviceloop.core.schemas import EARLIEST_DATE, LATEST_DATE, date_in_range


def _date_in_range(value: date) -> None:
    if not date_in_range(value):
        raise forms.ValidationError(f"Give a date between {EARLIEST_DATE:%d %b %Y} and {LATEST_DATE:%d %b %Y}.")


class BoundedDateField(forms.DateField):
    """A date from 1970 to 2099 (core.schemas), as the API's `BoundedDate`; a date picker in the page."""

    default_validators = [_date_in_range]
    # ISO days: a date input shows nothing for a value in the locale's format (e.g. 01/12/2026).
    widget = forms.DateInput(
        format="%Y-%m-%d",
        attrs={"type": "date", "min": f"{EARLIEST_DATE:%Y-%m-%d}", "max": f"{LATEST_DATE:%Y-%m-%d}"},
    )


class EventFilterForm(forms.Form):
    name = forms.ChoiceField(label="Event", required=False)
    subject_type = forms.ChoiceField(label="Kind of object", required=False)
    actor = forms.EmailField(label="Done by (email)", required=False, max_length=254)
    since = BoundedDateField(label="From", required=False)
    until = BoundedDateField(label="To", required=False)
    q = forms.CharField(label="Object", required=False, max_length=MAX_TEXT)

    def __init__(self, *args: Any, names: list[str], subject_types: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].choices = [("", "Any event"), *((n, n) for n in names)]  # type: ignore[attr-defined]
        self.fields["subject_type"].choices = [  # type: ignore[attr-defined]
            ("", "Any kind"),
            *((t, t) for t in subject_types),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The filters that parsed; one bad field does not throw the others away."""
        data = getattr(self, "cleaned_data", {})
        return {
            "name": data.get("name") or None,
            "subject_type": data.get("subject_type") or None,
            "actor_email": data.get("actor") or None,
            "since": data.get("since"),
            "until": data.get("until"),
            "q": data.get("q") or None,
        }
