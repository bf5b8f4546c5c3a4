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
