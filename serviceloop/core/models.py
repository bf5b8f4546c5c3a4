"""The abstract base every table inherits, and unguessable public identifiers."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

# Crockford-style alphabet without look-alikes, so ids can be read aloud and typed.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def new_public_id(length: int = 12) -> str:
    """A random id for URLs and emails: ~59 bits at the default length, never a row number."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def public_id_field() -> models.CharField:
    return models.CharField(max_length=24, unique=True, default=new_public_id, editable=False)


class BaseModel(models.Model):
    """Every serviceloop row: when it was created (indexed, for periods) and last changed."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
