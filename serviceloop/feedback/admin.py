from django.contrib import admin

from serviceloop.feedback.models import (
    Invitation,
    LinkClick,
    Response,
    SuppressedInvitation,
    Survey,
    SurveyVersion,
    ThrottlePolicy,
)


class SurveyVersionInline(admin.TabularInline):
    model = SurveyVersion
    extra = 0
    readonly_fields = ("number", "questions", "intro", "created_at")


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("name", "service", "offering", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "public_id")
    inlines = [SurveyVersionInline]


@admin.register(ThrottlePolicy)
class ThrottlePolicyAdmin(admin.ModelAdmin):
    list_display = (
        "service",
        "transactional_short_limit",
        "transactional_long_limit",
        "relationship_limit",
        "sample_rate",
    )


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("public_id", "person", "service", "trigger", "sent_at", "responded_at")
    list_filter = ("trigger", "kind")
    search_fields = ("public_id", "person__email")
    raw_id_fields = ("person", "ticket", "survey_version", "relationship")


@admin.register(SuppressedInvitation)
class SuppressedInvitationAdmin(admin.ModelAdmin):
    list_display = ("person", "service", "trigger", "reason", "created_at")
    list_filter = ("reason", "trigger")
    raw_id_fields = ("person", "ticket", "survey")


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("public_id", "service", "channel", "responded_at", "happiness", "nps", "csat", "sentiment_label")
    list_filter = ("channel", "sentiment_label")
    search_fields = ("public_id", "comment", "external_id")
    raw_id_fields = ("person", "ticket", "invitation", "survey_version")


@admin.register(LinkClick)
class LinkClickAdmin(admin.ModelAdmin):
    """Read-only: what the score buttons of an invitation saw (a person's click, a scanner's fetches)."""

    list_display = ("invitation", "score", "clicked_at", "state")
    list_filter = ("state",)
    readonly_fields = ("invitation", "score", "clicked_at", "state", "created_at")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
