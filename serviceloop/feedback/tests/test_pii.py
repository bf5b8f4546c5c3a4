"""Masking of e-mail addresses and phone numbers in free text; everything else stays readable."""

from __future__ import annotations

import pytest

from serviceloop.feedback.pii import mask_personal_data


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Mail me at jane.doe@example.com", "Mail me at [email]"),
        ("j.o'neil+it@sub.example.co.uk wrote", "[email] wrote"),
        ("Contact: ALEX_99@Example.ORG.", "Contact: [email]."),
        ("cc a@b.io, c@d.io", "cc [email], [email]"),
        ("anna@münchen.de schrieb", "[email] schrieb"),
        ("'quoted@example.com'", "'[email]'"),
    ],
)
def test_email_addresses_are_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Please add shared mailbox hr-queries@ to my Outlook.",
        "user@localhost cannot log in",
        "Tweet from @AcmeIT about the outage",
    ],
)
def test_things_that_are_not_email_addresses_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text


@pytest.mark.parametrize(
    "number",
    [
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "+1 (555) 123-4567",
        "+49-30-1234567",
        "+33 1 23 45 67 89",
        "+4915112345678",
    ],
)
def test_international_phone_numbers_are_masked(number: str) -> None:
    assert mask_personal_data(f"Call me on {number} today") == "Call me on [phone] today"


@pytest.mark.parametrize(
    "number",
    [
        "020 7946 0958",
        "07700 900123",
        "07700900123",
        "0161-496-0000",
        "(020) 7946 0958",
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "1-555-123-4567",
        "555-1234",
    ],
)
def test_national_phone_numbers_are_masked(number: str) -> None:
    assert mask_personal_data(f"Call me on {number} today") == "Call me on [phone] today"


def test_phone_number_at_the_end_of_a_sentence_keeps_the_full_stop() -> None:
    assert mask_personal_data("My mobile is 07700 900123.") == "My mobile is [phone]."


def test_phone_number_after_a_label_without_space_is_masked() -> None:
    assert mask_personal_data("Tel:020 7946 0958") == "Tel:[phone]"


def test_phone_number_next_to_a_date_is_masked_and_the_date_kept() -> None:
    assert mask_personal_data("2024-05-02 0161 496 0000") == "2024-05-02 [phone]"


def test_phone_number_next_to_a_reference_is_masked_and_the_reference_kept() -> None:
    assert mask_personal_data("ticket 12345 020 7946 0958") == "ticket 12345 [phone]"


def test_two_phone_numbers_are_both_masked() -> None:
    assert mask_personal_data("0161 496 0000 or 07700 900123") == "[phone] or [phone]"


def test_fewer_than_seven_digits_is_not_a_phone_number() -> None:
    assert mask_personal_data("Call 020 794") == "Call 020 794"


@pytest.mark.parametrize(
    "text",
    ["2024-05-02", "02/05/2024", "12.03.2024", "2 May 2024", "05-02-2024"],
)
def test_dates_are_kept(text: str) -> None:
    assert mask_personal_data(f"Raised on {text}.") == f"Raised on {text}."


@pytest.mark.parametrize("text", ["14:30", "22:00-02:00 UTC", "09:00 - 17:30", "14:30 5551234"])
def test_times_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text


@pytest.mark.parametrize(
    "text",
    ["SL-104233", "SL-10423399", "INC0098123", "MI-12", "#5821334", "PO 4500012345", "5CG1234XYZ"],
)
def test_ticket_and_order_references_are_kept(text: str) -> None:
    assert mask_personal_data(f"See {text} for details") == f"See {text} for details"


@pytest.mark.parametrize("text", ["1.2.3", "v10.0.19045.3693", "Windows 10.0.19045", "version 23H2", "0.1234567"])
def test_version_numbers_and_decimals_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text


@pytest.mark.parametrize("text", ["192.168.100.200", "10.0.0.12", "172.16.254.1:8080"])
def test_ip_addresses_are_kept(text: str) -> None:
    # Decided: an IP address is what many IT tickets are about, not contact data.
    assert mask_personal_data(f"{text} cannot reach the gateway") == f"{text} cannot reach the gateway"


@pytest.mark.parametrize(
    "text",
    ["£1,234.56", "$1 234 567", "1 234 567 EUR", "€ 2 500 000", "1 250 000 euros", "12.5%"],
)
def test_money_amounts_and_percentages_are_kept(text: str) -> None:
    assert mask_personal_data(f"We were charged {text}") == f"We were charged {text}"


def test_runs_of_years_are_kept() -> None:
    assert mask_personal_data("Contracts 2019 2020 2021 2022") == "Contracts 2019 2020 2021 2022"


def test_text_without_personal_data_is_unchanged() -> None:
    text = "The outage lasted 4 hours and nobody told us anything."
    assert mask_personal_data(text) == text


def test_email_containing_digits_is_masked_as_an_email_not_a_phone() -> None:
    assert mask_personal_data("07700900123@sms.example.com") == "[email]"
