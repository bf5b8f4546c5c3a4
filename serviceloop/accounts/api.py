from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from serviceloop.accounts.models import ApiToken, User
from serviceloop.accounts.queries import api_token_for, api_tokens_active, api_tokens_of
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
    expires_at: datetime | None = Field(description="When the token stops working; null: never")
    revoked_at: datetime | None
    status: str = Field(description="active, expired, revoked, or revoked: password changed / user deactivated")


class ActiveTokenOut(Schema):
    public_id: str
    name: str
    prefix: str
    user: str = Field(description="The public id of the token's owner")
    user_email: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None

    @staticmethod
    def resolve_user(token: ApiToken) -> str:
        return token.user.public_id

    @staticmethod
    def resolve_user_email(token: ApiToken) -> str:
        return token.user.email


class TokenIn(Schema):
    name: str
    days: int | None = Field(
        None, strict=True, description="Expire this many days from now (at most SERVICELOOP_API_TOKEN_MAX_DAYS)"
    )
    expires_at: datetime | None = Field(
        None, description="Expire at this instant (with a time zone); neither: the longest allowed"
    )


class IssuedTokenOut(TokenOut):
    token: str


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="The signed-in user")
def me(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@router.get("/tokens", response={200: list[TokenOut], 401: ErrorOut}, summary="Your API tokens")
@paginate(LimitOffset)
def tokens(request: HttpRequest) -> object:
    return api_tokens_of(viewer=request.user)  # type: ignore[arg-type]


@router.get(
    "/tokens/active",
    response={200: list[ActiveTokenOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Every user's tokens that still work (administrators only); ?user=<public id> for one user",
)
@paginate(LimitOffset)
def tokens_active(request: HttpRequest, user: str = "") -> object:
    return api_tokens_active(viewer=request.user, user_public_id=user)  # type: ignore[arg-type]


@router.post(
    "/tokens",
    response={201: IssuedTokenOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Create an API token (the secret is shown only in this answer); from a signed-in session only",
)
def token_create(request: HttpRequest, body: TokenIn) -> Status:
    issued = api_token_create(
        user=request.user,  # type: ignore[arg-type]
        name=body.name,
        days=body.days,
        expires_at=body.expires_at,
        with_token=getattr(request, "api_token", None),
    )
    out = TokenOut.from_orm(issued.token).dict()
    return Status(201, {**out, "token": issued.secret})


@router.post(
    "/tokens/{public_id}/revoke",
    response={200: TokenOut, 401: ErrorOut, 404: ErrorOut},
    summary="Revoke an API token (your own; administrators: anyone's)",
)
def token_revoke(request: HttpRequest, public_id: str) -> object:
    token = api_token_for(viewer=request.user, public_id=public_id)  # type: ignore[arg-type]
    return api_token_revoke(token=token, by=request.user)  # type: ignore[arg-type]
