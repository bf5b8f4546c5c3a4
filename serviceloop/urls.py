"""Page routes: each app's `urls.py` is mounted under its own prefix, the API under /api/."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from serviceloop import views
from serviceloop.api import api
from serviceloop.incidents.status_urls import root_api_urls

admin.site.site_header = "serviceloop administration"
admin.site.site_title = "serviceloop"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The status page's Statuspage-compatible JSON at the root as well (clients assume /api/v2/),
    # before the ninja API, which would otherwise answer /api/v2/... with its 404.
    path("api/v2/", include((root_api_urls, "status_api"))),
    path("api/", api.urls),
    # Status page subscriptions (incidents): before any "status/" pages, under a namespace of their own.
    path("status/subscribe/", include("serviceloop.incidents.subscription_urls", namespace="status_subscribe")),
    path("status/", include("serviceloop.incidents.status_urls")),
]

# Every serviceloop app with pages mounts at /<label>/ (accounts at /accounts/, desk at /desk/ ...).
for config in apps.get_app_configs():
    if not config.name.startswith("serviceloop."):
        continue
    try:
        importlib.import_module(f"{config.name}.urls")
    except ModuleNotFoundError as error:
        if error.name != f"{config.name}.urls":
            raise
        continue
    urlpatterns.append(path(f"{config.label}/", include(f"{config.name}.urls")))

handler400 = "serviceloop.views.bad_request"
handler403 = "serviceloop.views.permission_denied"
handler404 = "serviceloop.views.page_not_found"
handler500 = "serviceloop.views.server_error"
