"""The public status page at /status/ (namespace "status"), its feeds and its Statuspage v2 JSON.

The JSON documents are served twice: under /status/api/v2/ (beside the page, where Statuspage
clients look when given the page's address) and at the site's root /api/v2/ (`root_api_urls`,
namespace "status_api"), since many clients assume the root.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from serviceloop.incidents import status_feeds, status_views

app_name = "status"


def _api_v2(prefix: str = "", route: str = "") -> list[URLPattern]:
    return [
        path(f"{route}summary.json", status_views.summary_json, name=f"{prefix}summary"),
        path(f"{route}status.json", status_views.status_json, name=f"{prefix}status"),
        path(f"{route}components.json", status_views.components_json, name=f"{prefix}components"),
        path(f"{route}incidents.json", status_views.incidents_json, name=f"{prefix}incidents"),
        path(f"{route}incidents/unresolved.json", status_views.unresolved_json, name=f"{prefix}incidents_unresolved"),
        path(f"{route}scheduled-maintenances.json", status_views.maintenances_json, name=f"{prefix}maintenances"),
        path(
            f"{route}scheduled-maintenances/upcoming.json",
            status_views.upcoming_json,
            name=f"{prefix}maintenances_upcoming",
        ),
        path(
            f"{route}scheduled-maintenances/active.json", status_views.active_json, name=f"{prefix}maintenances_active"
        ),
    ]


urlpatterns = [
    path("", status_views.page, name="page"),
    path("history/", status_views.history, name="history"),
    path("uptime/", status_views.uptime_view, name="uptime"),
    path("incidents/<str:public_id>/", status_views.incident, name="incident"),
    path("history.atom", status_feeds.history_atom, name="history_atom"),
    path("history.rss", status_feeds.history_rss, name="history_rss"),
    *_api_v2("api_", "api/v2/"),
]

# Mounted by serviceloop/urls.py at /api/v2/ as include((root_api_urls, "status_api")).
root_api_urls = _api_v2()
