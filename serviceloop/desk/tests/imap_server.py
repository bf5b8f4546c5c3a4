"""A tiny IMAP4rev1 server over TLS on loopback, for the transport test (no IMAP server is installed).

Serves one user and one folder: CAPABILITY, LOGIN, SELECT, SEARCH UNSEEN, FETCH (RFC822 | RFC822.SIZE | BODY[] |
BODY.PEEK[]), STORE +FLAGS (\\Seen), NOOP, LOGOUT. Like a real server, a non-peek fetch sets \\Seen.
The certificate in tls/ is self-signed for 127.0.0.1 and localhost, for tests only (openssl made it;
the `cryptography` package is not installed to make one at test time).
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

TLS = Path(__file__).parent / "tls"
CERT, KEY = TLS / "imap-test.crt", TLS / "imap-test.key"


@dataclass
class Mailbox:
    user: str
    password: str
    messages: list[bytes] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)  # 1-based sequence numbers
    commands: list[str] = field(default_factory=list)


class ImapServer:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(CERT, KEY)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.lock = threading.Lock()

    def __enter__(self) -> ImapServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            try:
                conn = self.context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: ssl.SSLSocket) -> None:
        reader = conn.makefile("rb")

        def send(line: bytes) -> None:
            conn.sendall(line + b"\r\n")

        send(b"* OK tiny IMAP4rev1 ready")
        authed = False
        try:
            while line := reader.readline():
                tag, _, rest = line.decode().strip().partition(" ")
                command, _, args = rest.partition(" ")
                command = command.upper()
                with self.lock:
                    self.mailbox.commands.append(f"{command} {args}".strip())
                box = self.mailbox
                if command == "CAPABILITY":
                    send(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                    send(f"{tag} OK done".encode())
                elif command == "LOGIN":
                    user, password = (part.strip('"') for part in args.split(" ", 1))
                    authed = (user, password) == (box.user, box.password)
                    send(f"{tag} {'OK logged in' if authed else 'NO wrong credentials'}".encode())
                elif not authed and command not in {"LOGOUT", "NOOP"}:
                    send(f"{tag} BAD log in first".encode())
                elif command in {"SELECT", "EXAMINE"}:
                    send(f"* {len(box.messages)} EXISTS".encode())
                    send(b"* FLAGS (\\Seen)")
                    send(f"{tag} OK [READ-WRITE] selected".encode())
                elif command == "SEARCH":
                    with self.lock:
                        unseen = [str(n) for n in range(1, len(box.messages) + 1) if n not in box.seen]
                    send(("* SEARCH " + " ".join(unseen)).strip().encode())
                    send(f"{tag} OK search done".encode())
                elif command == "FETCH":
                    number_text, _, what = args.partition(" ")
                    number = int(number_text)
                    data = box.messages[number - 1]
                    if "RFC822.SIZE" in what.upper():
                        send(f"* {number} FETCH (RFC822.SIZE {len(data)})".encode())
                        send(f"{tag} OK fetched".encode())
                        continue
                    item = "BODY[]" if "BODY" in what.upper() else "RFC822"
                    send(f"* {number} FETCH ({item} {{{len(data)}}}".encode())
                    conn.sendall(data)
                    send(b")")
                    if "PEEK" not in what.upper():
                        with self.lock:
                            box.seen.add(number)
                    send(f"{tag} OK fetched".encode())
                elif command == "STORE":
                    match = re.match(r"(\d+) \+FLAGS(?:\.SILENT)? \(?\\Seen\)?", args, re.IGNORECASE)
                    if match:
                        with self.lock:
                            box.seen.add(int(match.group(1)))
                        send(f"* {match.group(1)} FETCH (FLAGS (\\Seen))".encode())
                    send(f"{tag} OK stored".encode())
                elif command == "NOOP":
                    send(f"{tag} OK".encode())
                elif command == "LOGOUT":
                    send(b"* BYE")
                    send(f"{tag} OK bye".encode())
                    return
                else:
                    send(f"{tag} BAD unknown command".encode())
        except (OSError, ValueError, IndexError):
            return
        finally:
            conn.close()
