"""Whether an organisation sees its own trust in the portal (DOMAIN §5, issue 14).

Trust is the provider's reading of a relationship, not a figure the customer asked for: it is never
shown to an organisation's customers unless the provider turns it on for that organisation. No
`TrustSharing` row means off. Every change is recorded in the audit trail ("trust.sharing_changed",
subject the organisation, with who and the previous value), in the same transaction.
"""

from __future__ import annotations

from django.db import transaction

from serviceloop.accounts.models import Organisation, User
from serviceloop.core import clock
from serviceloop.core.errors import NotAllowed
from serviceloop.core.events import event_record
from serviceloop.core.visibility import is_staff_viewer
from serviceloop.experience.trust_models import TrustSharing


def trust_shown_to_customers(organisation: Organisation) -> bool:
    """True only when the provider turned it on for this organisation (one query)."""
    return TrustSharing.objects.filter(organisation_id=organisation.pk, shown_in_portal=True).exists()


def trust_sharing_set(*, organisation: Organisation, shown: bool, by: User) -> TrustSharing:
    """Show (or stop showing) the organisation its own trust in the portal. Staff only.

    Setting the value it already has changes nothing and records nothing (a form sent twice)."""
    if not is_staff_viewer(by):
        raise NotAllowed("not_allowed", "Only the provider's staff may choose whether an organisation sees its trust.")
    with transaction.atomic():
        row, created = TrustSharing.objects.select_for_update().get_or_create(
            organisation=organisation, defaults={"shown_in_portal": False, "changed_by": by}
        )
        previous = False if created else row.shown_in_portal
        if previous == shown and not created:
            return row
        row.shown_in_portal = shown
        row.changed_by = by
        row.changed_at = clock.now()
        row.save(update_fields=["shown_in_portal", "changed_by", "changed_at"])
        if previous != shown:
            event_record("trust.sharing_changed", subject=organisation, by=by, shown_in_portal=shown, previous=previous)
            # Its review PDFs print its trust only while shared: they are made again.
            from serviceloop.experience.reports import reviews_requeue_for_organisation

            reviews_requeue_for_organisation(organisation_id=organisation.pk)
    return row
