"""Matching posts to services by handles, hashtags and keywords (pure, no database)."""

from serviceloop.feedback.post_match import Matcher, Rule, normalise_pattern, pattern_problem


def test_handle_rule_matches_a_mention_but_not_a_longer_handle() -> None:
    matcher = Matcher([Rule(1, "handle", "acmecloud")])
    assert matcher.services_for("@AcmeCloud down again?") == {1}
    assert matcher.services_for("@acmecloudstatus says fine") == set()
    assert matcher.services_for("mail ops@acmecloud.example") == set()


def test_handle_rule_matches_posts_written_by_the_handle() -> None:
    assert Matcher([Rule(1, "handle", "acmecloud")]).services_for("Maintenance tonight", "@acmecloud") == {1}


def test_hashtag_rule_matches_whole_tags_only() -> None:
    matcher = Matcher([Rule(2, "hashtag", "vpn")])
    assert matcher.services_for("again #VPN trouble") == {2}
    assert matcher.services_for("#vpnfail") == set()


def test_keyword_rule_matches_whole_words_and_phrases() -> None:
    matcher = Matcher([Rule(3, "keyword", "cloud desktop")])
    assert matcher.services_for("my Cloud  Desktop froze") == {3}
    assert matcher.services_for("cloud desktops are great") == set()


def test_case_sensitive_rule_needs_the_exact_case() -> None:
    matcher = Matcher([Rule(4, "keyword", "SAP", case_sensitive=True)])
    assert matcher.services_for("SAP is slow") == {4}
    assert matcher.services_for("sap is slow") == set()


def test_a_post_can_match_several_services() -> None:
    matcher = Matcher([Rule(1, "hashtag", "vpn"), Rule(2, "keyword", "email")])
    assert matcher.services_for("#vpn down and email too") == {1, 2}


def test_patterns_are_stored_without_their_sigil_and_must_be_one_word() -> None:
    assert normalise_pattern("handle", " @acme ") == "acme"
    assert normalise_pattern("hashtag", "#acme") == "acme"
    assert pattern_problem("hashtag", "two words") is not None
    assert pattern_problem("keyword", "two words") is None
