"""The parser against real mail from two public projects (see the corpus README).

Every message parses; for Zammad's messages, sender, subject, attachments and body agree with
Zammad's own expected parse, apart from the differences listed below with their reasons.
"""

from __future__ import annotations

import email.utils
import html
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from serviceloop.desk.mail_parse import MailParseError, ParsedMail, parse_message

CORPUS_ENV = "SERVICELOOP_MAIL_CORPUS"
REPO_ROOT = Path(__file__).resolve().parents[3]


def _corpus_dir() -> Path:
    configured = os.environ.get(CORPUS_ENV)
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "corpus" / "mail"


CORPUS = _corpus_dir()
ZAMMAD = sorted(CORPUS.glob("zammad/*.box")) if CORPUS.is_dir() else []
CPYTHON = sorted(CORPUS.glob("cpython/msg_*.txt")) if CORPUS.is_dir() else []

# Files in the corpus that are not mails; refusing them is the right answer.
NOT_MAILS = {
    "cpython/msg_19.txt": "CPython's expected body of msg_02.txt for its body-iterator test: "
    "digest text without any header line",
}

# Attachments Zammad lists that we deliberately do not produce: (message, file name) -> reason.
HTML_BODY_KEPT_AS_ATTACHMENT = (
    "Zammad stores the HTML rendering of the body as an attachment; for us it is the body "
    "(converted by html_to_text), not a file"
)
ZAMMAD_ONLY_ATTACHMENTS = {
    ("mail001", "message.html"): HTML_BODY_KEPT_AS_ATTACHMENT,
    ("mail007", "message.html"): HTML_BODY_KEPT_AS_ATTACHMENT,
    ("mail013", "message.html"): HTML_BODY_KEPT_AS_ATTACHMENT,
    ("mail017", "message.html"): HTML_BODY_KEPT_AS_ATTACHMENT,
    ("mail026", "message.html"): HTML_BODY_KEPT_AS_ATTACHMENT,
    ("mail110", "message.html"): HTML_BODY_KEPT_AS_ATTACHMENT,
    ("mail112", "message.html"): HTML_BODY_KEPT_AS_ATTACHMENT,
    ("mail071", "file"): "the mail declares multipart/mixed but has no parts; Zammad stores the "
    "empty body as a file named 'file', we store nothing",
}

# Per-message differences in sender or body, each with its reason.
SENDER_DEVIATIONS = {
    "mail071": (
        "the local part has spaces; Zammad drops the quotes, we keep the RFC 5322 quoted form "
        '"power quadrant system"@example.com, the address one can actually reply to'
    ),
}
# Text Zammad puts before the body that we leave out, removed before comparing: message -> (text,
# reason).
BODY_PREFIX_DEVIATIONS = {
    "mail016": ("新建网页 3", "Zammad renders the HTML <title> into the body; we drop <head>"),
}

# Messages whose body Zammad keeps from the first line, where body_text rightly trims it.
BODY_STARTS_WITH_HISTORY = {
    "mail005": "a top-quoted reply: Zammad's body starts with the quoted history (\"Am ..., "
    'schrieb ...:" and "> " lines) that body_text trims; full_text holds it',
}

# multipart/alternative mails whose renderings differ: Zammad's body is the HTML one, ours the
# text/plain one (by design), so Zammad's text cannot be looked for in ours.
BODY_FROM_PLAIN_RENDERING = {
    "mail017": "spam whose text/plain and text/html renderings carry different news snippets",
    "mail026": "the HTML rendering is layout tables without any text; the plain one has the text",
}

ZAMMAD_EMPTY_BODY = "no visible content"
_HTML_TAG = re.compile(r"</?(?:div|p|br|a|table|span|b|strong|i|h\d|pre|td|tr)\b[^>]*>", re.I)
_ANY_TAG = re.compile(r"<[^>]*>")
BODY_CHUNK = 40


class _IgnoreRubyTags(yaml.SafeLoader):
    """Zammad's expectations are Ruby YAML dumps; their !ruby/... tags carry nothing we need."""


def _construct_untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_IgnoreRubyTags.add_multi_constructor("!", _construct_untagged)


def _expected(box: Path) -> dict[str, Any]:
    with box.with_suffix(".yml").open(encoding="utf-8") as handle:
        loaded = yaml.load(handle, Loader=_IgnoreRubyTags)  # noqa: S506 - a SafeLoader subclass
    return loaded if isinstance(loaded, dict) else {}


EXPECTED = {box.stem: _expected(box) for box in ZAMMAD if box.with_suffix(".yml").exists()}


def _zammad_with(key: str) -> list[Any]:
    return [
        pytest.param(CORPUS / "zammad" / f"{name}.box", expected, id=name)
        for name, expected in sorted(EXPECTED.items())
        if expected.get(key) is not None
    ]


def _parse(path: Path) -> ParsedMail:
    return parse_message(path.read_bytes())


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _without_whitespace(text: str) -> str:
    return "".join(text.split())


def test_mail_corpus_is_present() -> None:
    if ZAMMAD and CPYTHON:
        assert len(EXPECTED) == len(ZAMMAD), "every zammad/*.box needs its .yml"
        return
    message = f"mail corpus not found at {CORPUS} (set {CORPUS_ENV} to its folder)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.mark.parametrize(
    "path", [pytest.param(path, id=f"{path.parent.name}/{path.name}") for path in ZAMMAD + CPYTHON]
)
def test_every_corpus_message_parses(path: Path) -> None:
    key = f"{path.parent.name}/{path.name}"
    if key in NOT_MAILS:
        with pytest.raises(MailParseError):
            _parse(path)
        return
    mail = _parse(path)
    assert isinstance(mail, ParsedMail)


@pytest.mark.parametrize(("path", "expected"), _zammad_with("subject"))
def test_subject_matches_zammad(path: Path, expected: dict[str, Any]) -> None:
    assert _parse(path).subject == _normalised(str(expected["subject"]))


def _expected_sender(expected: dict[str, Any]) -> str | None:
    if expected.get("from_email"):
        return str(expected["from_email"]).lower()
    if expected.get("from"):
        return email.utils.parseaddr(str(expected["from"]))[1].lower() or None
    return None


@pytest.mark.parametrize(
    ("path", "expected"),
    [param for param in _zammad_with("subject") if _expected_sender(param.values[1])],
)
def test_sender_matches_zammad(path: Path, expected: dict[str, Any]) -> None:
    mail = _parse(path)
    if path.stem in SENDER_DEVIATIONS:
        assert mail.from_email.replace('"', "") == _expected_sender(expected)
        return
    assert mail.from_email == _expected_sender(expected)


@pytest.mark.parametrize(("path", "expected"), _zammad_with("attachments"))
def test_attachments_match_zammad(path: Path, expected: dict[str, Any]) -> None:
    zammad_names = [str(attachment.get("filename")) for attachment in expected["attachments"]]
    expected_names = [name for name in zammad_names if (path.stem, name) not in ZAMMAD_ONLY_ATTACHMENTS]
    assert sorted(a.filename for a in _parse(path).attachments) == sorted(expected_names)


def _zammad_body_text(expected: dict[str, Any]) -> str:
    body = str(expected["body"])
    is_html = expected.get("content_type") == "text/html" or (
        "content_type" not in expected and _HTML_TAG.search(body) is not None
    )
    return html.unescape(_ANY_TAG.sub(" ", body)) if is_html else body


@pytest.mark.parametrize(("path", "expected"), _zammad_with("body"))
def test_body_matches_zammad(path: Path, expected: dict[str, Any]) -> None:
    mail = _parse(path)
    theirs = _zammad_body_text(expected)
    if theirs.strip() == ZAMMAD_EMPTY_BODY:
        assert mail.full_text.strip() == ""
        return
    if path.stem in BODY_FROM_PLAIN_RENDERING:
        assert mail.full_text.strip() and not mail.body_was_html
        return
    if path.stem in BODY_PREFIX_DEVIATIONS:
        prefix, _reason = BODY_PREFIX_DEVIATIONS[path.stem]
        assert theirs.lstrip().startswith(prefix)
        theirs = theirs.lstrip()[len(prefix) :]
    chunk = _without_whitespace(theirs)[:BODY_CHUNK]
    assert chunk, "Zammad's body has no text to compare"
    assert chunk in _without_whitespace(mail.full_text)
    if path.stem in BODY_STARTS_WITH_HISTORY:
        return
    # body_text starts where Zammad's body starts; it may end sooner (signature trimmed).
    ours = _without_whitespace(mail.body_text)
    assert ours
    assert chunk[: len(ours)] in ours
