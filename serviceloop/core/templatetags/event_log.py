"""`{% object_history obj %}`: a link to the audit trail of one row, for staff pages of any app.

Core cannot import the apps above it, so the link is built from the row's own label and public id.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from serviceloop.core.queries import object_history_count

register = template.Library()


@register.inclusion_tag("core/_object_history.html", takes_context=True)
def object_history(context: dict[str, Any], obj: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    public_id = getattr(obj, "public_id", None)
    # Customers never see the audit trail, not even that it exists.
    if not public_id or not getattr(user, "is_staff_member", False):
        return {"history_url": None}
    url = reverse("core:object_history", kwargs={"subject_type": obj._meta.label_lower, "public_id": public_id})
    return {"history_url": url, "history_count": object_history_count(obj)}
