# ruff: noqa: S608, S611 - only constants are spliced into the SQL; user input is always a parameter.
"""Full-text search over a ticket's subject and conversation, per database vendor.

PostgreSQL: two stored tsvector columns with GIN indexes (`search_public`: subject and public
replies; `search_staff`: everything, internal notes too). SQLite: the FTS5 table `desk_ticket_fts`.
Both are created by migration 0003 and refreshed here by the services after each change; customers
search only the public text, so an internal note never makes a ticket match for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from serviceloop.desk.models import Ticket

CHUNK = 500
# tsvector holds at most 1 MB; a conversation longer than this is indexed by its beginning.
MAX_TEXT = 200_000

# The SQL below is built from constants only (our table names, MAX_TEXT); every value is a parameter.
_PG_AGG = (
    "coalesce(left((SELECT string_agg(m.body, ' ') FROM desk_message m "  # nosec B608  # constants only
    "WHERE m.ticket_id = t.id AND m.kind = %s), " + str(MAX_TEXT) + "), '')"
)
_PG_UPDATE = (
    "UPDATE desk_ticket t SET "  # nosec B608  # constants only
    "search_public = setweight(to_tsvector('english', t.subject), 'A') || to_tsvector('english', " + _PG_AGG + "), "
    "search_staff = setweight(to_tsvector('english', t.subject), 'A') || to_tsvector('english', " + _PG_AGG + ") "
    "|| setweight(to_tsvector('english', " + _PG_AGG + "), 'C') "
)
_SQLITE_AGG = (
    "coalesce(substr((SELECT group_concat(m.body, ' ') FROM desk_message m "  # nosec B608  # constants only
    "WHERE m.ticket_id = t.id AND m.kind = %s), 1, " + str(MAX_TEXT) + "), '')"
)
_SQLITE_INSERT = (
    "INSERT INTO desk_ticket_fts(rowid, public_text, internal_text) "  # nosec B608  # constants only
    "SELECT t.id, t.subject || ' ' || " + _SQLITE_AGG + ", " + _SQLITE_AGG + " FROM desk_ticket t "
)


def search_reindex(*, ticket_ids: Iterable[int] | None = None) -> None:
    """Refresh the search document of these tickets (all tickets when None), set-wise."""
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    public, internal = "public", "internal"
    with connection.cursor() as cursor:
        if ticket_ids is None:
            if vendor == "postgresql":
                cursor.execute(_PG_UPDATE, [public, public, internal])
            else:
                cursor.execute("DELETE FROM desk_ticket_fts")
                cursor.execute(_SQLITE_INSERT, [public, internal])
            return
        ids = list(ticket_ids)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            if vendor == "postgresql":
                cursor.execute(_PG_UPDATE + "WHERE t.id = ANY(%s)", [public, public, internal, chunk])
            else:
                marks = ",".join("%s" for _ in chunk)
                cursor.execute(f"DELETE FROM desk_ticket_fts WHERE rowid IN ({marks})", chunk)  # nosec B608  # placeholders only
                cursor.execute(_SQLITE_INSERT + f"WHERE t.id IN ({marks})", [public, internal, *chunk])


def _fts5_query(text: str, *, staff: bool) -> str:
    # User input never reaches FTS5's query syntax: only quoted word prefixes, all required.
    words = re.findall(r"\w+", text)[:20]
    if staff:
        return " AND ".join(f'"{word}"*' for word in words)
    return " AND ".join(f'public_text : "{word}"*' for word in words)


def search_filter(queryset: QuerySet[Ticket], text: str, *, staff: bool) -> QuerySet[Ticket]:
    """Narrow the queryset to tickets whose subject or conversation matches the words of `text`."""
    text = text.replace("\x00", "").strip()[:200]
    if not text:
        return queryset
    vendor = connection.vendor
    if vendor == "postgresql":
        column = "search_staff" if staff else "search_public"
        sql = f"SELECT id FROM desk_ticket WHERE {column} @@ websearch_to_tsquery('english', %s)"  # nosec B608  # column is one of two constants; the text is a parameter
        return queryset.filter(pk__in=RawSQL(sql, [text]))  # nosec B611  # the SQL above, the text a parameter
    if vendor == "sqlite":
        query = _fts5_query(text, staff=staff)
        if not query:
            return queryset.none()
        return queryset.filter(
            pk__in=RawSQL("SELECT rowid FROM desk_ticket_fts WHERE desk_ticket_fts MATCH %s", [query])
        )
    return queryset.filter(subject__icontains=text)
