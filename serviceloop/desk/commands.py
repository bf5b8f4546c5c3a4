"""Desk subcommands of `serviceloop`: `mail parse FILE|-` for operators who debug a mailbox."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    mail = sub.add_parser("mail", help="the desk's email channel: 'mail parse FILE|-'")
    actions = mail.add_subparsers(dest="mail_action", required=True, metavar="ACTION")
    parse = actions.add_parser(
        "parse",
        help="print what the parser makes of one raw mail, as JSON (writes nothing)",
        description=(
            "Reads one raw RFC 5322 message from FILE (or standard input with -) and prints, as JSON, "
            "sender, recipients, subject, ids, whether it is an auto-reply or bounce and why, the ticket "
            "it would thread to, the stored body text and each attachment, always as UTF-8. Needs no database: "
            "without one (a fresh install) it says that the ticket was not looked up. Exits 2 on input that is "
            "not a mail."
        ),
    )
    parse.add_argument("file", metavar="FILE|-")
    parse.set_defaults(handler=cmd_mail_parse)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    with open(name, "rb") as handle:
        return handle.read()


def cmd_mail_parse(args: argparse.Namespace) -> int:
    from serviceloop.core.cli import setup_django

    try:
        raw = _read(args.file)
    except OSError as error:
        print(f"serviceloop mail parse: cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return 2
    # Only reads: no data directory is created, so that it works on a fresh install and from any folder.
    setup_django(data_dir=False)
    from django.conf import settings

    from serviceloop.desk.mail_parse import MailLimitError, MailParseError, parse_message, parsed_to_json
    from serviceloop.desk.services.mail_in import mail_limits, mail_preview

    try:
        # The desk's limits and trusted server, so that the answer is what the worker would see.
        mail = parse_message(raw, limits=mail_limits(), authserv_id=settings.SERVICELOOP_MAIL_AUTHSERV_ID)
    except MailLimitError as error:
        print(
            f"serviceloop mail parse: {args.file} is beyond the desk's limits: {error.code}: {error}", file=sys.stderr
        )
        return 2
    except MailParseError as error:
        print(f"serviceloop mail parse: {args.file} is not a mail: {error}", file=sys.stderr)
        return 2
    out = parsed_to_json(mail)
    missing = _no_database()
    out.update(mail_preview(mail, raw, look_up_thread=missing is None))
    out["threading_note"] = None
    if missing is not None:
        note = f"Threading (which ticket a reply belongs to) was not looked up: {missing}"
        out["threading_note"] = note
        print(f"serviceloop mail parse: {note}", file=sys.stderr)
    _print_utf8(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def _no_database() -> str | None:
    """Why there is no database to look threads up in, or None when there is one with the desk's tables."""
    from django.db import DatabaseError, connection

    from serviceloop.desk.models import MailRoute, Message

    if connection.vendor == "sqlite":
        # Connecting would create an empty database file (and fail where its folder is missing).
        name = Path(str(connection.settings_dict["NAME"]))
        if not name.is_file():
            return f"there is no database yet ({name} does not exist; 'serviceloop migrate' creates it)."
    try:
        tables = connection.introspection.table_names()
    except DatabaseError as error:
        return f"the database cannot be reached ({' '.join(str(error).split())})."
    if Message._meta.db_table not in tables:
        return "the database has no tables yet ('serviceloop migrate' creates them)."
    if MailRoute._meta.db_table not in tables:
        return "the database is older than this release ('serviceloop migrate' brings it up to date)."
    return None


def _print_utf8(text: str) -> None:
    # UTF-8 whatever the terminal's locale says (LANG=C, a pipe on Windows): the parse holds no
    # surrogates, and "replace" keeps that true should one slip through.
    data = (text + "\n").encode("utf-8", "replace")
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()
