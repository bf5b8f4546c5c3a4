"""Reads for accounts: tokens and organisations, narrowed to what the viewer may see."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from serviceloop.accounts.models import ApiToken, Organisation, User
from serviceloop.core import clock
from serviceloop.core.visibility import is_staff_viewer


def api_tokens_of(*, viewer: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=viewer).order_by("-created_at")


def api_token_for(*, viewer: User, public_id: str) -> ApiToken:
    """One's own token; administrators find anyone's (they may revoke it)."""
    tokens = ApiToken.objects.select_related("user")
    if not viewer.is_administrator:
        tokens = tokens.filter(user=viewer)
    return get_object_or_404(tokens, public_id=public_id)


def api_tokens_active(*, viewer: User, user_public_id: str = "") -> QuerySet[ApiToken]:
    """Every token that still works (not revoked, not expired), for administrators only;
    `user_public_id` narrows it to one login (404 when there is no such login)."""
    if not viewer.is_administrator:
        raise PermissionDenied("Only administrators may see other people's API tokens.")
    now = clock.now()
    tokens = (
        ApiToken.objects.select_related("user")
        .filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    )
    if user_public_id:
        tokens = tokens.filter(user=get_object_or_404(User, public_id=user_public_id))
    return tokens.order_by("user__email", "-created_at")


def organisations_visible(*, viewer: User) -> QuerySet[Organisation]:
    if is_staff_viewer(viewer):
        return Organisation.objects.all()
    if viewer.organisation_id is not None:
        return Organisation.objects.filter(pk=viewer.organisation_id)
    return Organisation.objects.none()


def organisation_for(*, viewer: User, public_id: str) -> Organisation:
    return get_object_or_404(organisations_visible(viewer=viewer), public_id=public_id)
