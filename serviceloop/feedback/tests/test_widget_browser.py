"""The widget in a real browser: a host page on another origin, under a strict Content-Security-Policy."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from serviceloop.core.testing import free_port, wait_until
from serviceloop.feedback.models import Channel, Response
from serviceloop.feedback.tests.factories_channels import make_service, make_widget_site


class HostPage:
    """A customer's web page on its own origin, serving one page that embeds the widget."""

    def __init__(self, serviceloop: str, key: str) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        html = (
            "<!doctype html><html><head><title>Acme intranet</title></head><body><h1>Help</h1>"
            f'<script src="{serviceloop}/static/feedback/widget.js" data-site="{key}" async></script>'
            "</body></html>"
        ).encode()
        # No inline script or style allowed: only serviceloop's script and frame.
        csp = f"default-src 'none'; script-src {serviceloop}; frame-src {serviceloop}; style-src 'none'"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", csp)
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HostPage:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service(sam: Any) -> Any:
    return make_service("Cloud Desktop", manager=sam)


@pytest.mark.browser
def test_widget_on_an_allowed_host_page_stores_a_click(live_server: Any, page: Any, service: Any) -> None:
    site = make_widget_site(service, origins=["http://127.0.0.1:1"])
    with HostPage(live_server.url, site.key) as host:
        site.allowed_origins = [host.origin]
        site.save()
        csp_violations: list[str] = []
        page.on(
            "console",
            lambda message: csp_violations.append(message.text) if "Content Security" in message.text else None,
        )
        page.goto(host.origin + "/")
        frame = page.frame_locator("iframe.serviceloop-widget")
        frame.get_by_label("Anything to add?").fill("Sorted in minutes")
        frame.get_by_role("button", name="9", exact=True).click()
        frame.get_by_text("Thank you").wait_for()
    wait_until(lambda: Response.objects.exists(), message="the widget answer is stored")
    stored = Response.objects.get()
    assert (stored.channel, stored.happiness, stored.comment, stored.source) == (
        Channel.WIDGET,
        9,
        "Sorted in minutes",
        site.key,
    )
    assert csp_violations == []


@pytest.mark.browser
def test_widget_on_a_host_page_outside_the_allow_list_shows_no_question(
    live_server: Any, page: Any, service: Any
) -> None:
    site = make_widget_site(service, origins=["https://intranet.acme.example"])
    with HostPage(live_server.url, site.key) as host:
        page.goto(host.origin + "/")
        page.wait_for_selector("iframe.serviceloop-widget", state="attached")
        page.wait_for_load_state("load")
        frames = [frame for frame in page.frames if frame != page.main_frame]
        assert frames
        assert all(frame.locator("button").count() == 0 for frame in frames)
    assert not Response.objects.exists()
