"""Every page carries a strict Content-Security-Policy and holds no script, handler or style that
the policy would block; every answer names a Referrer-Policy; signed-in pages are never cached.

The pages are the authorisation matrix's rows (serviceloop/tests/test_authz_matrix.py), so a new
page is walked here as soon as it has its row there.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import PASSWORD
from serviceloop.core.authz_matrix import Page
from serviceloop.tests.test_authz_matrix import PAGES, _build_world

# Script types a browser does not run: data islands such as ninja's Swagger settings.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "text/template"}


class _Blocked(HTMLParser):
    """Collects what the CSP would refuse (and what would then silently not work)."""

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []
        self._inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.problems.append(f"<{tag} {name}=…> is an inline handler")
            if name == "style":
                self.problems.append(f"<{tag} style={value!r}> is an inline style")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}> is a javascript: URL")
        if tag == "script" and not named.get("src"):
            kind = (named.get("type") or "").lower()
            if kind not in DATA_SCRIPT_TYPES and named.get("nonce") != self.nonce:
                self.problems.append(f"<script {named}> is inline without this request's nonce")
        if tag == "style" and named.get("nonce") != self.nonce:
            self.problems.append("<style> element without this request's nonce")


def _nonce(csp: str) -> str:
    match = re.search(r"'nonce-([^']+)'", csp)
    assert match, f"no nonce in {csp}"
    return match.group(1)


def _assert_strict(csp: str) -> None:
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"].startswith("'self' 'nonce-")
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


WIDGET_FRAME = "feedback:widget_frame"
EMAIL_PREVIEW = "feedback:survey_email_preview"
GET_PAGES = [row for row in PAGES if row.method == "GET"]


@pytest.mark.parametrize("role", ["admin", "customer_a"])
def test_every_page_has_a_strict_csp_and_nothing_it_would_block(db: Any, role: str) -> None:
    world = _build_world(role)
    client = Client()
    client.force_login(world.viewer)
    walked = 0
    problems: dict[str, list[str]] = {}
    for row in GET_PAGES:
        url = reverse(row.url_name, kwargs=row.kwargs(world)) + (f"?{row.query}" if row.query else "")
        response = client.get(url)
        csp = response.get("Content-Security-Policy", "")
        assert csp, f"{url} has no Content-Security-Policy"
        assert response["Referrer-Policy"] == "same-origin", url
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        cache = response.get("Cache-Control", "")
        assert "no-store" in cache and "private" in cache, f"{url} may be cached: {cache!r}"
        if row.url_name == WIDGET_FRAME:
            # Framed by its site's pages: feedback sets its own policy, with no nonce at all.
            assert "frame-ancestors https://" in csp and "unsafe-inline" not in csp, csp
            parser = _Blocked(nonce="")
        elif row.url_name == EMAIL_PREVIEW:
            # A mail's inline styles, framed by our own page: styles only, sandboxed, no script at all.
            assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp, csp
            assert "frame-ancestors 'self'" in csp, csp
            assert "<script" not in response.content.decode()
            walked += 1
            continue
        else:
            _assert_strict(csp)
            parser = _Blocked(_nonce(csp))
        parser.feed(response.content.decode())
        if parser.problems:
            problems[url] = parser.problems
        walked += 1
    print(f"walked {walked} pages as {role}")
    assert walked >= 20, f"only {walked} pages answered 200 as {role}"
    assert not problems, problems


def test_each_request_gets_its_own_nonce(db: Any) -> None:
    first = Client().get(reverse("accounts:login"))["Content-Security-Policy"]
    second = Client().get(reverse("accounts:login"))["Content-Security-Policy"]
    assert _nonce(first) != _nonce(second)


def test_a_public_page_has_the_policy(db: Any) -> None:
    response = Client().get(reverse("accounts:login"))
    _assert_strict(response["Content-Security-Policy"])
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_api_answers_carry_the_policy_and_referrer_policy(carol: Any) -> None:
    client = Client()
    client.force_login(carol)
    response = client.get("/api/accounts/me")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store, private"


def test_the_api_docs_page_needs_no_inline_script(db: Any) -> None:
    # ninja's Swagger page keeps its settings in a JSON data island and loads its code from static files.
    response = Client().get(reverse("api:openapi-view"))
    assert response.status_code == 200
    parser = _Blocked(_nonce(response["Content-Security-Policy"]))
    parser.feed(response.content.decode())
    assert not parser.problems


def test_the_walk_covers_pages_of_every_app() -> None:
    namespaces = {row.url_name.split(":")[0] for row in GET_PAGES if ":" in row.url_name}
    assert {"accounts", "catalogue", "desk", "feedback"} <= namespaces, namespaces
    assert all(isinstance(row, Page) for row in GET_PAGES)


@pytest.mark.browser
def test_the_browser_refuses_an_injected_script_and_runs_one_with_the_nonce(live_server: Any, browser: Any) -> None:
    context = browser.new_context()
    tab = context.new_page()
    refused: list[str] = []
    tab.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    try:
        answer = tab.goto(f"{live_server.url}/accounts/login/")
        nonce = _nonce(answer.headers["content-security-policy"])
        run = """([nonce]) => {
            const injected = document.createElement('script');
            injected.textContent = 'window.injected = true';
            document.body.appendChild(injected);
            const trusted = document.createElement('script');
            trusted.nonce = nonce;
            trusted.textContent = 'window.trusted = true';
            document.body.appendChild(trusted);
            return [window.injected === true, window.trusted === true];
        }"""
        assert tab.evaluate(run, [nonce]) == [False, True]
        assert any("script-src" in text for text in refused), refused
        # htmx is loaded from our static files and leaves its indicator styles to app.css.
        tab.wait_for_function("() => window.htmx !== undefined")
        assert tab.evaluate("() => htmx.config.includeIndicatorStyles") is False
    finally:
        context.close()


@pytest.mark.browser
def test_signed_in_pages_run_under_the_policy(live_server: Any, page: Any, sam: Any) -> None:
    # The `page` fixture fails the test on anything the policy refused.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", sam.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    for path in ("/", "/desk/queue/", "/feedback/surveys/", "/accounts/tokens/", "/api/docs"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
