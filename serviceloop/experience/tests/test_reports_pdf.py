"""The worker makes a service review's PDF: a real PDF in the media storage, its failures, the download, the sweep."""

from __future__ import annotations

import importlib.abc
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from serviceloop.accounts.models import Organisation, User
from serviceloop.catalogue.models import Offering, Service
from serviceloop.core import clock
from serviceloop.core.testing import MediaStore, wait_until
from serviceloop.experience.models import ServiceReview
from serviceloop.experience.reports import (
    MAX_ATTEMPTS,
    review_generate,
    review_regenerate,
    review_request,
    reviews_sweep,
)
from serviceloop.experience.tests.report_factories import NOVEMBER, review_of, seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(
    settings: Any, service: Service, offering: Offering, org_a: Organisation, org_b: Organisation
) -> dict[str, Any]:
    settings.SERVICELOOP_MIN_SAMPLE = 3
    return seed(service, offering, org_a, org_b)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pdf_text(content: bytes, tmp_path: Path) -> str:
    """The PDF's text layer, as a reader's copy-and-paste sees it (poppler's pdftotext)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (.ci/run installs it)")
    path = tmp_path / "review.pdf"
    path.write_bytes(content)
    return subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout


def test_the_worker_makes_a_real_pdf_in_the_media_storage(
    seeded: dict[str, Any],
    sam: User,
    carol: User,
    bob: User,
    media: MediaStore,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    start, end = NOVEMBER
    # Asked for as on the page: the task runs after commit (eagerly in tests, as the worker would).
    with django_capture_on_commit_callbacks(execute=True):
        review = review_request(by=sam, relationship=seeded["relationship"], period_start=start, period_end=end)
    review.refresh_from_db()
    assert review.state == ServiceReview.State.READY, review.failure
    assert review.attempts == 1 and review.finished_at is not None
    (stored,) = media.names()
    assert stored == review.pdf.name and stored.startswith("experience/reviews/")
    content = media.read(stored)
    assert content.startswith(b"%PDF-") and review.pdf_size == len(content)
    text = pdf_text(content, tmp_path)
    assert "Service review: Email & collaboration for Acme Logistics (Mailbox)" in " ".join(text.split())
    assert "November 2026" in text
    # The relationship's happiness (+33.3, n 6), not the whole service's (−11.1).
    assert "+33.3" in text and "-11.1" not in text and "−11.1" not in text
    assert "Terrible, nobody answered for a week" in text
    assert "Page 1 of" in text  # the print stylesheet's page numbers

    # Downloaded through the view, by staff and by the organisation's customer; nobody else.
    for user in (sam, carol):
        answer = client_for(user).get(f"/experience/reports/{review.public_id}/pdf/")
        assert answer.status_code == 200
        assert answer["Content-Type"] == "application/pdf" and answer["Cache-Control"] == "private, no-store"
        assert "attachment" in answer["Content-Disposition"] and ".pdf" in answer["Content-Disposition"]
        assert b"".join(answer.streaming_content) == content
    assert client_for(bob).get(f"/experience/reports/{review.public_id}/pdf/").status_code == 404
    assert Client().get(f"/experience/reports/{review.public_id}/pdf/").status_code == 302
    listed = client_for(carol).get("/experience/reports/").content.decode()
    assert f"/experience/reports/{review.public_id}/pdf/" in listed and "Ready" in listed


def test_the_pdf_of_the_whole_service_is_staff_only(
    seeded: dict[str, Any], service: Service, sam: User, carol: User, filesystem_media: MediaStore
) -> None:
    review = review_of(service=service, by=sam)
    assert review_generate(review_id=review.pk) == "ready"
    assert client_for(sam).get(f"/experience/reports/{review.public_id}/pdf/").status_code == 200
    assert client_for(carol).get(f"/experience/reports/{review.public_id}/pdf/").status_code == 404


class _NoPango(importlib.abc.MetaPathFinder):
    """What importing WeasyPrint does on a machine without Pango: cffi cannot open the library."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file")
        return None


def test_without_pango_the_pdf_fails_with_the_reason_and_the_page_still_works(
    seeded: dict[str, Any], service: Service, sam: User, filesystem_media: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in sys.modules if name == "weasyprint" or name.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoPango(), *sys.meta_path])
    review = review_of(service=service, relationship=seeded["relationship"], by=sam)
    assert review_generate(review_id=review.pk) == "failed"
    review.refresh_from_db()
    assert review.state == ServiceReview.State.FAILED and not review.pdf
    assert "cannot load library 'libpango-1.0-0'" in review.failure
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0" in review.failure
    assert filesystem_media.names() == []
    client = client_for(sam)
    page = client.get(f"/experience/reports/{review.public_id}/")
    assert page.status_code == 200 and "+33.3" in page.content.decode()
    assert "Failed" in page.content.decode() and "libpango" in page.content.decode()
    assert "libpango" in client.get("/experience/reports/").content.decode()
    assert client.get(f"/experience/reports/{review.public_id}/pdf/").status_code == 404
    # Run again, the task leaves a failed review alone: only "make it again" queues it.
    assert review_generate(review_id=review.pk) == "failed"


def test_a_rendering_error_fails_the_review_and_stores_nothing(
    seeded: dict[str, Any], service: Service, sam: User, filesystem_media: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(html: str) -> str:
        raise ValueError("the template broke")

    monkeypatch.setattr("serviceloop.experience.report_pdf.review_html", lambda review: broken(""))
    review = review_of(service=service, by=sam)
    assert review_generate(review_id=review.pk) == "failed"
    review.refresh_from_db()
    assert review.failure == "The PDF could not be made: ValueError: the template broke"
    assert filesystem_media.names() == []


def test_the_task_takes_a_review_once_and_a_new_pdf_replaces_the_old(
    seeded: dict[str, Any],
    service: Service,
    sam: User,
    filesystem_media: MediaStore,
    django_capture_on_commit_callbacks: Any,
) -> None:
    review = review_of(service=service, by=sam)
    assert review_generate(review_id=review.pk) == "ready"
    (first,) = filesystem_media.names()
    assert review_generate(review_id=review.pk) == "ready"  # delivered twice: nothing made again
    assert filesystem_media.names() == [first]
    assert review_generate(review_id=10**9) == "missing"
    with django_capture_on_commit_callbacks(execute=True):
        review_regenerate(by=sam, review=review)
    review.refresh_from_db()
    assert review.state == "ready" and review.attempts == 1
    (second,) = filesystem_media.names()
    assert second != first and second == review.pdf.name  # the old file went after the commit


def test_the_sweep_hands_back_reviews_the_worker_never_got_or_lost(
    seeded: dict[str, Any], service: Service, sam: User, filesystem_media: MediaStore, travel: Any
) -> None:
    never_sent = review_of(service=service, by=sam)  # the broker was down when it was asked for
    lost = review_of(service=service, by=sam, state=ServiceReview.State.GENERATING, attempts=1)
    ServiceReview.objects.filter(pk=lost.pk).update(started_at=clock.now())
    hopeless = review_of(service=service, by=sam, state=ServiceReview.State.GENERATING, attempts=MAX_ATTEMPTS)
    ServiceReview.objects.filter(pk=hopeless.pk).update(started_at=clock.now())
    assert reviews_sweep() == 0  # too early for all three
    travel.by(minutes=10)  # past REQUEUE_AFTER (2 min) and STALE_GENERATING (the time limit + 1 min)
    assert reviews_sweep() == 2
    states = dict(ServiceReview.objects.values_list("pk", "state"))
    assert states == {never_sent.pk: "ready", lost.pk: "ready", hopeless.pk: "failed"}
    hopeless.refresh_from_db()
    assert f"{MAX_ATTEMPTS} times" in hopeless.failure
    assert reviews_sweep() == 0
    assert len(filesystem_media.names()) == 2


def test_the_sweep_is_scheduled_by_beat(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["experience-review-sweep"]
    assert entry["task"] == "serviceloop.experience.tasks.sweep_reviews"
    from serviceloop.celery import app

    app.loader.import_default_modules()
    assert "serviceloop.experience.tasks.sweep_reviews" in app.tasks
    assert "serviceloop.experience.tasks.generate_review_pdf" in app.tasks


@pytest.mark.worker
def test_a_real_worker_makes_the_pdf_after_the_request_commits(
    celery_worker: Any,
    settings: Any,
    service: Service,
    offering: Offering,
    org_a: Organisation,
    org_b: Organisation,
    sam: User,
    filesystem_media: MediaStore,
    tmp_path: Path,
) -> None:
    settings.SERVICELOOP_MIN_SAMPLE = 3
    seeded = seed(service, offering, org_a, org_b)
    start, end = NOVEMBER
    review = review_request(by=sam, relationship=seeded["relationship"], period_start=start, period_end=end)
    wait_until(
        lambda: ServiceReview.objects.get(pk=review.pk).state in {"ready", "failed"},
        timeout=120,
        message="the worker made the PDF",
    )
    review.refresh_from_db()
    assert review.state == ServiceReview.State.READY, review.failure
    assert "+33.3" in pdf_text(filesystem_media.read(review.pdf.name), tmp_path)


def test_a_pdf_gone_from_the_store_answers_404_not_500(
    service: Service, sam: User, filesystem_media: MediaStore
) -> None:
    review = review_of(service=service, by=sam)
    assert review_generate(review_id=review.pk) == "ready"
    review.refresh_from_db()
    (filesystem_media.root / review.pdf.name).unlink()  # type: ignore[operator]
    answer = client_for(sam).get(f"/experience/reports/{review.public_id}/pdf/")
    assert answer.status_code == 404
