"""Mail whose charset label lies or is missing: real bytes as mailers send them, decoded to the
original text. Pure Python, no database."""

from __future__ import annotations

import base64

import pytest

from serviceloop.desk.mail_parse import parse_message

JAPANESE_SUBJECT = "【至急】プリンターが動きません"
JAPANESE_BODY = "お世話になっております。三階のプリンターが動きません。至急ご確認をお願いいたします。"
GERMAN_BODY = "Grüße aus Köln – die Rechnung für März ist „falsch“, bitte prüfen. 50 € zu viel."


def mail(
    subject: bytes, body: bytes, *, content_type: bytes = b"text/plain; charset=utf-8", head: bytes = b""
) -> bytes:
    return (
        b"From: Kenji Sato <kenji@acme.example>\r\nTo: desk@serviceloop.example\r\nSubject: "
        + subject
        + b"\r\nMessage-ID: <jp1@acme.example>\r\n"
        + head
        + b"MIME-Version: 1.0\r\nContent-Type: "
        + content_type
        + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body
    )


@pytest.mark.parametrize("encoding", ["shift_jis", "euc_jp"])
@pytest.mark.parametrize(
    "content_type",
    [b"text/plain; charset=iso-8859-1", b"text/plain", b"text/plain; charset=us-ascii"],
    ids=["body-labelled-latin1", "no-charset", "body-labelled-ascii"],
)
def test_raw_japanese_subject_is_read_whatever_the_mail_declares(encoding: str, content_type: bytes) -> None:
    raw = mail(JAPANESE_SUBJECT.encode(encoding), b"See subject.", content_type=content_type)
    assert parse_message(raw).subject == JAPANESE_SUBJECT


@pytest.mark.parametrize("encoding", ["shift_jis", "euc_jp"])
def test_encoded_word_labelled_latin1_holding_japanese_is_read_as_japanese(encoding: str) -> None:
    word = base64.b64encode(JAPANESE_SUBJECT.encode(encoding))
    raw = mail(b"=?iso-8859-1?B?" + word + b"?=", b"See subject.")
    assert parse_message(raw).subject == JAPANESE_SUBJECT


def test_raw_japanese_display_name_and_subject_are_read_together() -> None:
    raw = mail(JAPANESE_SUBJECT.encode("euc_jp"), b"x", content_type=b"text/plain; charset=iso-8859-1").replace(
        b"From: Kenji Sato", b"From: " + "佐藤 健二".encode("euc_jp")
    )
    parsed = parse_message(raw)
    assert (parsed.from_name, parsed.from_email, parsed.subject) == (
        "佐藤 健二",
        "kenji@acme.example",
        JAPANESE_SUBJECT,
    )


@pytest.mark.parametrize("label", [b"iso-8859-1", b"us-ascii", b"iso-2022-jp", b"windows-1252"])
def test_japanese_body_under_a_wrong_label_is_read_as_japanese(label: bytes) -> None:
    raw = mail(b"Printer", JAPANESE_BODY.encode("shift_jis"), content_type=b"text/plain; charset=" + label)
    assert parse_message(raw).full_text == JAPANESE_BODY


def test_cp1252_body_labelled_utf8_is_read_as_cp1252() -> None:
    raw = mail(b"Rechnung", GERMAN_BODY.encode("cp1252"), content_type=b"text/plain; charset=utf-8")
    assert parse_message(raw).full_text == GERMAN_BODY


def test_utf8_body_labelled_latin1_is_read_as_utf8() -> None:
    raw = mail(b"Rechnung", GERMAN_BODY.encode("utf-8"), content_type=b"text/plain; charset=iso-8859-1")
    assert parse_message(raw).full_text == GERMAN_BODY


def test_raw_utf8_subject_is_read_as_utf8_although_the_body_declares_shift_jis() -> None:
    raw = mail(
        JAPANESE_SUBJECT.encode("utf-8"),
        JAPANESE_BODY.encode("shift_jis"),
        content_type=b"text/plain; charset=shift_jis",
    )
    parsed = parse_message(raw)
    assert (parsed.subject, parsed.full_text) == (JAPANESE_SUBJECT, JAPANESE_BODY)


@pytest.mark.parametrize(
    "text",
    ["Café résumé", "ÄÖÜ äöü ß", "┌──┐ 5¥ ±2°C µs ©®", "Ceci est un résumé d'été, très réussi."],
)
def test_a_true_latin1_label_is_kept_even_for_symbol_heavy_text(text: str) -> None:
    raw = mail(b"x", text.encode("cp1252", errors="ignore"), content_type=b"text/plain; charset=iso-8859-1")
    assert parse_message(raw).full_text == text.encode("cp1252", errors="ignore").decode("cp1252")


def test_short_latin1_header_without_any_label_stays_latin1() -> None:
    raw = mail("Café im 3. Stock".encode("latin-1"), b"x", content_type=b"text/plain")
    assert parse_message(raw).subject == "Café im 3. Stock"


def test_a_correct_shift_jis_label_is_kept() -> None:
    raw = mail(b"x", JAPANESE_BODY.encode("shift_jis"), content_type=b"text/plain; charset=Shift_JIS")
    assert parse_message(raw).full_text == JAPANESE_BODY


def test_bytes_that_are_no_text_in_any_charset_become_replacement_characters_not_surrogates() -> None:
    junk = bytes(range(0x80, 0x100)) * 2
    raw = mail(b"ok " + junk[:40], b"body " + junk, content_type=b"text/plain; charset=utf-8").replace(
        b"Message-ID: <jp1@acme.example>", b"Message-ID: <\xff\xfe@acme.example>"
    )
    parsed = parse_message(raw)
    for value in (parsed.subject, parsed.full_text, parsed.message_id or "", parsed.body_text):
        value.encode("utf-8")  # strict: a lone surrogate would raise here
    assert parsed.subject.startswith("ok ")


def test_utf8_with_one_broken_byte_keeps_its_text_and_marks_only_that_byte() -> None:
    body = GERMAN_BODY.encode("utf-8").replace("März".encode(), b"M\xc3rz")
    raw = mail(b"Rechnung", body, content_type=b"text/plain; charset=utf-8")
    assert parse_message(raw).full_text == GERMAN_BODY.replace("März", "M\ufffdrz")


@pytest.mark.parametrize("text", ["ÄÖÜ", "“Drucker” – ‘kaputt’ …", "ÀÉÎÕÜ"])
def test_short_western_text_that_the_mess_measure_doubts_is_still_read_as_windows_1252(text: str) -> None:
    raw = mail(text.encode("cp1252"), text.encode("cp1252"), content_type=b"text/plain; charset=utf-8")
    parsed = parse_message(raw)
    assert (parsed.subject, parsed.full_text) == (text, text)
