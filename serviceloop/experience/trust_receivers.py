"""Trust's subscribers: each durable event that is evidence about a relationship is written to the
evidence log (idempotent by key) and the pairs it touches are recomputed (docs/trust.md)."""

from __future__ import annotations
