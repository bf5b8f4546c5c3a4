"""Pagination for pages: every list page pages through its rows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(request: HttpRequest, rows: Any, per_page: int | None = None) -> Page:
    paginator = Paginator(rows, per_page or settings.SERVICELOOP_PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))
