"""Desk subcommands of `serviceloop`: `mail parse FILE|-` for operators who debug a mailbox."""

from __future__ import annotations

import argparse
import json
import sys
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
            "it would thread to, the stored body text and each attachment. Exits 2 on input that is not a mail."
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
    setup_django()
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
    out.update(mail_preview(mail, raw))
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0
