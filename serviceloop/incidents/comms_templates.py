"""Prefilled update texts per stage, written from what the incident knows: a start for the writer."""

from __future__ import annotations

from dataclasses import dataclass

from serviceloop.incidents.models import Incident, RecoveryStep


@dataclass(frozen=True)
class UpdateTemplate:
    name: str
    status: str
    affected: str
    impacted: str
    actions: str


def _affected(incident: Incident) -> str:
    names = [a.service.name for a in incident.affected_services.select_related("service").order_by("service__name")]
    if not names:
        return "Some of our services"
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


def _impacted(incident: Incident) -> str:
    organisations = incident.affected_organisations.count()
    if organisations == 0:
        return "Users of these services may be unable to work as usual."
    users = f"about {incident.users_affected} users" if incident.users_affected else "their users"
    orgs = "1 organisation" if organisations == 1 else f"{organisations} organisations"
    return f"{users.capitalize()} in {orgs} may be unable to work as usual."


def _eta(incident: Incident) -> str:
    if incident.eta is None:
        return ""
    sure = f" ({incident.get_eta_confidence_display().lower()} confidence)" if incident.eta_confidence else ""
    return f" We expect service to be restored by {incident.eta:%Y-%m-%d %H:%M} UTC{sure}."


def _steps(incident: Incident) -> str:
    steps = incident.recovery_steps.filter(customer_facing=True).exclude(status=RecoveryStep.Status.DROPPED)
    doing = [s.title for s in steps if s.status in (RecoveryStep.Status.IN_PROGRESS, RecoveryStep.Status.PLANNED)]
    done = [s.title for s in steps if s.status == RecoveryStep.Status.DONE]
    text = ""
    if done:
        text += " Done: " + "; ".join(done) + "."
    if doing:
        text += " Next: " + "; ".join(doing) + "."
    return text


def update_templates(incident: Incident) -> list[UpdateTemplate]:
    """Investigating, Identified, Monitoring and Resolved, prefilled from the incident."""
    affected = _affected(incident)
    impacted = _impacted(incident)
    eta, steps = _eta(incident), _steps(incident)
    return [
        UpdateTemplate(
            name="Investigating",
            status=Incident.Status.INVESTIGATING.value,
            affected=f"{affected} {'is' if ',' not in affected and ' and ' not in affected else 'are'} disrupted.",
            impacted=impacted,
            actions="We are investigating the cause and will post the next update on time." + eta,
        ),
        UpdateTemplate(
            name="Identified",
            status=Incident.Status.IDENTIFIED.value,
            affected=f"{affected}.",
            impacted=impacted,
            actions="We have identified the cause and are working on a fix." + steps + eta,
        ),
        UpdateTemplate(
            name="Monitoring",
            status=Incident.Status.MONITORING.value,
            affected=f"{affected}: a fix is in place.",
            impacted="Users should be able to work as usual again; tell us if you still see problems.",
            actions="We are watching the services to make sure the fix holds." + steps,
        ),
        UpdateTemplate(
            name="Resolved",
            status=Incident.Status.RESOLVED.value,
            affected=f"{affected} work as usual again.",
            impacted=impacted.replace("may be unable", "were unable"),
            actions="The incident is resolved. We will review what happened and what we change to prevent it.",
        ),
    ]
