"""The typed bodies and answers of the incidents API (api_incidents.py): what a client sends and reads."""

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from serviceloop.accounts.models import User
from serviceloop.core.schemas import BoundedDateTime, Integer, Omittable, Text
from serviceloop.incidents.models import Incident, IncidentUpdate, RecoveryStep

SeverityName = Literal["sev1", "sev2", "sev3", "sev4"]
VisibilityName = Literal["public", "customers", "internal"]
AudienceName = Literal["internal", "customers", "public"]
ChannelName = Literal["email", "status_page", "webhook"]
UpdateStatusName = Literal["investigating", "identified", "monitoring"]
ComponentStatusName = Literal["operational", "degraded_performance", "partial_outage", "major_outage"]
ConfidenceName = Literal["", "low", "medium", "high"]
StepStatusName = Literal["planned", "in_progress", "done", "blocked", "dropped"]
PublicId = Annotated[str, Field(min_length=1, max_length=24)]
Title = Annotated[Text, Field(min_length=1, max_length=200)]
LongText = Annotated[Text, Field(max_length=20_000)]


# ---------------------------------------------------------------- answers


class IncidentRefOut(Schema):
    public_id: str
    name: str


def person_ref(user: User | None) -> dict[str, str] | None:
    return {"public_id": user.public_id, "name": user.display_name} if user is not None else None


class IncidentOut(Schema):
    public_id: str
    reference: str
    kind: str
    title: str
    status: str
    severity: str
    is_major: bool
    visibility: str
    owner: IncidentRefOut | None
    comms_lead: IncidentRefOut | None
    impact_started_at: datetime | None
    impact_ended_at: datetime | None
    declared_at: datetime | None
    identified_at: datetime | None
    monitoring_at: datetime | None
    resolved_at: datetime | None
    eta: datetime | None
    eta_confidence: str
    plan_published_at: datetime | None
    users_affected: int
    version: int

    @staticmethod
    def resolve_owner(incident: Incident | dict[str, Any]) -> dict[str, str] | None:
        return incident["owner"] if isinstance(incident, dict) else person_ref(incident.owner)

    @staticmethod
    def resolve_comms_lead(incident: Incident | dict[str, Any]) -> dict[str, str] | None:
        return incident["comms_lead"] if isinstance(incident, dict) else person_ref(incident.comms_lead)


class AffectedServiceOut(Schema):
    service: IncidentRefOut
    component_status: str


class AffectedOrganisationOut(Schema):
    organisation: IncidentRefOut
    users_affected: int
    users_total: int


class IncidentTicketOut(Schema):
    public_id: str
    reference: str
    subject: str
    status: str
    linked_at: datetime


class AudiencePlanOut(Schema):
    audience: str
    cadence_minutes: int
    channels: list[str]
    owner: IncidentRefOut | None
    calendar: IncidentRefOut | None
    is_active: bool
    last_update_at: datetime | None
    next_due_at: datetime | None
    minutes_left: float | None = Field(
        None,
        description="Minutes (of the plan's business calendar, if any) until the next update is due; negative: overdue",
    )
    overdue: bool
    silent_since: datetime | None = Field(None, description="When the open silence began (the due time missed)")


class IncidentUpdateOut(Schema):
    public_id: str
    kind: str
    status: str
    audiences: list[str]
    affected: str
    impacted: str
    actions: str
    body: str
    next_update_at: datetime | None
    display_at: datetime
    posted_by: IncidentRefOut | None
    deliver_notifications: bool
    affected_components: list[dict[str, str]]

    @staticmethod
    def resolve_posted_by(update: IncidentUpdate) -> dict[str, str] | None:
        return person_ref(update.posted_by)


class RecoveryStepOut(Schema):
    public_id: str
    position: int
    title: str
    detail: str
    owner: IncidentRefOut | None
    status: str
    eta: datetime | None
    eta_confidence: str
    customer_facing: bool
    done_at: datetime | None

    @staticmethod
    def resolve_owner(step: RecoveryStep) -> dict[str, str] | None:
        return person_ref(step.owner)


class IncidentDetailOut(IncidentOut):
    description: str
    services: list[AffectedServiceOut]
    offerings: list[IncidentRefOut]
    organisations: list[AffectedOrganisationOut]
    tickets: list[IncidentTicketOut]
    plans: list[AudiencePlanOut]
    updates: list[IncidentUpdateOut]
    steps: list[RecoveryStepOut]
    published_plan: list[RecoveryStepOut]


class UpdateTemplateOut(Schema):
    name: str
    status: str
    affected: str
    impacted: str
    actions: str


class IncidentTicketLinkOut(Schema):
    incident: str
    ticket: str
    reference: str


# ---------------------------------------------------------------- input


class ComponentStatusIn(Schema):
    service: PublicId
    status: ComponentStatusName = "major_outage"


class AffectedOrganisationIn(Schema):
    organisation: PublicId
    users_affected: Annotated[Integer, Field(ge=0, le=10_000_000)] | None = Field(
        None, description="null: counted from the people holding the user role in its relationships"
    )


class IncidentIn(Schema):
    title: Title
    severity: SeverityName = "sev2"
    services: Annotated[list[ComponentStatusIn], Field(max_length=100)] = Field(
        [], description="Affected services and their component status; empty: the services of the tickets"
    )
    offerings: Annotated[list[PublicId], Field(max_length=100)] = []
    organisations: Annotated[list[AffectedOrganisationIn], Field(max_length=1000)] | None = Field(
        None, description="null: the organisations of the active relationships on the affected offerings and tickets"
    )
    tickets: Annotated[list[PublicId], Field(max_length=100)] = []
    impact_started_at: BoundedDateTime | None = None
    owner: PublicId | None = None
    comms_lead: PublicId | None = None
    visibility: VisibilityName = "public"
    description: LongText = ""
    audiences: list[AudienceName] | None = Field(
        None, description="The plans to keep; null: every audience the visibility allows (major), public only (minor)"
    )


class IncidentPatch(Schema):
    title: Title = Omittable()
    severity: SeverityName = Omittable()
    owner: PublicId | None = Field(None, description="null: no owner")
    comms_lead: PublicId | None = Field(None, description="null: no communications lead")
    visibility: VisibilityName = Omittable()
    description: LongText = Omittable()
    impact_started_at: BoundedDateTime = Omittable()
    version: Annotated[Integer, Field(ge=1)] = Omittable(description="The version you read: refused (412) if stale")


class IncidentUpdateIn(Schema):
    audiences: Annotated[list[AudienceName], Field(min_length=1, max_length=3)]
    status: UpdateStatusName | None = Field(None, description="null: the status stays")
    affected: LongText = ""
    impacted: LongText = ""
    actions: LongText = ""
    body: LongText = Field("", description="Empty: composed from affected, impacted and actions")
    next_update_at: BoundedDateTime | None = Field(None, description="null: the shortest cadence of the audiences")
    component_statuses: Annotated[list[ComponentStatusIn], Field(max_length=100)] = []
    deliver_notifications: bool = True


class IncidentResolveIn(Schema):
    body: Annotated[Text, Field(min_length=1, max_length=20_000)]
    resolved_at: BoundedDateTime | None = None
    impact_ended_at: BoundedDateTime | None = None


class AudiencePlanIn(Schema):
    audience: AudienceName
    cadence_minutes: Annotated[Integer, Field(ge=5, le=1440)] | None = None
    channels: Annotated[list[ChannelName], Field(max_length=3)] | None = None
    owner: PublicId | None = None
    calendar: PublicId | None = Field(None, description="A business calendar's public id; null: every hour counts")
    is_active: bool = True


class AudiencePlanPatch(Schema):
    cadence_minutes: Annotated[Integer, Field(ge=5, le=1440)] = Omittable()
    channels: Annotated[list[ChannelName], Field(max_length=3)] = Omittable()
    owner: PublicId | None = Field(None, description="null: no owner")
    calendar: PublicId | None = Field(None, description="null: every hour of every day counts")
    is_active: bool = Omittable()


class RecoveryStepIn(Schema):
    title: Annotated[Text, Field(min_length=1, max_length=300)]
    detail: LongText = ""
    owner: PublicId | None = None
    eta: BoundedDateTime | None = None
    eta_confidence: ConfidenceName = ""
    customer_facing: bool = False


class RecoveryStepPatch(Schema):
    title: Annotated[Text, Field(min_length=1, max_length=300)] = Omittable()
    detail: LongText = Omittable()
    owner: PublicId | None = Field(None, description="null: no owner")
    status: StepStatusName = Omittable()
    eta: BoundedDateTime | None = Field(None, description="null: no ETA")
    eta_confidence: ConfidenceName = Omittable()
    customer_facing: bool = Omittable()
    position: Annotated[Integer, Field(ge=0, le=10_000)] = Omittable()


class IncidentEtaIn(Schema):
    eta: BoundedDateTime | None = Field(..., description="null: no ETA any more")
    confidence: ConfidenceName = ""


class IncidentTicketLinkIn(Schema):
    ticket: PublicId


class IncidentQuery(Schema):
    status: (
        Literal[
            "investigating",
            "identified",
            "monitoring",
            "resolved",
            "scheduled",
            "in_progress",
            "verifying",
            "completed",
        ]
        | None
    ) = None
    kind: Literal["incident", "maintenance"] | None = None
    severity: SeverityName | None = None
