from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db import transaction
from django.http import HttpRequest

from serviceloop.accounts.models import ApiToken, Organisation, User
from serviceloop.accounts.services import password_changed, user_deactivated, user_role_changed
from serviceloop.core.events import event_record


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "domain", "hourly_cost", "created_at"]
    search_fields = ["name", "slug", "domain"]
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        # An operator's edit is recorded like the service's, so higher floors follow it (the desk's search).
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and form.changed_data:
                event_record(
                    "organisation.updated",
                    subject=obj,
                    by=request.user,
                    organisation_id=obj.pk,
                    changed=sorted(form.changed_data),
                )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "organisation", "is_active", "last_login"]
    list_filter = ["role", "is_active", "organisation"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "role", "organisation", "time_zone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "role", "organisation", "password1", "password2")}),
    )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        # One transaction: the new password, its audit event and the revocation of the user's tokens.
        with transaction.atomic():
            return super().user_change_password(request, id, form_url)

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> Any:
        # Django calls this right after the admin's "set password" form saved: record who set it.
        if isinstance(form, AdminPasswordChangeForm) and form.is_bound:
            password_changed(user=form.user, by=request.user, via="admin")  # type: ignore[arg-type]
        return super().construct_change_message(request, form, formsets, add)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The admin is where roles change and logins are switched off: each goes to the audit trail
        # with the row; switching a login off revokes its API tokens.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and "role" in form.changed_data:
                user_role_changed(user=obj, previous=form.initial.get("role", ""), by=request.user)  # type: ignore[arg-type]
            if change and "is_active" in form.changed_data and not obj.is_active:
                user_deactivated(user=obj, by=request.user)  # type: ignore[arg-type]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    readonly_fields = ["prefix", "token_hash", "last_used_at", "revoked_because"]
    search_fields = ["name", "user__email", "prefix"]
