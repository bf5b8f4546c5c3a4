from __future__ import annotations

from typing import Any

from django import template

from serviceloop.core.links import object_links as links_for
from serviceloop.core.links import object_panels as panels_for

register = template.Library()


@register.inclusion_tag("core/_object_links.html", takes_context=True)
def object_links(context: Any, obj: Any) -> dict[str, Any]:
    """`{% object_links service %}`: the pages of higher apps about this object, for this viewer."""
    request = context.get("request")
    return {"links": links_for(obj, getattr(request, "user", None))}


@register.simple_tag(takes_context=True)
def object_panels(context: Any, obj: Any) -> str:
    """`{% object_panels ticket %}`: the blocks higher apps render about this object, for this viewer."""
    request = context.get("request")
    return panels_for(obj, getattr(request, "user", None))
