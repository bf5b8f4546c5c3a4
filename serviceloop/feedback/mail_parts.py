"""What feedback adds to lower apps' mail (core.links.MailPart): the survey in the desk's resolution notice.

The requester of a resolved ticket gets one mail: the desk's notice, threaded on the ticket, with the
survey's question and one-click buttons under the resolution. The invitation is recorded here, in
the transaction that queues the notice; when the survey's rules hold it back (recently invited,
opted out, sampled out, a duplicate), the suppressed row is recorded instead and the notice goes
alone.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from serviceloop.core.links import MailBlock
from serviceloop.desk.models import Ticket
from serviceloop.feedback.services.invitations import (
    invitation_email_context,
    invitation_for_resolved_ticket,
    invitation_unsubscribe_headers,
)


def resolution_survey(ticket: Ticket) -> MailBlock | None:
    outcome = invitation_for_resolved_ticket(ticket_id=ticket.pk, send=False)
    invitation = outcome.invitation if outcome is not None else None
    if invitation is None:
        return None
    context = invitation_email_context(invitation, invitation.survey_version)
    return MailBlock(
        text=render_to_string("feedback/email/_survey_block.txt", context),
        html=render_to_string("feedback/email/_survey_block.html", context),
        headers=invitation_unsubscribe_headers(invitation),
    )
