"""The project's routes plus one that fails, for the 500 page test."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from serviceloop.urls import handler400, handler403, handler404, handler500
from serviceloop.urls import urlpatterns as project


def explode(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a defect")


urlpatterns = [path("explode/", explode), path("api/explode/", explode), *project]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
