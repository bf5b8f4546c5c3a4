"""The public status page at /status/ (namespace "status"), its feeds and its Statuspage v2 JSON.

The JSON documents are served twice: under /status/api/v2/ (beside the page, where Statuspage
clients look when given the page's address) and at the site's root /api/v2/ (`root_api_urls`,
namespace "status_api"), since many clients assume the root.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from serviceloop.incidents import status_feeds, status_views

app_name = "status"


def _api_v2(prefix: str = "") -> list[URLPattern]:
    return [
        path("summary.json", status_views.summary_json, name=f"{prefix}summary"),
        path("status.json", status_views.status_json, name=f"{prefix}status"),
        path("components.json", status_views.components_json, name=f"{prefix}components"),
        path("incidents.json", status_views.incidents_json, name=f"{prefix}incidents"),
        path("incidents/unresolved.json", status_views.unresolved_json, name=f"{prefix}incidents_unresolved"),
        path("scheduled-maintenances.json", status_views.maintenances_json, name=f"{prefix}maintenances"),
        path("scheduled-maintenances/upcoming.json", status_views.upcoming_json, name=f"{prefix}maintenances_upcoming"),
        path("scheduled-maintenances/active.json", status_views.active_json, name=f"{prefix}maintenances_active"),
    ]


urlpatterns = [
    path("", status_views.page, name="page"),
    path("history/", status_views.history, name="history"),
    path("uptime/", status_views.uptime_view, name="uptime"),
    path("incidents/<str:public_id>/", status_views.incident, name="incident"),
    path("history.atom", status_feeds.history_atom, name="history_atom"),  # type: ignore[arg-type]
    path("history.rss", status_feeds.history_rss, name="history_rss"),  # type: ignore[arg-type]
    *[path(f"api/v2/{p.pattern}", p.callback, name=p.name) for p in _api_v2("api_")],
]

# Mounted by serviceloop/urls.py at /api/v2/ as include((root_api_urls, "status_api")).
root_api_urls = _api_v2()
