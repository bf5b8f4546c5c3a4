"""The parser's limits (one scan before any tree is built) and the receiving server's verdicts; no database."""

from __future__ import annotations

import time
from email import policy
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import pytest

from serviceloop.desk.mail_parse import (
    MailLimitError,
    MailLimits,
    authentication_results,
    check_limits,
    parse_message,
)
from serviceloop.desk.tests.mail_factories import many_parts_mail, nested_mail, raw_mail
from serviceloop.desk.tests.test_mail_corpus import CPYTHON, NOT_MAILS, ZAMMAD

DEFAULTS = MailLimits()
# Where the scan counts fewer parts than the parser builds, and why it does not matter.
SCAN_DEVIATIONS = {
    "cpython/msg_38.txt": (
        1,
        "an outer boundary line inside an inner part's text: the scan ends the inner multipart there, the "
        "parser keeps reading it and makes one part more; a constant, not a factor",
    ),
}


def _tree(message: Message, depth: int = 0) -> tuple[int, int]:
    """(parts, deepest level) of the tree the email package built."""
    parts, deepest = 1, depth
    payload = message.get_payload() if message.is_multipart() else None
    for child in payload if isinstance(payload, list) else []:
        if isinstance(child, Message):
            child_parts, child_depth = _tree(child, depth + 1)
            parts += child_parts
            deepest = max(deepest, child_depth)
    return parts, deepest


@pytest.mark.parametrize("path", [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in ZAMMAD + CPYTHON])
def test_every_corpus_mail_is_within_the_default_limits_and_the_scan_counts_at_least_the_parsers_tree(
    path: Path,
) -> None:
    key = f"{path.parent.name}/{path.name}"
    if key in NOT_MAILS:
        pytest.skip("not a mail")
    raw = path.read_bytes()
    shape = check_limits(raw, DEFAULTS)
    parts, depth = _tree(BytesParser(policy=policy.compat32).parsebytes(raw))
    assert shape.parts + SCAN_DEVIATIONS.get(key, (0, ""))[0] >= parts
    assert shape.depth >= depth


def test_the_200000_part_mail_is_refused_by_the_scan_in_well_under_a_second() -> None:
    raw = many_parts_mail(200_000)
    started = time.monotonic()
    with pytest.raises(MailLimitError) as refused:
        parse_message(raw, limits=DEFAULTS)
    elapsed = time.monotonic() - started
    print(f"\nscan of the 200,000-part mail ({len(raw) / 1e6:.1f} MB): refused in {elapsed:.3f} s")
    assert refused.value.code == "too_many_parts"
    assert elapsed < 2


def test_parts_are_counted_through_nested_multiparts_and_wrapped_messages() -> None:
    inner = raw_mail(subject="forwarded", attachments=[("a.txt", "text/plain", b"a"), ("b.txt", "text/plain", b"b")])
    outer = raw_mail(attachments=[("fwd.eml", "message/rfc822", inner)])
    shape = check_limits(outer, DEFAULTS)
    assert shape.parts >= _tree(BytesParser(policy=policy.compat32).parsebytes(outer))[0]
    with pytest.raises(MailLimitError, match="more than 3 MIME parts"):
        check_limits(outer, MailLimits(max_parts=3))


def test_depth_and_headers_are_limited() -> None:
    assert check_limits(nested_mail(10), DEFAULTS).depth == 10
    with pytest.raises(MailLimitError) as deep:
        check_limits(nested_mail(11), DEFAULTS)
    assert deep.value.code == "too_deep"
    many = b"".join(f"X-H{n}: v\r\n".encode() for n in range(50)) + raw_mail()
    with pytest.raises(MailLimitError) as headers:
        check_limits(many, MailLimits(max_headers=50))
    assert headers.value.code == "too_many_headers"


def test_a_close_delimiter_ends_its_multipart_so_later_dashes_are_text() -> None:
    raw = (
        b"From: a@acme.example\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\n\r\none\r\n--b--\r\n" + b"--b\r\n" * 10
    )
    assert check_limits(raw, DEFAULTS).parts == 2


def test_the_topmost_authentication_results_is_trusted_and_lower_ones_ignored() -> None:
    verdict = authentication_results(
        [
            "mx.desk.example; dkim=pass header.d=acme.example; dkim=fail; spf=pass (sender ok) smtp.mailfrom=acme"
            "; dmarc=pass (p=reject) header.from=acme.example",
            "forger.example; dmarc=fail",
        ]
    )
    assert (verdict.authserv_id, verdict.dmarc, verdict.dkim, verdict.spf) == (
        "mx.desk.example",
        "pass",
        "pass",
        "pass",
    )


def test_with_an_authserv_id_only_that_servers_instance_counts() -> None:
    values = ["forger.example; dmarc=pass", "MX.desk.example 1; dmarc=fail; spf=weird"]
    verdict = authentication_results(values, "mx.desk.example")
    assert (verdict.dmarc, verdict.spf) == ("fail", "unknown")
    assert authentication_results(values, "other.example").dmarc == ""
    assert authentication_results([], "").dmarc == ""
