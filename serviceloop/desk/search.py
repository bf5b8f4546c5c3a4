# ruff: noqa: S608, S611 - only constants are spliced into the SQL; user input is always a parameter.
"""Ticket search: by reference, requester, organisation and the words of the conversation, ranked.

PostgreSQL: two stored tsvector columns with GIN indexes (`search_public`: subject, the people part
and public replies; `search_staff`: the same and internal notes). SQLite: the FTS5 table
`desk_ticket_fts` (public_text, internal_text, people_text). The people part is the requester's name
and email (whole, and split at "@" and ".", so "acme.example" finds it) and the organisation's name.
Migrations 0003 and 0008 create them; the services (and the desk's receivers, when a person or an
organisation is renamed) refresh them with `search_reindex`. Customers search only the public text
and the people part, so an internal note never makes a ticket match for them.

A query is split into words (each a prefix: "Yil" finds "Yilmaz"), all required. A word that is a
ticket reference ("SL-104001", "sl104001", or a bare "104001") also finds that ticket by its
reference, and a query that is one email address also finds the tickets of the person with exactly
that address. Results are ranked (`SEARCH_ORDERING`): the ticket of the reference first, then the
tickets of the person with that email, then those whose people part alone matches every word (the
requester's name or email, the organisation), then by text rank (ts_rank, weighted: subject A,
people B, internal notes C, replies D; bm25 on SQLite), the newest first on a tie.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, FloatField, IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from serviceloop.desk.models import Ticket
from serviceloop.relationships.models import Person

CHUNK = 500
# tsvector holds at most 1 MB; a conversation longer than this is indexed by its beginning.
MAX_TEXT = 200_000
MAX_WORDS = 20

# The SQL below is built from constants only (our table names, MAX_TEXT); every value is a parameter.
_PG_AGG = (
    "coalesce(left((SELECT string_agg(m.body, ' ') FROM desk_message m "  # nosec B608  # constants only
    "WHERE m.ticket_id = t.id AND m.kind = %s), " + str(MAX_TEXT) + "), '')"
)
# The requester's name and address (whole, then split into words), and the organisation's name.
_PG_PEOPLE = (
    "coalesce((SELECT p.name || ' ' || p.email || ' ' || translate(p.email, '@.+_-', '     ') "
    "FROM relationships_person p WHERE p.id = t.requester_id), '') || ' ' || "
    "coalesce((SELECT o.name FROM accounts_organisation o WHERE o.id = t.organisation_id), '')"
)
_PG_COMMON = (
    "setweight(to_tsvector('english', t.subject), 'A') || "
    "setweight(to_tsvector('english', " + _PG_PEOPLE + "), 'B') || to_tsvector('english', " + _PG_AGG + ")"
)
_PG_UPDATE = (
    "UPDATE desk_ticket t SET "  # nosec B608  # constants only
    "search_public = " + _PG_COMMON + ", "
    "search_staff = " + _PG_COMMON + " || setweight(to_tsvector('english', " + _PG_AGG + "), 'C') "
)
_SQLITE_AGG = (
    "coalesce(substr((SELECT group_concat(m.body, ' ') FROM desk_message m "  # nosec B608  # constants only
    "WHERE m.ticket_id = t.id AND m.kind = %s), 1, " + str(MAX_TEXT) + "), '')"
)
# FTS5's tokenizer splits an address at "@" and "." by itself.
_SQLITE_PEOPLE = (
    "coalesce((SELECT p.name || ' ' || p.email FROM relationships_person p WHERE p.id = t.requester_id), '') "
    "|| ' ' || coalesce((SELECT o.name FROM accounts_organisation o WHERE o.id = t.organisation_id), '')"
)
_SQLITE_INSERT = (
    "INSERT INTO desk_ticket_fts(rowid, public_text, internal_text, people_text) "  # nosec B608  # constants only
    "SELECT t.id, t.subject || ' ' || "
    + _SQLITE_AGG
    + ", "
    + _SQLITE_AGG
    + ", "
    + _SQLITE_PEOPLE
    + " FROM desk_ticket t "
)


def search_reindex(*, ticket_ids: Iterable[int] | None = None) -> None:
    """Refresh the search document of these tickets (all tickets when None), set-wise."""
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    public, internal = "public", "internal"
    pg_params = [public, public, internal]
    with connection.cursor() as cursor:
        if ticket_ids is None:
            if vendor == "postgresql":
                cursor.execute(_PG_UPDATE, pg_params)
            else:
                cursor.execute("DELETE FROM desk_ticket_fts")
                cursor.execute(_SQLITE_INSERT, [public, internal])
            return
        ids = list(ticket_ids)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            if vendor == "postgresql":
                cursor.execute(_PG_UPDATE + "WHERE t.id = ANY(%s)", [*pg_params, chunk])
            else:
                marks = ",".join("%s" for _ in chunk)
                cursor.execute(f"DELETE FROM desk_ticket_fts WHERE rowid IN ({marks})", chunk)  # nosec B608  # placeholders only
                cursor.execute(_SQLITE_INSERT + f"WHERE t.id IN ({marks})", [public, internal, *chunk])


def search_reindex_requester(*, person_id: int) -> None:
    """A requester's name or email changed: refresh the documents of their tickets."""
    search_reindex(ticket_ids=Ticket.objects.filter(requester_id=person_id).values_list("pk", flat=True))


def search_reindex_organisation(*, organisation_id: int) -> None:
    """An organisation was renamed: refresh the documents of its tickets."""
    search_reindex(ticket_ids=Ticket.objects.filter(organisation_id=organisation_id).values_list("pk", flat=True))


# ---------------------------------------------------------------- the query

# "SL-104001", "sl104001", "#104001", "[SL-104001]", or a bare number: a reference (Ticket.REFERENCE_PREFIX).
_REFERENCE = re.compile(
    r"(?<![\w-])(?:" + re.escape(Ticket.REFERENCE_PREFIX.rstrip("-")) + r"-?)?(\d{1,12})(?![\w-])", re.IGNORECASE
)
_WORD = re.compile(r"[^\W_]+")
# A whole address: searched as that address (a phrase), not as its words anywhere.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SearchTerms:
    """What a search box's text asks for: words (each a prefix), references, and maybe one address."""

    words: tuple[str, ...]
    references: tuple[str, ...]
    email: str = ""

    @property
    def empty(self) -> bool:
        return not (self.words or self.references or self.email)


def search_terms(text: str) -> SearchTerms:
    """Parse the text of a search box (pure: no database)."""
    text = text.replace("\x00", "").strip()[:200]
    references = tuple(
        dict.fromkeys(f"{Ticket.REFERENCE_PREFIX}{int(m.group(1)):06d}" for m in _REFERENCE.finditer(text))
    )
    # "SL-104001" is searched in the text as the number alone: every reference mention has the prefix.
    words = tuple(_WORD.findall(_REFERENCE.sub(lambda m: f" {m.group(1)} ", text)))[:MAX_WORDS]
    email = text.lower() if _EMAIL.match(text) and len(text) <= 254 else ""
    return SearchTerms(words=words, references=references, email=email)


def _pg_tsquery(words: Iterable[str]) -> str:
    # Words are letters and digits only, so nothing of to_tsquery's syntax comes from the user. A
    # number also matches as PostgreSQL's parser reads "SL-104001" in text: "sl" and "-104001".
    parts = [f"({word}:* | -{word})" if word.isdigit() else f"{word}:*" for word in words]
    return " & ".join(parts)


def _fts5_query(terms: SearchTerms, *, columns: str) -> str:
    # User input never reaches FTS5's query syntax: only quoted word prefixes, all required, or the
    # words of one address as a phrase (FTS5's tokenizer splits an address at "@" and ".").
    if terms.email:
        return f'{columns} : "{" ".join(_WORD.findall(terms.email))}"'
    return " AND ".join(f'{columns} : "{word}"*' for word in terms.words)


def _requesters_with_email(email: str) -> list[int]:
    # Through the lower(email) index that inbound mail uses; few rows (one per organisation at most).
    if not email:
        return []
    return list(Person.objects.annotate(address=Lower("email")).filter(address=email).values_list("pk", flat=True))


def search_filter(queryset: QuerySet[Ticket], text: str, *, staff: bool) -> QuerySet[Ticket]:
    """Narrow the queryset to tickets that match `text`, annotated for `SEARCH_ORDERING`.

    Unchanged (and unannotated) for empty text; none for text without a word or a reference ("*").
    """
    if not text.replace("\x00", "").strip():
        return queryset
    terms = search_terms(text)
    if terms.empty:
        return queryset.none()
    requesters = _requesters_with_email(terms.email)
    direct = Q(reference__in=terms.references) | Q(requester_id__in=requesters)
    vendor = connection.vendor
    if vendor == "postgresql":
        return _postgres(queryset, terms, requesters, direct, staff=staff)
    if vendor == "sqlite":
        return _sqlite(queryset, terms, requesters, direct, staff=staff)
    words = Q()
    for word in terms.words:
        words &= Q(subject__icontains=word)
    matched = queryset.filter(direct | words) if terms.words else queryset.filter(direct)
    return matched.annotate(search_tier=_tier(terms, requesters, None), search_rank=RawSQL("0", []))


def _tier(terms: SearchTerms, requesters: list[int], people: RawSQL | None) -> RawSQL:
    """0 the ticket of the reference, 1 the requester with that exact address, 2 people, 3 text."""
    cases: list[str] = []
    params: list[Any] = []
    table = Ticket._meta.db_table
    if terms.references:
        marks = ",".join("%s" for _ in terms.references)
        cases.append(f'WHEN "{table}"."reference" IN ({marks}) THEN 0')
        params.extend(terms.references)
    if requesters:
        marks = ",".join("%s" for _ in requesters)
        cases.append(f'WHEN "{table}"."requester_id" IN ({marks}) THEN 1')
        params.extend(requesters)
    if people is not None:
        cases.append(f"WHEN {people.sql} THEN 2")
        params.extend(people.params)
    if not cases:
        return RawSQL("3", [], output_field=IntegerField())
    return RawSQL(f"CASE {' '.join(cases)} ELSE 3 END", params, output_field=IntegerField())  # nosec B611  # constants and placeholders


def _postgres(
    queryset: QuerySet[Ticket], terms: SearchTerms, requesters: list[int], direct: Q, *, staff: bool
) -> QuerySet[Ticket]:
    # The condition sits on the ticket row itself (not a subquery), so the planner can OR the GIN
    # index with the reference and requester indexes (a BitmapOr) instead of scanning the table.
    column = f'"{Ticket._meta.db_table}"."{"search_staff" if staff else "search_public"}"'
    if not terms.words:
        return queryset.filter(direct).annotate(
            search_tier=_tier(terms, requesters, None), search_rank=RawSQL("0", [], output_field=FloatField())
        )
    # An address is one lexeme to PostgreSQL's parser ("customer@acme.example"), in a document as in
    # the query: phraseto_tsquery finds exactly it (as the requester's email, or in the text).
    if terms.email:
        tsquery, query = "phraseto_tsquery('english', %s)", terms.email
    else:
        tsquery, query = "to_tsquery('english', %s)", _pg_tsquery(terms.words)
    matches = RawSQL(f"{column} @@ {tsquery}", [query], output_field=BooleanField())  # nosec B611  # column is one of two constants
    # The people part alone: the lexemes of weight B (name, email, organisation).
    people = RawSQL(f"ts_filter({column}, '{{b}}') @@ {tsquery}", [query])  # nosec B611  # constants
    rank = RawSQL(f"ts_rank({column}, {tsquery})", [query], output_field=FloatField())  # nosec B611  # constants
    return queryset.filter(Q(matches) | direct).annotate(search_tier=_tier(terms, requesters, people), search_rank=rank)


def _sqlite(
    queryset: QuerySet[Ticket], terms: SearchTerms, requesters: list[int], direct: Q, *, staff: bool
) -> QuerySet[Ticket]:
    if not terms.words:
        return queryset.filter(direct).annotate(
            search_tier=_tier(terms, requesters, None), search_rank=RawSQL("0", [], output_field=FloatField())
        )
    columns = "{public_text internal_text people_text}" if staff else "{public_text people_text}"
    query = _fts5_query(terms, columns=columns)
    people_query = _fts5_query(terms, columns="people_text")
    table = Ticket._meta.db_table
    matches = Q(pk__in=RawSQL("SELECT rowid FROM desk_ticket_fts WHERE desk_ticket_fts MATCH %s", [query]))
    # Both below are evaluated once per query, never once per ticket: an IN over an uncorrelated
    # subquery becomes one lookup table, and the MATERIALIZED CTE (SQLite 3.35+) is computed once
    # and then probed by id. A plain "MATCH … AND rowid = t.id" per row ran the whole full-text
    # query again for every match: minutes for a common word at 20,000 tickets (bench/ticket_search.py).
    people = RawSQL(  # nosec B611  # constants; the query a parameter
        f'"{table}"."id" IN (SELECT rowid FROM desk_ticket_fts WHERE desk_ticket_fts MATCH %s)',  # nosec B608  # constants
        [people_query],
    )
    # bm25 is lower for a better match: negated, so that a higher rank is better on both vendors.
    # Column weights: public text (subject and replies), internal notes (0 for customers), people.
    weights = "1.0, 0.5, 2.0" if staff else "1.0, 0.0, 2.0"
    # (Before 3.35 the hint is a syntax error: the answer is the same, only slower.)
    materialized = "MATERIALIZED" if sqlite3.sqlite_version_info >= (3, 35, 0) else ""
    rank = RawSQL(  # nosec B611  # constants; the query a parameter
        f"coalesce((WITH found AS {materialized} ("  # nosec B608  # constants
        f"SELECT rowid AS id, -bm25(desk_ticket_fts, {weights}) AS score FROM desk_ticket_fts "
        f'WHERE desk_ticket_fts MATCH %s) SELECT score FROM found WHERE found.id = "{table}"."id"), 0)',
        [query],
        output_field=FloatField(),
    )
    return queryset.filter(matches | direct).annotate(search_tier=_tier(terms, requesters, people), search_rank=rank)


# Best match first: the tier, the text rank, then the newest.
SEARCH_ORDERING = ["search_tier", "-search_rank", "-opened_at", "-pk"]
