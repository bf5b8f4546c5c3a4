"""`{{ value|wrappable }}`: long addresses wrap at the places a reader expects, and stay escaped."""

from __future__ import annotations

from django.template import Context, Template

from serviceloop.core.templatetags.wrapping import wrappable


def test_an_email_may_wrap_after_the_at_and_before_each_dot() -> None:
    assert wrappable("pat.lee@accounts.acme.example") == "pat<wbr>.lee@<wbr>accounts<wbr>.acme<wbr>.example"


def test_a_time_zone_may_wrap_after_each_slash() -> None:
    assert wrappable("America/Argentina/ComodRivadavia") == "America/<wbr>Argentina/<wbr>ComodRivadavia"


def test_a_plain_word_is_left_alone() -> None:
    assert wrappable("UTC") == "UTC"
    assert wrappable("") == ""


def test_the_value_is_escaped_and_only_the_breaks_are_markup() -> None:
    rendered = Template("{% load wrapping %}{{ value|wrappable }}").render(
        Context({"value": '<script>alert("x")</script>@evil.example'})
    )
    assert rendered == ("&lt;script&gt;alert(&quot;x&quot;)&lt;/<wbr>script&gt;@<wbr>evil<wbr>.example")
