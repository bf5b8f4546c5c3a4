"""Signals feedback sends after commit, with ids only; higher apps connect in their receivers.py."""

from django.dispatch import Signal

# response_id: int — a response was recorded or changed (a later click, a follow-up field answered).
# Experience updates rollups and trust; improvement opens a follow-up on a negative answer.
response_recorded = Signal()
