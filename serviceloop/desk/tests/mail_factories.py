"""Raw mails for the email tests, built with the standard library as a mail client would."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid


def raw_mail(
    *,
    sender: str = "Carol Customer <carol@acme.example>",
    to: str = "desk@serviceloop.localhost",
    subject: str = "Printer on floor 3 is jammed",
    body: str = "It shows error E42 since this morning.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    html: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="acme.example")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    if html is not None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def many_parts_mail(parts: int, *, sender: str = "carol@acme.example") -> bytes:
    """The hostile mail of issue 10: one multipart of `parts` tiny text parts (200,000 make 13 MB)."""
    head = (
        f"From: {sender}\r\nTo: desk@serviceloop.localhost\r\nSubject: many parts\r\n"
        "Message-ID: <many-parts@acme.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="part-boundary"\r\n\r\n'
    ).encode()
    part = b"--part-boundary\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nx\r\n"
    return head + part * parts + b"--part-boundary--\r\n"


def nested_mail(depth: int, *, sender: str = "carol@acme.example") -> bytes:
    """A mail whose multiparts nest `depth` levels deep, one text part at the bottom."""
    lines = [
        f"From: {sender}",
        "To: desk@serviceloop.localhost",
        "Subject: nested",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b0"',
        "",
    ]
    for level in range(1, depth):
        lines += [f"--b{level - 1}", f'Content-Type: multipart/mixed; boundary="b{level}"', ""]
    lines += [f"--b{depth - 1}", "Content-Type: text/plain", "", "deep text"]
    for level in range(depth - 1, -1, -1):
        lines.append(f"--b{level}--")
    return ("\r\n".join(lines) + "\r\n").encode()
