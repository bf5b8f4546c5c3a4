from __future__ import annotations

import re

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

# After an @ or a slash, before a dot: where a reader expects a long address to continue on the next line.
_BREAKS = re.compile(r"(?<=[@/])|(?=\.)")


@register.filter
def wrappable(value: object) -> SafeString:
    """`{{ person.email|wrappable }}`: the value, escaped, with <wbr> where a long email address or
    URL may wrap, so that a narrow screen breaks it there rather than at an arbitrary letter."""
    pieces = [piece for piece in _BREAKS.split(str(value)) if piece]
    if not pieces:
        return format_html("{}", "")
    head = format_html_join("", "{}<wbr>", ((piece,) for piece in pieces[:-1]))
    return format_html("{}{}", head, pieces[-1])
