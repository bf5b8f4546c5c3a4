"""One domain error type, raised by services and turned into a 4xx at the edge."""

from __future__ import annotations


class DomainError(Exception):
    """A request that the domain refuses, with a machine code and a sentence a user can act on."""

    status = 400

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class ConflictError(DomainError):
    """The request clashes with the current state: a duplicate slug, a ticket already closed."""

    status = 409


class InvalidInput(DomainError):
    """The input has the right shape but not a meaning the domain accepts."""

    status = 422


class NotAllowed(DomainError):
    """The viewer may see the row but not do this to it."""

    status = 403


class PreconditionFailed(DomainError):
    """The client's copy is out of date: it sent `If-Match` (or a form's version) for an earlier
    version of the row than the one stored, so applying its change would revert someone else's."""

    status = 412
