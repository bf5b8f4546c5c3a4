"""Service review pages: the list (with each PDF's state), the request form, the report, its PDF. Thin.

Staff ask for and see every review. A customer sees — and downloads — only the reviews of their own
organisation's relationships; any other review answers 404, as a row they may not see.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from serviceloop.catalogue.models import Service
from serviceloop.core.access import form_error, staff_required
from serviceloop.core.errors import DomainError
from serviceloop.core.pagination import paginate
from serviceloop.experience.models import ServiceReview
from serviceloop.experience.report_forms import ReviewRequestForm
from serviceloop.experience.report_pdf import pdf_filename
from serviceloop.experience.reports import (
    report_data,
    review_for,
    review_regenerate,
    review_request,
    reviews_visible_to,
)
from serviceloop.relationships.models import Relationship


def _review(request: HttpRequest, public_id: str) -> ServiceReview:
    try:
        return review_for(request.user, public_id)
    except ServiceReview.DoesNotExist:
        raise Http404("No such service review.")


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    rows = reviews_visible_to(request.user)
    staff = bool(getattr(request.user, "is_staff_member", False))
    # The filters of the service and relationship pages' links; a customer's list is theirs already.
    service = Service.objects.filter(public_id=request.GET.get("service", "")[:24]).first() if staff else None
    relationship = (
        Relationship.objects.select_related("organisation", "offering")
        .filter(public_id=request.GET.get("relationship", "")[:24])
        .first()
        if staff
        else None
    )
    if service is not None:
        rows = rows.filter(service=service)
    if relationship is not None:
        rows = rows.filter(relationship=relationship)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "experience/report_list.html",
        {
            "page_obj": paginate(request, rows),
            "query": query.urlencode(),
            "service": service,
            "relationship": relationship,
        },
    )


@staff_required
def report_request(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ReviewRequestForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                review = review_request(
                    by=request.user,
                    service=data.get("service"),
                    relationship=data.get("relationship"),
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                )
            except DomainError as error:
                form_error(form, error)
            else:
                messages.success(request, "The review is ready to read; its PDF is being made by the worker.")
                return redirect("experience:report_detail", public_id=review.public_id)
    else:
        initial: dict[str, Any] = {}
        for name in ("service", "relationship"):
            if request.GET.get(name):
                initial[name] = request.GET[name][:24]
        form = ReviewRequestForm(initial=initial)
    status = 422 if request.method == "POST" else 200
    return render(request, "experience/report_form.html", {"form": form}, status=status)


@login_required
def report_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    review = _review(request, public_id)
    context = {"report": report_data(review), "layout": "base.html", "for_pdf": False}
    return render(request, "experience/report.html", context)


@login_required
def report_pdf(request: HttpRequest, public_id: str) -> FileResponse:
    """Served only to those who may see the review: the store's own URLs are never handed out."""
    review = _review(request, public_id)
    if review.state != ServiceReview.State.READY or not review.pdf:
        raise Http404("This review has no PDF yet.")
    try:
        stored = review.pdf.open("rb")
    except OSError:  # the file is gone from the store (a restore without the media): make it again
        raise Http404("This review's PDF is missing from the media storage; make it again.")
    response = FileResponse(stored, as_attachment=True, filename=pdf_filename(review))
    response["Content-Type"] = "application/pdf"
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
@require_POST
def report_regenerate(request: HttpRequest, public_id: str) -> HttpResponse:
    review = _review(request, public_id)
    try:
        review_regenerate(by=request.user, review=review)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The PDF will be made again with today's figures.")
    return redirect("experience:report_detail", public_id=review.public_id)
