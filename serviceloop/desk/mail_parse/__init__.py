"""Inbound mail parsing: raw bytes of one mail in, a ParsedMail dataclass out.

Pure Python, no Django and no database: the transport hands bytes in, and the desk service
applies the result. Only the names below are the interface; the modules beside are details.
"""

from .auth import AuthResults, authentication_results
from .detect import find_ticket_references
from .html_text import html_to_text
from .limits import MailLimitError, MailLimits, MailShape, check_limits
from .model import LOOP_HEADER, MailParseError, ParsedAttachment, ParsedMail
from .parse import check_is_mail, parse_message, parsed_to_json
from .trim import trim_reply

__all__ = [
    "LOOP_HEADER",
    "AuthResults",
    "MailLimitError",
    "MailLimits",
    "MailParseError",
    "MailShape",
    "ParsedAttachment",
    "ParsedMail",
    "authentication_results",
    "check_is_mail",
    "check_limits",
    "find_ticket_references",
    "html_to_text",
    "parse_message",
    "parsed_to_json",
    "trim_reply",
]
