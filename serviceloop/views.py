from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse


def home(request: HttpRequest) -> HttpResponse:
    """Anonymous visitors sign in; customers land on their portal, staff on their start page."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not getattr(user, "is_staff_member", False):
        try:
            return redirect(reverse("desk:portal"))
        except NoReverseMatch:
            pass
    return render(request, "home.html", {})


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
