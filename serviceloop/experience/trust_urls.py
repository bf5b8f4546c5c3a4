"""Trust's pages, mounted under /experience/trust/ (URL names in the experience namespace)."""

from __future__ import annotations

from django.urls import path

from serviceloop.experience import trust_views

urlpatterns = [
    path("", trust_views.trust_list, name="trust_list"),
    path("<str:organisation>/<str:service>/", trust_views.trust_detail, name="trust_detail"),
]
