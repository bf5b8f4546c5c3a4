"""The filters of the experience pages (GET): period, offering, organisation, channel, ticket type, grouping.

Shape only: a filter that does not parse is shown next to its field (the page answers 400), and the
page's data is read by experience.queries from `PageFilters`. Tenancy is not decided here: the
view gives a customer's form their own organisation only, and a customer naming another
organisation is answered 404 by `queries.page_scope`, as the metrics API does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet

from serviceloop.accounts.models import Organisation
from serviceloop.catalogue.models import Offering
from serviceloop.core import clock
from serviceloop.core.forms import BoundedDateField
from serviceloop.desk.models import Ticket
from serviceloop.experience.api import CHANNELS
from serviceloop.experience.recount import day_of
from serviceloop.feedback.models import SentimentLabel

DEFAULT_DAYS = 90  # the period a page opens with: the last 90 days ending today
MAX_DAYS = 3 * 366  # a longer period is no longer a trend anyone reads at a glance: narrow it
GROUPINGS = (("week", "Week"), ("month", "Month"))
CHANNEL_LABELS = {"social": "Social posts", "staff": "Staff (tickets)", "qr": "QR code", "api": "API"}


@dataclass(frozen=True)
class PageFilters:
    """What the page shows: days inclusive in settings.TIME_ZONE; None = every value."""

    since: date
    until: date
    grouping: str = "week"
    offering: Offering | None = None
    organisation: Organisation | None = None
    channel: str = ""
    ticket_type: str = ""  # a Ticket.Type or "none" (responses without a ticket)
    sentiment: str = ""  # the comments list only

    def query(self, **changes: Any) -> dict[str, str]:
        """These filters as the page's own query parameters (for links and the CSV export)."""
        values = {
            "from": self.since.isoformat(),
            "to": self.until.isoformat(),
            "grouping": self.grouping,
            "offering": self.offering.public_id if self.offering else "",
            "organisation": self.organisation.public_id if self.organisation else "",
            "channel": self.channel,
            "ticket_type": self.ticket_type,
            "sentiment": self.sentiment,
        }
        values.update(changes)
        return {key: str(value) for key, value in values.items() if value}


def default_period() -> tuple[date, date]:
    today = day_of(clock.now())
    return today - timedelta(days=DEFAULT_DAYS - 1), today


class ExperienceFilterForm(forms.Form):
    offering = forms.ModelChoiceField(
        queryset=Offering.objects.none(), to_field_name="public_id", required=False, empty_label="Any offering"
    )
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label="Any organisation",
    )
    channel = forms.ChoiceField(required=False)
    ticket_type = forms.ChoiceField(
        label="Ticket type",
        required=False,
        choices=[("", "Any type"), *Ticket.Type.choices, ("none", "No ticket")],
    )
    grouping = forms.ChoiceField(label="Trend by", required=False, choices=GROUPINGS)
    sentiment = forms.ChoiceField(
        label="Comments", required=False, choices=[("", "Any sentiment"), *SentimentLabel.choices]
    )

    def __init__(
        self,
        data: Any,
        *,
        offerings: QuerySet[Offering],
        organisations: QuerySet[Organisation] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        since, until = default_period()
        # "from" is a keyword: the period's fields are added by name, as the API names them.
        self.fields["from"] = BoundedDateField(label="From", required=False, initial=since)
        self.fields["to"] = BoundedDateField(label="To", required=False, initial=until)
        for name in ("from", "to"):
            # <input type="date"> takes ISO days only; the en-gb default (03/05/2026) would show empty.
            self.fields[name].widget.format = "%Y-%m-%d"  # type: ignore[attr-defined]
        self.order_fields(["from", "to", "offering", "organisation", "channel", "ticket_type", "grouping"])
        self.fields["offering"].queryset = offerings.order_by("name")  # type: ignore[attr-defined]
        if organisations is None:
            del self.fields["organisation"]  # a customer: always their own organisation
        else:
            self.fields["organisation"].queryset = organisations.order_by("name")  # type: ignore[attr-defined]
        self.fields["channel"].choices = [  # type: ignore[attr-defined]
            ("", "Any channel"),
            *((value, CHANNEL_LABELS.get(value, value.capitalize())) for value in CHANNELS),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _since, default_until = default_period()
        until = cleaned.get("to") or default_until
        since = cleaned.get("from") or until - timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            self.add_error("to", "The last day is before the first day.")
        elif (until - since).days + 1 > MAX_DAYS:
            self.add_error("from", f"At most {MAX_DAYS} days at once: narrow the period.")
        cleaned["from"], cleaned["to"] = since, until
        return cleaned

    def filters(self) -> PageFilters:
        """The filters that parsed, on the default period when the period did not."""
        data = getattr(self, "cleaned_data", {})
        since, until = default_period()
        if "from" not in self.errors and "to" not in self.errors:
            since, until = data.get("from") or since, data.get("to") or until
        return PageFilters(
            since=since,
            until=until,
            grouping=data.get("grouping") or "week",
            offering=data.get("offering"),
            organisation=data.get("organisation"),
            channel=data.get("channel") or "",
            ticket_type=data.get("ticket_type") or "",
            sentiment=data.get("sentiment") or "",
        )
