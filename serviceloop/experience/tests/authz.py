"""Authorisation rows for the experience API (see serviceloop/core/authz_matrix.py).

Every signed-in user may read figures: staff of every organisation, a customer of their own only
(naming another organisation answers 404; test_api_metrics.py checks that with real ids).
"""

from __future__ import annotations

from serviceloop.core.authz_matrix import ANY_USER_API, Endpoint

ENDPOINTS = [
    Endpoint("GET", "/api/experience/metrics", ANY_USER_API, query="group_by=week&metrics=happiness,fcr"),
    Endpoint("GET", "/api/experience/metrics.csv", ANY_USER_API, query="group_by=service"),
]
