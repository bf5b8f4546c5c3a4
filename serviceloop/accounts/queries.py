"""Reads for accounts: tokens and organisations, narrowed to what the viewer may see."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from serviceloop.accounts.models import ApiToken, Organisation, User
from serviceloop.core.visibility import is_staff_viewer


def api_tokens_of(*, viewer: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=viewer).order_by("-created_at")


def api_token_for(*, viewer: User, public_id: str) -> ApiToken:
    return get_object_or_404(ApiToken, user=viewer, public_id=public_id)


def organisations_visible(*, viewer: User) -> QuerySet[Organisation]:
    if is_staff_viewer(viewer):
        return Organisation.objects.all()
    if viewer.organisation_id is not None:
        return Organisation.objects.filter(pk=viewer.organisation_id)
    return Organisation.objects.none()


def organisation_for(*, viewer: User, public_id: str) -> Organisation:
    return get_object_or_404(organisations_visible(viewer=viewer), public_id=public_id)
