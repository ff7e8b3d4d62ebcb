"""The form rules, as pure functions."""

from __future__ import annotations

from mailbox.domain.validation import clean_text, normalise_phone, validate_letter
from tests.helpers import GOOD_LETTER


def test_a_good_letter_is_normalised() -> None:
    letter, errors = validate_letter(
        {
            **GOOD_LETTER,
            "title": "  标题很好  ",
            "email": "A@B.CN",
            "phone": "+86 138-1234-5678",
            "body": "第一行\r\n第二行内容足够",
        }
    )
    assert not errors and letter is not None
    assert letter.title == "标题很好" and letter.email == "a@b.cn"
    assert letter.phone == "13812345678"
    assert letter.body == "第一行\n第二行内容足够" and not letter.publish_consent


def test_boundaries() -> None:
    for title, ok in [("四个字符", True), ("三个字", False), ("长" * 50, True), ("长" * 51, False)]:
        assert ("title" not in validate_letter({**GOOD_LETTER, "title": title})[1]) is ok
    for length, ok in [(9, False), (10, True), (5000, True), (5001, False)]:
        assert ("body" not in validate_letter({**GOOD_LETTER, "body": "字" * length})[1]) is ok


def test_phone_forms() -> None:
    assert normalise_phone("+86 138 1234 5678") == "13812345678"
    assert normalise_phone("（010）12345678") == "01012345678"
    good = ["13812345678", "19912345678", "010-12345678", "0991-1234567", "021-12345678-123"]
    bad = ["1381234567", "12812345678", "110", "abc", "+1 415 555 0100"]
    for phone in good:
        assert "phone" not in validate_letter({**GOOD_LETTER, "phone": phone})[1], phone
    for phone in bad:
        assert "phone" in validate_letter({**GOOD_LETTER, "phone": phone})[1], phone


def test_control_and_format_characters_are_dropped() -> None:
    assert clean_text("a\x00b\u200bc\td") == "abcd"
    assert clean_text("a\x00b\n\tc", multiline=True) == "ab\n\tc"
    assert clean_text("标题\n第二行\t") == "标题第二行"
    assert clean_text("全角\u3000空格") == "全角\u3000空格"
