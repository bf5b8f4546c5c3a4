"""Trust's pages, mounted under /experience/trust/."""

from __future__ import annotations

urlpatterns: list = []
