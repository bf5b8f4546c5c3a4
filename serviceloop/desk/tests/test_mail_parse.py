"""The inbound mail parser: raw bytes in, ParsedMail out. Pure Python, no database."""

from __future__ import annotations

import base64
import contextlib
import json
import random
import time
from datetime import UTC, datetime

import pytest

from serviceloop.desk.mail_parse import (
    LOOP_HEADER,
    MailParseError,
    find_ticket_references,
    html_to_text,
    parse_message,
    parsed_to_json,
    trim_reply,
)

ALICE = "Alice Customer <alice@example.com>"
DESK = "Service Desk <desk@serviceloop.example>"


def raw_mail(body: str | bytes = "Hello.\n", *, headers: str = "", subject: str = "VPN down") -> bytes:
    """A plain mail from Alice to the desk; extra header lines go before the MIME headers."""
    head = f"From: {ALICE}\nTo: {DESK}\nSubject: {subject}\nDate: Tue, 24 Nov 2026 10:00:00 +0100\n"
    head += "Message-ID: <m1@example.com>\n" + headers
    if "content-type:" not in headers.lower():
        head += "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    return head.encode("utf-8") + b"\n" + data


def multipart(*parts: str, subtype: str = "mixed", headers: str = "") -> bytes:
    boundary = "XYZ-boundary"
    body = "".join(f"--{boundary}\n{part}\n" for part in parts) + f"--{boundary}--\n"
    content_type = f'MIME-Version: 1.0\nContent-Type: multipart/{subtype}; boundary="{boundary}"\n'
    return raw_mail(body, headers=headers + content_type)


# Decoding -------------------------------------------------------------------------------------


def test_quoted_printable_latin1_body_and_subject_are_decoded() -> None:
    raw = (
        b"From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <jm@example.de>\n"
        b"To: desk@serviceloop.example\n"
        b"Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=\n"
        b"Content-Type: text/plain; charset=ISO-8859-1\n"
        b"Content-Transfer-Encoding: quoted-printable\n\n"
        b"Sch=F6ne Gr=FC=DFe, der Drucker ist kaputt =\nund muss repariert werden.\n"
    )
    mail = parse_message(raw)
    assert mail.subject == "Grüße aus Köln"
    assert mail.from_name == "Jürgen Müller"
    assert mail.full_text == "Schöne Grüße, der Drucker ist kaputt und muss repariert werden."


def test_encoded_word_subjects_are_decoded_and_joined() -> None:
    # "Störung: Café" split mid-character across two B-words, as some mailers do.
    encoded = base64.b64encode("Störung: Caf".encode() + "é".encode()[:1]).decode()
    tail = base64.b64encode("é".encode()[1:] + b" im 3. Stock").decode()
    raw = raw_mail(subject=f"Re: =?utf-8?B?{encoded}?=\n =?utf-8?B?{tail}?=")
    assert parse_message(raw).subject == "Re: Störung: Café im 3. Stock"


def test_q_encoded_subject_with_underscores_is_decoded() -> None:
    raw = raw_mail(subject="=?utf-8?q?Drucker_im_2=2E_Stock_?= =?utf-8?q?defekt?=")
    assert parse_message(raw).subject == "Drucker im 2. Stock defekt"


def test_unknown_charset_falls_back_to_utf8_then_cp1252() -> None:
    raw = raw_mail(
        "caf\xe9 \u2019quoted\u2019\n".encode("cp1252"),
        headers="Content-Type: text/plain; charset=x-no-such-charset\n",
        subject="=?x-unknown?Q?Caf=C3=A9?=",
    )
    mail = parse_message(raw)
    assert mail.subject == "Café"
    assert mail.full_text == "café \u2019quoted\u2019"


def test_raw_8bit_header_is_decoded_with_the_charset_the_body_declares() -> None:
    subject = "服务水平".encode("gbk")
    raw = (
        b"From: a@example.cn\nSubject: " + subject + b"\n"
        b'Content-Type: text/plain; charset="gb2312"\n\n' + "你好".encode("gbk")
    )
    mail = parse_message(raw)
    assert mail.subject == "服务水平"
    assert mail.full_text == "你好"


def test_iso_2022_jp_body_without_charset_is_recognised() -> None:
    body = "お問い合わせありがとうございます。".encode("iso2022_jp")
    raw = b"From: a@example.jp\nSubject: test\nContent-Type: text/plain;\n\n" + body
    assert parse_message(raw).full_text == "お問い合わせありがとうございます。"


def test_display_name_with_encoded_comma_stays_one_address() -> None:
    raw = raw_mail().replace(b"From: " + ALICE.encode(), b"From: =?utf-8?B?TcO8bGxlciwgQmVybmQ=?= <Bernd@Example.com>")
    mail = parse_message(raw)
    assert (mail.from_email, mail.from_name) == ("bernd@example.com", "Müller, Bernd")


@pytest.mark.parametrize(
    "sender",
    [
        "Ben Yilmaz ben@acme.example",
        '"Ben Yilmaz" ben@acme.example',
        "ben@acme.example (Ben Yilmaz)",
        "Ben Yilmaz BEN@Acme.Example",
        "=?utf-8?Q?Ben_Yilmaz?= ben@acme.example",
    ],
)
def test_address_after_a_display_name_without_angle_brackets_is_the_sender(sender: str) -> None:
    mail = parse_message(raw_mail().replace(b"From: " + ALICE.encode(), b"From: " + sender.encode()))
    assert (mail.from_email, mail.from_name) == ("ben@acme.example", "Ben Yilmaz")


def test_bare_mailboxes_in_a_list_keep_their_own_names() -> None:
    raw = raw_mail(headers="Cc: Yilmaz, Ben ben@acme.example, ann@acme.example (Ann Lee)\n")
    assert parse_message(raw).cc == ["ben@acme.example", "ann@acme.example"]


def test_quoted_local_part_is_still_one_address() -> None:
    mail = parse_message(raw_mail().replace(b"From: " + ALICE.encode(), b'From: "power quadrant"@example.com'))
    assert mail.from_email == '"power quadrant"@example.com'


def test_addresses_are_lower_cased_and_listed() -> None:
    raw = raw_mail(headers="Cc: Bob <BOB@example.com>, carol@example.com\nReply-To: <Alice@Home.example>\n")
    mail = parse_message(raw)
    assert mail.to == ["desk@serviceloop.example"]
    assert mail.cc == ["bob@example.com", "carol@example.com"]
    assert mail.reply_to == "alice@home.example"


def test_date_is_aware_and_utc() -> None:
    assert parse_message(raw_mail()).date == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_impossible_date_is_none() -> None:
    raw = raw_mail().replace(b"10:00:00 +0100", b"29:24:05 +0100")
    assert parse_message(raw).date is None


def test_banner_line_and_unindented_continuation_are_repaired() -> None:
    raw = (
        b"---- Original email message ----\n"
        b"Received: from mx.example.com\n"
        b"by mail.example.com with ESMTP\n"
        b"Subject : Contact form\n"
        b"From: form@example.com\n\n"
        b"Name: Peter\n"
    )
    mail = parse_message(raw)
    assert (mail.from_email, mail.subject, mail.full_text) == (
        "form@example.com",
        "Contact form",
        "Name: Peter",
    )


def test_second_from_header_is_used_when_the_first_is_garbage() -> None:
    raw = b"From: [??????]\nFrom: Ann <ann@example.com>\nSubject: hi\n\nhello\n"
    assert parse_message(raw).from_email == "ann@example.com"


# Attachments ----------------------------------------------------------------------------------


def test_base64_attachment_with_rfc2231_filename_is_decoded() -> None:
    pdf = b"%PDF-1.4 fake"
    raw = multipart(
        "Content-Type: text/plain; charset=utf-8\n\nSee attached.",
        "Content-Type: application/pdf\n"
        "Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\n"
        "Content-Transfer-Encoding: base64\n\n" + base64.b64encode(pdf).decode(),
    )
    mail = parse_message(raw)
    [attachment] = mail.attachments
    assert (attachment.filename, attachment.content_type, attachment.content) == (
        "Rechnung März.pdf",
        "application/pdf",
        pdf,
    )
    assert attachment.size == len(pdf)
    assert not attachment.inline
    assert mail.full_text == "See attached."


def test_attachment_filename_loses_its_path() -> None:
    raw = multipart(
        'Content-Type: application/octet-stream\nContent-Disposition: attachment; filename="..\\\\..\\\\etc/passwd"\n\nx'
    )
    assert parse_message(raw).attachments[0].filename == "passwd"


def test_attachment_without_name_gets_a_generated_name() -> None:
    raw = multipart("Content-Type: text/plain\n\nhi", "Content-Type: application/pdf\n\n%PDF")
    assert parse_message(raw).attachments[0].filename == "attachment-1.pdf"


def test_unnamed_parts_are_kept_with_names_from_their_type_and_inline_text_stays_the_body() -> None:
    raw = multipart(
        "Content-Type: text/plain\n\nThe invoice and a photo.",
        "Content-Type: application/pdf\nContent-Disposition: attachment\n\n%PDF-1.4",
        "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\n" + base64.b64encode(b"\x89PNG").decode(),
        'Content-Type: image/jpeg\nContent-Disposition: attachment; filename=""\n\nJFIF',
        "Content-Type: text/plain\nContent-Disposition: attachment\n\nE42 at 09:12",
        "Content-Type: text/plain\nContent-Disposition: inline\n\nSent from the third floor.",
    )
    mail = parse_message(raw)
    assert [(a.filename, a.content_type, a.inline) for a in mail.attachments] == [
        ("attachment-1.pdf", "application/pdf", False),
        ("image-2.png", "image/png", False),
        ("image-3.jpg", "image/jpeg", False),
        ("attachment-4.txt", "text/plain", False),
    ]
    assert mail.full_text == "The invoice and a photo.\n\nSent from the third floor."


def test_inline_image_with_content_id_is_an_inline_attachment() -> None:
    raw = multipart(
        'Content-Type: text/html; charset=utf-8\n\n<p>Screenshot: <img src="cid:shot@x"></p>',
        "Content-Type: image/png\nContent-ID: <shot@x>\nContent-Transfer-Encoding: base64\n\n"
        + base64.b64encode(b"\x89PNG").decode(),
        subtype="related",
    )
    [image] = parse_message(raw).attachments
    assert (image.filename, image.content_id, image.inline, image.content) == (
        "image-1.png",
        "shot@x",
        True,
        b"\x89PNG",
    )


def test_attached_mail_becomes_an_eml_named_after_its_subject() -> None:
    raw = multipart(
        "Content-Type: text/plain\n\nForwarding the complaint.",
        "Content-Type: message/rfc822\n\nFrom: x@example.com\nSubject: Printer on fire\n\nHelp!",
    )
    [attachment] = parse_message(raw).attachments
    assert attachment.filename == "Printer on fire.eml"
    assert attachment.content_type == "message/rfc822"
    assert b"Subject: Printer on fire" in attachment.content
    assert attachment.content.endswith(b"Help!")


def test_image_pasted_into_html_alternative_is_kept_when_plain_text_is_chosen() -> None:
    related = (
        'Content-Type: multipart/related; boundary="inner"\n\n'
        "--inner\nContent-Type: text/html\n\n<p>Look <img src='cid:i1'></p>\n"
        "--inner\nContent-Type: image/png\nContent-ID: <i1>\n\nPNG\n--inner--"
    )
    raw = multipart("Content-Type: text/plain\n\nLook [image]", related, subtype="alternative")
    mail = parse_message(raw)
    assert mail.full_text == "Look [image]"
    assert [a.content_id for a in mail.attachments] == ["i1"]


# Text choice and HTML -------------------------------------------------------------------------


def test_plain_alternative_is_preferred_over_html() -> None:
    raw = multipart(
        "Content-Type: text/plain\n\nPlain words.",
        "Content-Type: text/html\n\n<p>HTML words.</p>",
        subtype="alternative",
    )
    mail = parse_message(raw)
    assert (mail.full_text, mail.body_was_html) == ("Plain words.", False)


def test_html_only_mail_becomes_safe_text() -> None:
    html = (
        "<html><head><title>Mail</title><style>p{color:red}</style></head><body>"
        "<script>alert('x')</script><p>The VPN&nbsp;is down &amp; nobody can work.</p>"
        "<div>Regards,<br>Alice</div></body></html>"
    )
    mail = parse_message(raw_mail(html, headers="Content-Type: text/html; charset=utf-8\n"))
    assert mail.body_was_html
    assert mail.full_text == "The VPN is down & nobody can work.\n\nRegards,\nAlice"


def test_html_to_text_keeps_links_as_text_and_url() -> None:
    html = (
        '<p>See <a href="https://status.example.com/vpn">the status page</a> or '
        '<a href="https://example.com">example.com</a>, not <a href="javascript:evil()">this</a>.</p>'
    )
    assert html_to_text(html) == ("See the status page (https://status.example.com/vpn) or example.com, not this.")


def test_html_to_text_renders_blockquotes_and_lists() -> None:
    html = "<p>Yes.</p><blockquote><p>Is it down?</p></blockquote><ol><li>one</li><li>two</li></ol>"
    assert html_to_text(html) == "Yes.\n\n> Is it down?\n\n1. one\n2. two"


def test_html_to_text_survives_an_unclosed_head() -> None:
    assert html_to_text("<html><head><title>x<body><p>Body text</p>") == "Body text"


def test_html_comments_and_outlook_conditionals_are_dropped() -> None:
    html = "<!--[if mso]><p>MSO only</p><![endif]--><p>Hello<!-- hidden --> there</p>"
    assert html_to_text(html) == "Hello there"


@pytest.mark.parametrize(
    "hostile",
    ["<!--", "<a ", '<p a="b" c="d>e', "</", "<![", "<blockquote>x", "<a href='http://x'>t"],
)
def test_hostile_html_converts_in_linear_time(hostile: str) -> None:
    # html.parser alone needs many minutes for some of these (it rescans the rest of the document);
    # linear work takes about a second. The bound is loose so that a loaded machine does not fail it:
    # it tells quadratic from linear, it is not a speed target (those live in bench/).
    started = time.perf_counter()
    html_to_text(hostile * 100_000)
    assert time.perf_counter() - started < 60


# Trimming -------------------------------------------------------------------------------------


def test_gmail_quote_is_trimmed() -> None:
    text = (
        "Still broken, see below.\n\n"
        "On Tue, Nov 24, 2026 at 10:00 AM Service Desk <\ndesk@serviceloop.example> wrote:\n\n"
        "> Please restart the client.\n> Regards\n"
    )
    assert trim_reply(text) == "Still broken, see below."


def test_quoted_lines_are_trimmed() -> None:
    text = "> Did you restart?\nYes, twice.\n> And the router?\nAlso yes.\n"
    assert trim_reply(text) == "Yes, twice.\nAlso yes."


def test_outlook_original_message_block_is_trimmed() -> None:
    text = "Works again, thanks.\n\n-----Original Message-----\nFrom: Desk\nSent: Monday\n\nOld text"
    assert trim_reply(text) == "Works again, thanks."


def test_outlook_from_sent_header_block_is_trimmed() -> None:
    text = (
        "Works again.\n\n________________________________\n"
        "From: Service Desk <desk@serviceloop.example>\nSent: Tuesday, November 24, 2026 10:00\n"
        "To: Alice\nSubject: RE: VPN\n\nOld text\n"
    )
    assert trim_reply(text) == "Works again."


def test_german_outlook_and_attribution_are_trimmed() -> None:
    outlook = "Danke!\n\nVon: Desk\nGesendet: Dienstag, 24. November 2026 10:00\nAn: Alice\n\nAlt"
    attribution = "Danke!\n\nAm 24.11.2026 um 10:00 schrieb Service Desk:\n> Alt\n"
    assert trim_reply(outlook) == "Danke!"
    assert trim_reply(attribution) == "Danke!"


def test_french_attribution_is_trimmed() -> None:
    text = "Merci.\n\nLe mar. 24 nov. 2026 à 10:00, Service Desk a écrit :\n> Ancien texte\n"
    assert trim_reply(text) == "Merci."


def test_top_quoted_history_is_trimmed_and_the_reply_kept() -> None:
    text = "Am 07.05.2012 08:10, schrieb Desk:\n> Old question?\n>\nNew answer.\n"
    assert trim_reply(text) == "New answer."


def test_signature_is_trimmed() -> None:
    assert trim_reply("It works now.\n\n-- \nAlice Customer\nACME Corp\n") == "It works now."


def test_mobile_signature_is_trimmed() -> None:
    assert trim_reply("Fixed, thanks.\n\nSent from my iPhone\n\n> old\n") == "Fixed, thanks."


def test_forwarded_message_header_is_kept() -> None:
    text = (
        "Please look at this.\n\n---------- Forwarded message ---------\n"
        "From: Bob <bob@example.com>\nDate: Tue, 24 Nov 2026\nSubject: outage\n\nThe outage text."
    )
    assert trim_reply(text) == text


def test_a_mail_that_is_only_a_quote_keeps_its_text() -> None:
    assert trim_reply("> only quoted\n> lines\n") == "> only quoted\n> lines"


def test_body_text_is_trimmed_and_full_text_is_not() -> None:
    mail = parse_message(raw_mail("New text.\n\nOn Monday Desk wrote:\n> Old text.\n"))
    assert mail.body_text == "New text."
    assert mail.full_text == "New text.\n\nOn Monday Desk wrote:\n> Old text."


# Auto-replies, bounces, loops ----------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Precedence: bulk",
        "X-Autoreply: yes",
        "X-Autorespond: vacation",
        "X-Auto-Response-Suppress: OOF, DR",
    ],
)
def test_auto_reply_headers_mark_an_auto_reply(header: str) -> None:
    mail = parse_message(raw_mail(headers=header + "\n"))
    assert mail.is_auto_reply
    assert not mail.is_bounce
    assert mail.auto_reason


def test_auto_submitted_no_is_not_an_auto_reply() -> None:
    mail = parse_message(raw_mail(headers="Auto-Submitted: no\n"))
    assert (mail.is_auto_reply, mail.auto_reason) == (False, None)


def test_out_of_office_subject_is_an_auto_reply() -> None:
    assert parse_message(raw_mail(subject="Automatic reply: VPN down")).is_auto_reply
    assert parse_message(raw_mail(subject="Out of Office: back on Monday")).is_auto_reply


def test_subject_mentioning_out_of_office_is_a_human_mail() -> None:
    assert not parse_message(raw_mail(subject="Out of office laptop will not boot")).is_auto_reply


def test_delivery_status_report_is_a_bounce() -> None:
    raw = multipart(
        "Content-Type: text/plain\n\nYour message could not be delivered.",
        "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n"
        "Final-Recipient: rfc822; gone@example.com\nAction: failed\nStatus: 5.1.1",
        "Content-Type: message/rfc822\n\nFrom: desk@serviceloop.example\nSubject: [SL-7] Hi\n\nHi",
        subtype='report; report-type="delivery-status"',
    )
    mail = parse_message(raw)
    assert (mail.is_bounce, mail.is_auto_reply) == (True, True)
    assert "delivery status" in (mail.auto_reason or "")
    assert [a.filename for a in mail.attachments] == ["attachment-1.txt", "[SL-7] Hi.eml"]
    assert b"Status: 5.1.1" in mail.attachments[0].content


def test_mailer_daemon_sender_is_a_bounce() -> None:
    raw = raw_mail().replace(ALICE.encode(), b"Mail Delivery System <MAILER-DAEMON@mx.example.com>")
    assert parse_message(raw).is_bounce


def test_loop_header_marks_a_mail_loop() -> None:
    mail = parse_message(raw_mail(headers=f"{LOOP_HEADER}: 1\n"))
    assert mail.is_auto_reply
    assert mail.auto_reason == "mail loop: our own outbound message"


# Threading and ticket references -------------------------------------------------------------


def test_threading_headers_are_parsed() -> None:
    raw = raw_mail(
        headers="In-Reply-To: <b@desk.example>\nReferences: <a@desk.example>\n <b@desk.example>\t<c@x>\n",
        subject="Re: [SL-104233] VPN down",
    )
    mail = parse_message(raw)
    assert mail.message_id == "m1@example.com"
    assert mail.in_reply_to == ["b@desk.example"]
    assert mail.references == ["a@desk.example", "b@desk.example", "c@x"]
    assert mail.ticket_references == ["SL-104233"]


@pytest.mark.parametrize(
    ("subject", "references"),
    [
        ("Re: [SL-104233] VPN down", ["SL-104233"]),
        ("re: [sl-12] and SL-13, again [SL-12]", ["SL-12", "SL-13"]),
        ("About SL-7.", ["SL-7"]),
        ("XSL-1 and SL-2-3 and SL-x", []),
        ("[Ticket#11162] not ours", []),
    ],
)
def test_ticket_references_are_found_as_whole_words(subject: str, references: list[str]) -> None:
    assert find_ticket_references(subject) == references


# Not a mail -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"  \r\n\n ", id="whitespace"),
        pytest.param(b"The printer on floor 3 is broken: please help.\n", id="sentence"),
        pytest.param(b'{"from": "alice@example.com", "subject": "VPN"}', id="json"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", id="png"),
        pytest.param(bytes(range(256)) * 4, id="binary"),
        pytest.param(b"one\ntwo\nthree\nfour\nfive\nsix\nFrom: a@example.com\n\nx", id="prose-first"),
    ],
)
def test_input_that_is_not_a_mail_is_refused(raw: bytes) -> None:
    with pytest.raises(MailParseError):
        parse_message(raw)


def test_random_corruption_of_a_mail_never_raises_anything_but_mail_parse_error() -> None:
    sample = multipart(
        "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe",
        "Content-Type: application/pdf; name*=UTF-8''a%C3%A4.pdf\nContent-Transfer-Encoding: base64\n\nJVBERg==",
        headers="Subject: =?utf-8?B?w6Q=?=\nReferences: <a@x> <b@x>\n",
    )
    noise = [b"\n", b"=?", b"?=", b"--", b":", b"<", b"\x00", b"\xff", b"'", b'"', b"boundary=", b"*="]
    rng = random.Random(20261125)  # fixed: the same cases on every run
    for _ in range(400):
        data = bytearray(sample)
        for _ in range(rng.randint(1, 12)):
            position = rng.randrange(len(data) + 1)
            if rng.random() < 0.5:
                data[position:position] = rng.choice(noise)
            else:
                del data[position : position + rng.randint(1, 30)]
        with contextlib.suppress(MailParseError):
            json.dumps(parsed_to_json(parse_message(bytes(data))))


def test_hostile_nesting_is_read_as_text_not_refused() -> None:
    nesting = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(3000))
    mail = parse_message(b"From: a@example.com\nSubject: deep\n" + nesting + b"\nbottom")
    assert mail.subject == "deep"
    assert "bottom" in mail.full_text


def test_headers_only_mail_is_accepted() -> None:
    mail = parse_message(b"From: a@example.com\nSubject: empty")
    assert (mail.subject, mail.full_text, mail.body_text) == ("empty", "", "")


# Output ---------------------------------------------------------------------------------------


def test_parsed_to_json_round_trips_through_json_dumps() -> None:
    raw = multipart(
        "Content-Type: text/plain\n\nSee attached.",
        "Content-Type: image/png\nContent-Disposition: attachment; filename=shot.png\n\nPNG",
        headers="References: <a@x>\n",
    )
    data = parsed_to_json(parse_message(raw))
    assert json.loads(json.dumps(data)) == data
    assert data["date"] == "2026-11-24T09:00:00+00:00"
    assert data["attachments"] == [{"filename": "shot.png", "content_type": "image/png", "size": 3, "inline": False}]
    assert data["references"] == ["a@x"]


def test_a_25_megabyte_mail_parses_quickly() -> None:
    payload = bytes(range(256)) * (25 * 1024 * 1024 // 256)
    encoded = base64.encodebytes(payload).decode("ascii")
    raw = multipart(
        "Content-Type: text/plain\n\n" + "A long line of text.\n" * 20000,
        "Content-Type: application/zip\nContent-Disposition: attachment; filename=big.zip\n"
        "Content-Transfer-Encoding: base64\n\n" + encoded,
    )
    started = time.perf_counter()
    mail = parse_message(raw)
    elapsed = time.perf_counter() - started
    assert mail.attachments[0].size == len(payload)
    assert elapsed < 20, f"parsing took {elapsed:.1f}s"
