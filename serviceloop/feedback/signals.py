"""Signals feedback sends after commit, with ids only; higher apps connect in their receivers.py."""

from django.dispatch import Signal

# response_id: int — a response was recorded or changed (a later click, a follow-up field answered).
# Experience updates rollups and trust; improvement opens a follow-up on a negative answer.
response_recorded = Signal()

# response_ids: list[int] — a batch of responses arrived through the bulk ingest API or an import.
# Sent once per batch instead of response_recorded per row, so receivers can update set-wise.
responses_ingested = Signal()

# post_id: int — a social post, mention, chat message or review was stored (matched or in the inbox),
# or triage assigned it to a service.
post_recorded = Signal()
