"""Pages of the incidents app, mounted at /incidents/; each room adds its own patterns."""

from __future__ import annotations

from serviceloop.incidents import review_urls

app_name = "incidents"

urlpatterns = [*review_urls.urlpatterns]
