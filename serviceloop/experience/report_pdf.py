"""The PDF of a service review: the page's own template rendered by WeasyPrint, stored in the media storage.

WeasyPrint needs Pango (a system library). It is loaded only here, only in the worker, so a machine
without Pango still serves every page; the review's PDF then fails with the reason and the install
hint. Nothing is fetched while rendering: the stylesheets are read from our static files and handed
over as text, and every URL the document names is refused (no asset from another host, not even
from this one). Charts are inline SVG, the same as on the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.text import slugify

from serviceloop.core import clock
from serviceloop.core.storage import file_written, files_removed_on_rollback, stored_file_delete
from serviceloop.experience.models import ServiceReview

DOCUMENT_LAYOUT = "experience/_report_document.html"
STYLESHEETS = ("serviceloop/app.css", "experience/report.css")
INSTALL_HINT = (
    "WeasyPrint needs Pango: on Debian or Ubuntu `apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
    "libharfbuzz-subset0 fonts-dejavu-core`, then restart the worker (docs/experience.md, "
    "'Service review reports')."
)


class PdfUnavailable(Exception):
    """WeasyPrint cannot be loaded on this machine; the message says why and how to install it."""


def load_weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # not installed, or Pango (a shared library) missing
        raise PdfUnavailable(f"WeasyPrint could not be loaded ({error}). {INSTALL_HINT}") from error
    return weasyprint


def _stylesheet(name: str) -> str:
    found = finders.find(name)
    if not found:
        return ""
    return Path(str(found)).read_text(encoding="utf-8")


def review_html(review: ServiceReview) -> str:
    """The review page's template in its document layout (no navigation, no forms)."""
    from serviceloop.experience.reports import report_data

    return render_to_string(
        "experience/report.html", {"report": report_data(review), "layout": DOCUMENT_LAYOUT, "for_pdf": True}
    )


def render_review_pdf(review: ServiceReview) -> bytes:
    weasyprint = load_weasyprint()
    html = review_html(review)
    # Only data: URLs may be fetched (none are used today); anything else is refused, not fetched.
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    stylesheets = [weasyprint.CSS(string=_stylesheet(name), url_fetcher=fetcher) for name in STYLESHEETS]
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher)
    return bytes(document.write_pdf(stylesheets=stylesheets))


def pdf_filename(review: ServiceReview) -> str:
    return f"service-review-{slugify(review.subject_label)[:60]}-{review.period_start}-{review.period_end}.pdf"


def store_review_pdf(review: ServiceReview, content: bytes) -> None:
    """Store the PDF and mark the review ready, in one transaction; the PDF it replaces goes after commit."""
    with files_removed_on_rollback(), transaction.atomic():
        row = ServiceReview.objects.select_for_update().get(pk=review.pk)
        previous = row.pdf.name if row.pdf else ""
        row.pdf.save(pdf_filename(review), ContentFile(content), save=False)
        file_written(storage=row.pdf.storage, name=row.pdf.name)
        row.pdf_size = len(content)
        row.state = ServiceReview.State.READY
        row.failure = ""
        row.finished_at = clock.now()
        row.save(update_fields=["pdf", "pdf_size", "state", "failure", "finished_at", "updated_at"])
        if previous:
            storage = row.pdf.storage
            transaction.on_commit(lambda: stored_file_delete(storage=storage, name=previous))
