"""Posts arrive by the signed webhook, the API or a CSV import; rules match them, the rest wait in the inbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from serviceloop.accounts.testing import api_client_for
from serviceloop.feedback.models import MatchRule, Post, PostSource
from serviceloop.feedback.sentiment import ANALYSER_VERSION
from serviceloop.feedback.tests.factories_channels import make_post, make_rule, make_service, run_command, sign

WEBHOOK = "/api/feedback/posts/webhook"
SECRET = "mastodon-secret-0123456789"


@pytest.fixture
def service(sam: Any) -> Any:
    service = make_service("Cloud Desktop", manager=sam)
    make_rule(service, "handle", "acmecloud")
    make_rule(service, "hashtag", "clouddesktop")
    return service


@pytest.fixture
def source(sam: Any) -> PostSource:
    return PostSource.objects.create(name="mastodon", secret=SECRET)


def _post(external_id: str, text: str, **fields: Any) -> dict[str, Any]:
    return {"external_id": external_id, "text": text, "posted_at": "2026-11-24T10:00:00Z", "kind": "mention", **fields}


def _hook(body: dict[str, Any], *, secret: str = SECRET, source: str = "mastodon") -> Any:
    raw = json.dumps(body).encode()
    return Client().post(
        WEBHOOK,
        data=raw,
        content_type="application/json",
        HTTP_X_SERVICELOOP_SOURCE=source,
        HTTP_X_SERVICELOOP_SIGNATURE=sign(raw, secret),
    )


def test_signed_webhook_stores_matches_and_scores_posts(service: Any, source: PostSource) -> None:
    body = {
        "posts": [
            _post("m1", "@acmecloud has been down for hours, nobody told us anything", author_handle="dana"),
            _post("m2", "Lovely weather today"),
        ]
    }
    response = _hook(body)
    assert response.status_code == 200, response.content
    assert {k: response.json()[k] for k in ("received", "created", "matched", "rejected")} == {
        "received": 2,
        "created": 2,
        "matched": 1,
        "rejected": 0,
    }
    matched = Post.objects.get(external_id="m1")
    assert list(matched.services.all()) == [service]
    assert (matched.source, matched.author_handle, matched.kind) == ("mastodon", "dana", "mention")
    assert matched.sentiment_label == "negative" and matched.sentiment_version == ANALYSER_VERSION
    assert Post.objects.get(external_id="m2").in_inbox


def test_webhook_with_a_wrong_signature_is_refused(service: Any, source: PostSource) -> None:
    response = _hook({"posts": [_post("x1", "hello")]}, secret="not-the-secret-at-all")
    assert response.status_code == 401
    assert "X-Serviceloop-Signature" in response.json()["message"]
    assert not Post.objects.exists()


def test_webhook_uses_the_installation_secret_for_other_sources(service: Any, settings: Any) -> None:
    settings.SERVICELOOP_POST_WEBHOOK_SECRET = "installation-wide-secret-42"
    response = _hook({"posts": [_post("t1", "#clouddesktop ok")]}, secret="installation-wide-secret-42", source="chat")
    assert response.status_code == 200
    assert Post.objects.get().source == "chat"


def test_webhook_sent_again_creates_nothing_and_reports_bad_items(service: Any, source: PostSource) -> None:
    body = {"posts": [_post("d1", "#clouddesktop slow"), _post("d2", "", url="ftp://x")]}
    first = _hook(body).json()
    second = _hook(body).json()
    assert (first["created"], first["rejected"]) == (1, 1)
    assert first["errors"][0]["line"] == 2
    assert (second["created"], second["duplicates"]) == (0, 1)
    assert Post.objects.count() == 1


def test_api_records_one_post_idempotently(alex: Any, service: Any) -> None:
    client = api_client_for(alex)
    body = _post("a1", "@acmecloud thanks, sorted quickly", source="x")
    first = client.post("/api/feedback/posts", data=body, content_type="application/json")
    again = client.post("/api/feedback/posts", data=body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["post"]["services"] == [service.public_id]
    assert Post.objects.count() == 1


def test_customer_may_not_record_or_list_posts(carol: Any, service: Any) -> None:
    client = api_client_for(carol)
    body = _post("c1", "hi", source="x")
    assert client.post("/api/feedback/posts", data=body, content_type="application/json").status_code == 403
    assert client.get("/api/feedback/posts").status_code == 403


def test_posts_list_filters_the_inbox(alex: Any, service: Any, django_assert_max_num_queries: Any) -> None:
    for n in range(5):
        make_post(f"unmatched {n}", external_id=f"u{n}")
    matched = make_post("#clouddesktop", external_id="m", matched=True)
    matched.services.add(service)
    client = api_client_for(alex)
    with django_assert_max_num_queries(8):
        inbox = client.get("/api/feedback/posts?inbox=true").json()
    assert inbox["count"] == 5
    of_service = client.get(f"/api/feedback/posts?service={service.public_id}").json()
    assert [p["external_id"] for p in of_service["items"]] == ["m"]
    assert client.get("/api/feedback/posts?service=nope").status_code == 404


def test_staff_assign_a_waiting_post_to_its_service(alex: Any, service: Any) -> None:
    post = make_post("Is the virtual desktop thing broken?")
    client = Client()
    client.force_login(alex)
    page = client.get(reverse("feedback:posts_inbox"))
    assert "virtual desktop thing" in page.content.decode()
    client.post(reverse("feedback:post_assign", args=[post.public_id]), {"service": service.public_id})
    post.refresh_from_db()
    assert post.matched and post.triaged_by == alex
    assert list(post.services.all()) == [service]
    assert "virtual desktop thing" not in client.get(reverse("feedback:posts_inbox")).content.decode()


def test_staff_dismiss_a_post_that_is_about_none_of_our_services(alex: Any, service: Any) -> None:
    post = make_post("Buy cheap watches")
    client = Client()
    client.force_login(alex)
    client.post(reverse("feedback:post_dismiss", args=[post.public_id]))
    post.refresh_from_db()
    assert post.dismissed_at is not None and not post.in_inbox


def test_a_new_rule_takes_matching_posts_out_of_the_inbox(sam: Any, service: Any) -> None:
    waiting = make_post("The VPN dropped again", external_id="v1")
    other = make_post("Nice lunch", external_id="v2")
    client = Client()
    client.force_login(sam)
    response = client.post(
        reverse("feedback:service_posts", args=[service.public_id]), {"kind": "keyword", "pattern": "vpn"}
    )
    assert response.status_code == 302
    waiting.refresh_from_db()
    other.refresh_from_db()
    assert waiting.matched and list(waiting.services.all()) == [service]
    assert other.in_inbox


def test_agent_may_not_add_rules(alex: Any, service: Any) -> None:
    client = Client()
    client.force_login(alex)
    response = client.post(
        reverse("feedback:service_posts", args=[service.public_id]), {"kind": "keyword", "pattern": "vpn"}
    )
    assert response.status_code == 403
    assert not MatchRule.objects.filter(pattern="vpn").exists()


def test_a_hashtag_with_spaces_is_refused_next_to_the_field(sam: Any, service: Any) -> None:
    client = Client()
    client.force_login(sam)
    response = client.post(
        reverse("feedback:service_posts", args=[service.public_id]), {"kind": "hashtag", "pattern": "two words"}
    )
    assert response.status_code == 422
    assert "one word" in response.content.decode()


def test_import_posts_from_csv_stores_valid_lines_reports_bad_ones_and_is_idempotent(
    service: Any, tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(
        "source,external_id,kind,author_handle,url,text,posted_at\n"
        "x,1,mention,dana,https://x.example/1,@acmecloud is down again,2026-11-24T10:00:00Z\n"
        'x,2,post,,,"A review,\nwith a line break",2026-11-24T11:00:00+01:00\n'
        "x,3,post,,,no time zone,2026-11-24T11:00:00\n"
        "trustpilot,4,review,eve,,Great service #clouddesktop,2026-11-24T12:00:00Z\n",
        encoding="utf-8",
    )
    assert run_command("import", "posts", str(path)) == 1
    out = capsys.readouterr()
    assert "line 5: posted_at: needs a time zone" in out.err
    assert "4 posts read: 3 stored (2 matched to a service, 1 in the inbox), 0 already there, 1 rejected." in out.out
    assert run_command("import", "posts", str(path)) == 1
    assert "0 stored" in capsys.readouterr().out
    assert Post.objects.count() == 3
    assert Post.objects.get(external_id="2").text == "A review,\nwith a line break"


def test_a_post_source_name_with_a_slash_is_refused_with_a_message(ada) -> None:
    from serviceloop.core.errors import InvalidInput
    from serviceloop.feedback.services.posts import post_source_set

    with pytest.raises(InvalidInput, match="letters, digits") as caught:
        post_source_set(name="x/y", secret="a-secret-of-sixteen-chars", by=ada)
    assert caught.value.field == "name"


def test_the_inbox_shows_a_handle_with_one_at_sign(alex: Any) -> None:
    make_post("Is the portal down again?", external_id="h1", author_handle="@kim")
    make_post("Printers again", external_id="h2", author_handle="lee")
    client = Client()
    client.force_login(alex)
    page = client.get(reverse("feedback:posts_inbox")).content.decode()
    assert "@kim ·" in page and "@lee ·" in page and "@@kim" not in page
