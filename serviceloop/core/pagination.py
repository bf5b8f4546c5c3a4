"""Pagination for pages: every list page pages through its rows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

# API lists (see LimitOffset): far beyond any real list, well within every database's integer range.
MAX_LIMIT = 500
MAX_OFFSET = 10_000_000


def paginate(request: HttpRequest, rows: Any, per_page: int | None = None) -> Page:
    paginator = Paginator(rows, per_page or settings.SERVICELOOP_PAGE_SIZE)
    return paginator.get_page(request.GET.get("page"))


class LimitOffset(LimitOffsetPagination):
    """ninja's limit/offset pagination, bounded: a huge ?limit= or ?offset= answers 422, never a database error."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
