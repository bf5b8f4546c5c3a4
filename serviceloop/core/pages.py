"""Small helpers shared by the apps' pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def form_page(request: HttpRequest, form: Any, *, title: str, submit: str, cancel: str, lead: str = "") -> HttpResponse:
    """A page with one form; a refused POST answers 422 so the browser and tests see it failed."""
    status = 422 if request.method == "POST" and form.errors else 200
    context = {"form": form, "title": title, "submit": submit, "cancel": cancel, "lead": lead}
    return render(request, "form_page.html", context, status=status)
