from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from serviceloop.accounts.forms import ApiTokenForm
from serviceloop.accounts.queries import api_token_for, api_tokens_active, api_tokens_of
from serviceloop.accounts.services import api_token_create, api_token_revoke
from serviceloop.accounts.sign_in import locked_message, sign_in_lock
from serviceloop.core.errors import DomainError
from serviceloop.core.pagination import paginate
from serviceloop.core.ratelimit import Decision, refused_response


class SignInView(LoginView):
    """Django's sign-in page, answering 429 with Retry-After while the account or address is locked out."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def _locked(self, decision: Decision) -> HttpResponse:
        return refused_response(self.request, decision, locked_message(decision))

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # Refused before the form runs: no password is checked while the lockout lasts.
        decision = sign_in_lock(request, request.POST.get("username"))
        if decision is not None:
            return self._locked(decision)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: object) -> HttpResponse:
        # The failure that reached the limit was counted by the user_login_failed signal.
        decision = sign_in_lock(self.request, self.request.POST.get("username"))
        if decision is not None:
            return self._locked(decision)
        return super().form_invalid(form)  # type: ignore[arg-type]


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    # Pages are signed in by the session only, never by a token: a token cannot create tokens here.
    form = ApiTokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_token_create(
                user=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            )
            form = ApiTokenForm()
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "issued": issued, "tokens": api_tokens_of(viewer=request.user)},  # type: ignore[arg-type]
    )


@login_required
def tokens_active(request: HttpRequest) -> HttpResponse:
    """Administrators: every token that still works, per user, with a revoke button."""
    user = request.GET.get("user", "").strip()
    page = paginate(request, api_tokens_active(viewer=request.user, user_public_id=user))  # type: ignore[arg-type]
    query = urlencode({"user": user}) if user else ""
    return render(request, "accounts/tokens_active.html", {"page_obj": page, "user_filter": user, "query": query})


@login_required
@require_POST
def token_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    token = api_token_for(viewer=request.user, public_id=public_id)  # type: ignore[arg-type]
    api_token_revoke(token=token, by=request.user)  # type: ignore[arg-type]
    messages.success(request, f"Token “{token.name}” revoked. Programs using it can no longer sign in.")
    if token.user_id != request.user.pk:
        return redirect("accounts:tokens_active")
    return redirect("accounts:tokens")
