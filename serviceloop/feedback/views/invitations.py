"""The suppressed-invitation log for staff: every invitation the survey rules held back, and why."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from serviceloop.core.pagination import paginate
from serviceloop.feedback.forms import SuppressedFilterForm
from serviceloop.feedback.queries import suppressed_counts, suppressed_visible
from serviceloop.feedback.views.surveys import staff_page


@staff_page
def suppressed_list(request: HttpRequest) -> HttpResponse:
    form = SuppressedFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()  # fills cleaned_data with the fields that parsed; the others show their error
    filters = form.filters()
    page_obj = paginate(request, suppressed_visible(viewer=request.user, filters=filters))
    params = {key: value for key, value in request.GET.items() if key != "page" and value}
    without_reason = {key: value for key, value in params.items() if key != "reason"}
    counts = suppressed_counts(viewer=request.user, filters=filters)
    context = {
        "form": form,
        "page_obj": page_obj,
        "query": urlencode(params),
        "counts": counts,
        "total": sum(count.count for count in counts),
        "reason_query": urlencode(without_reason),
        "reason": filters.reason,
        "filtered": bool(params),
    }
    # A filter that does not parse is refused (its message beside the field); the others still apply.
    return render(request, "feedback/suppressed_list.html", context, status=422 if form.errors else 200)


urlpatterns: list[URLPattern] = [
    path("invitations/suppressed/", suppressed_list, name="suppressed_list"),
]
