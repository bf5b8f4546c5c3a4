"""The names of the durable events the incidents app records (core.events), and what each carries.

Every one is recorded in the transaction of its change with `subject=` the incident (or the
subscription) and the data listed; subscribers live in the receiving app's `receivers.py`.
"""

from __future__ import annotations

# incident_id, kind, severity, is_major
INCIDENT_DECLARED = "incident.declared"
# incident_id, update_id, audiences (list), status, deliver_notifications
INCIDENT_UPDATE_POSTED = "incident.update_posted"
# incident_id, old_status, new_status
INCIDENT_STATUS_CHANGED = "incident.status_changed"
# incident_id, resolved_at, is_major, organisation_ids (affected)
INCIDENT_RESOLVED = "incident.resolved"
# incident_id, ticket_id
INCIDENT_TICKET_LINKED = "incident.ticket_linked"
# incident_id, plan_id, audience, due_at
INCIDENT_UPDATE_DUE_SOON = "incident.update_due_soon"
INCIDENT_UPDATE_OVERDUE = "incident.update_overdue"
# incident_id, step_id (null for the incident's own ETA), eta
INCIDENT_ETA_CHANGED = "incident.eta_changed"
# incident_id, published_at
INCIDENT_PLAN_PUBLISHED = "incident.plan_published"
# incident_id, review_id
REVIEW_COMPLETED = "incident.review_completed"
REVIEW_PUBLISHED = "incident.review_published"
# incident_id, review_id, action_id, share_closed (0–1 over the review's actions not dropped)
REVIEW_ACTION_CLOSED = "incident.review_action_closed"
# incident_id (kind maintenance), status; notice: minutes before the window
MAINTENANCE_SCHEDULED = "maintenance.scheduled"
MAINTENANCE_NOTICE = "maintenance.notice"
MAINTENANCE_STARTED = "maintenance.started"
MAINTENANCE_COMPLETED = "maintenance.completed"
# subscription_id
SUBSCRIPTION_CONFIRMED = "status.subscription_confirmed"
WEBHOOK_DISABLED = "status.webhook_disabled"
# subscription_id, kind (email or webhook): staff created a webhook, enabled one again, deleted one;
# a subscriber left (the one-click unsubscribe link)
WEBHOOK_CREATED = "status.webhook_created"
WEBHOOK_ENABLED = "status.webhook_enabled"
SUBSCRIPTION_DELETED = "status.subscription_deleted"
SUBSCRIPTION_ENDED = "status.subscription_ended"
# subscription_id, delivery_id: staff asked a failed webhook delivery to be tried again
WEBHOOK_DELIVERY_RETRIED = "status.webhook_delivery_retried"
