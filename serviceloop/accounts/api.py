from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import User
from serviceloop.accounts.queries import api_token_for, api_tokens_of
from serviceloop.accounts.services import api_token_create, api_token_revoke
from serviceloop.core.pagination import LimitOffset
from serviceloop.core.schemas import ErrorOut

router = Router(tags=["accounts"])


class MeOut(Schema):
    public_id: str
    email: str
    name: str
    role: str
    organisation: str | None
    time_zone: str

    @staticmethod
    def resolve_organisation(user: User) -> str | None:
        return user.organisation.public_id if user.organisation else None


class TokenOut(Schema):
    public_id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIn(Schema):
    name: str


class IssuedTokenOut(TokenOut):
    token: str


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="The signed-in user")
def me(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@router.get("/tokens", response={200: list[TokenOut], 401: ErrorOut}, summary="Your API tokens")
@paginate(LimitOffset)
def tokens(request: HttpRequest) -> object:
    return api_tokens_of(viewer=request.user)  # type: ignore[arg-type]


@router.post(
    "/tokens",
    response={201: IssuedTokenOut, 401: ErrorOut, 422: ErrorOut},
    summary="Create an API token (the secret is shown only in this answer)",
)
def token_create(request: HttpRequest, body: TokenIn) -> Status:
    issued = api_token_create(user=request.user, name=body.name)  # type: ignore[arg-type]
    out = TokenOut.from_orm(issued.token).dict()
    return Status(201, {**out, "token": issued.secret})


@router.post(
    "/tokens/{public_id}/revoke", response={200: TokenOut, 401: ErrorOut, 404: ErrorOut}, summary="Revoke an API token"
)
def token_revoke(request: HttpRequest, public_id: str) -> object:
    token = api_token_for(viewer=request.user, public_id=public_id)  # type: ignore[arg-type]
    return api_token_revoke(token=token, by=request.user)  # type: ignore[arg-type]
