"""Who may write into a ticket by mail, and what the receiving server's verdict on a sender requires.

A From header is written by the sender, so it proves nothing alone. A reply joins a ticket only when
its sender is a participant of that ticket (the requester, a person of the ticket's organisation
with a role in its relationship, or staff), and never when the receiving server found the mail
not to come from its From domain (DMARC fail) or the organisation requires a DMARC pass that the
mail lacks. Without authentication results a forged From of a participant cannot be told from the
real one: organisations that need the certainty require DMARC (OrganisationMailPolicy).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from serviceloop.accounts.models import User
from serviceloop.desk.mail_parse import ParsedMail
from serviceloop.desk.models import OrganisationMailPolicy, Ticket
from serviceloop.relationships.models import Person, Relationship, RelationshipRole

NONPARTICIPANT_POLICIES = ("hold", "new")


@dataclass(frozen=True)
class Participant:
    """The sender as a participant of one ticket: a person (requester or role holder) or a staff login."""

    person: Person | None = None
    user: User | None = None


def participant_of(ticket: Ticket, email: str) -> Participant | None:
    """The sender's place on the ticket, or None when the address is no participant of it."""
    email = email.strip().lower()
    if not email:
        return None
    requester = ticket.requester
    if (requester.email or "").strip().lower() == email:
        return Participant(person=requester)
    roles = RelationshipRole.objects.filter(
        person__organisation_id=ticket.organisation_id,
        person__email__iexact=email,
        relationship__organisation_id=ticket.organisation_id,
    ).exclude(relationship__status=Relationship.Status.ENDED)
    if ticket.offering_id is not None:
        roles = roles.filter(relationship__offering_id=ticket.offering_id)
    else:
        roles = roles.filter(relationship__offering__service_id=ticket.service_id)
    role = roles.select_related("person").order_by("pk").first()
    if role is not None:
        return Participant(person=role.person)
    staff = staff_with_address(email)
    return Participant(user=staff) if staff is not None else None


def staff_with_address(email: str) -> User | None:
    return (
        User.objects.filter(email__iexact=email, is_active=True).exclude(role=User.Role.CUSTOMER).order_by("pk").first()
    )


def person_of_organisation(organisation_id: int, email: str) -> Person | None:
    return Person.objects.filter(organisation_id=organisation_id, email__iexact=email).order_by("pk").first()


def nonparticipant_policy() -> str:
    policy = str(settings.SERVICELOOP_MAIL_NONPARTICIPANT).strip().lower()
    return policy if policy in NONPARTICIPANT_POLICIES else "hold"


def dmarc_required(organisation_id: int | None) -> bool:
    if organisation_id is None:
        return False
    return OrganisationMailPolicy.objects.filter(organisation_id=organisation_id, require_dmarc_pass=True).exists()


def verdict_trusted() -> bool:
    """Whether a verdict can be trusted at all: only with the receiving server's authserv-id configured.

    Without it the topmost Authentication-Results is recorded, but a webhook or relay that adds none
    would let the sender's own header stand: it may then hold a mail (DMARC fail) but never vouch for one.
    """
    return bool(str(settings.SERVICELOOP_MAIL_AUTHSERV_ID).strip())


def dmarc_passed(mail: ParsedMail) -> bool:
    """A DMARC pass of the trusted server, about the From address's own domain (when the verdict names
    one: a pass for the domain after a second "@", or for another domain, proves nothing about this one)."""
    if not verdict_trusted() or mail.authentication.dmarc != "pass":
        return False
    domain = mail.authentication.dmarc_domain
    return not domain or domain == mail.from_email.rpartition("@")[2].lower()


def staff_refusal(mail: ParsedMail, participant: Participant) -> str:
    """A staff address writes into any ticket, so its mail must prove where it comes from."""
    if participant.user is None or dmarc_passed(mail):
        return ""
    return (
        f"staff_unverified: mail from the staff address {mail.from_email} is applied only with a DMARC pass "
        "from the receiving server (SERVICELOOP_MAIL_AUTHSERV_ID); held for review."
    )


def authentication_refusal(mail: ParsedMail, *, organisation_id: int | None) -> str:
    """Why the mail may not be applied for this organisation ("" when it may)."""
    dmarc = mail.authentication.dmarc
    domain = mail.from_email.rpartition("@")[2]
    if dmarc == "fail":
        return (
            f"dmarc_fail: the receiving server found that this mail does not come from {domain} "
            "(DMARC fail); held for review."
        )
    if not dmarc_passed(mail) and dmarc_required(organisation_id):
        verdict = f"DMARC {dmarc}" if dmarc else "no DMARC verdict"
        if not verdict_trusted():
            verdict = "no DMARC verdict from a trusted server (SERVICELOOP_MAIL_AUTHSERV_ID is not set)"
        return (
            f"dmarc_required: the organisation accepts mail only when DMARC passes, and this mail has "
            f"{verdict}; held for review."
        )
    return ""
