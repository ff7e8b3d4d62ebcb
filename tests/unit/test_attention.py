"""The attention list's matcher: overlapping words, width and case, escaping, big lists."""

from __future__ import annotations

import random

import pytest

from mailbox.publication.attention import AttentionWords, Hit


def test_overlapping_words_are_all_found_in_order() -> None:
    words = AttentionWords(["中国", "国人", "中国人"])
    assert words.find("我是中国人，中国") == [
        Hit("中国", 2, 4),
        Hit("中国人", 2, 5),
        Hit("国人", 3, 5),
        Hit("中国", 6, 8),
    ]


def test_overlapping_hits_are_marked_once() -> None:
    words = AttentionWords(["中国", "国人", "人民", "广场"])
    assert str(words.highlight("中国人民，广场")) == (
        '<mark class="attention">中国人民</mark>，<mark class="attention">广场</mark>'
    )


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("投诉 ABC 公司", 3, 6),
        ("投诉 abc 公司", 3, 6),
        ("投诉 AbC 公司", 3, 6),
        ("投诉 ＡＢＣ 公司", 3, 6),  # full-width letters
        ("投诉 ａｂｃ 公司", 3, 6),
    ],
)
def test_width_and_case_do_not_matter_and_positions_are_the_original_ones(
    text: str, start: int, end: int
) -> None:
    words = AttentionWords(["abc"])
    assert words.find(text) == [Hit("abc", start, end)]
    assert text[start:end].lower() in ("abc", "ａｂｃ")


def test_a_full_width_word_matches_its_half_width_text() -> None:
    words = AttentionWords(["１２３４５", "ＶＰＮ"])
    assert [hit.word for hit in words.find("号码12345，翻墙vpn")] == ["１２３４５", "ＶＰＮ"]


def test_positions_stay_right_where_normalising_changes_the_length() -> None:
    # "㈱" becomes "(株)" and "ﬁ" becomes "fi": the hits after them still point at the right text.
    text = "㈱某公司ﬁle的反映，某公司"
    hits = AttentionWords(["某公司", "株", "file"]).find(text)
    assert [(hit.word, text[hit.start : hit.end]) for hit in hits] == [
        ("株", "㈱"),
        ("某公司", "某公司"),
        ("file", "ﬁle"),
        ("某公司", "某公司"),
    ]
    marked = str(AttentionWords(["file"]).highlight(text))
    assert marked == '㈱某公司<mark class="attention">ﬁle</mark>的反映，某公司'


def test_a_letter_with_combining_marks_matches_the_composed_word() -> None:
    text = "cafe\u0301 opened"  # "é" written as e + a combining accent
    hits = AttentionWords(["café"]).find(text)
    assert hits == [Hit("café", 0, 5)]


def test_highlight_escapes_the_text_and_the_words() -> None:
    words = AttentionWords(["<script>", "警告"])
    marked = str(words.highlight('<script>alert("警告")</script> & <b>'))
    assert marked == (
        '<mark class="attention">&lt;script&gt;</mark>alert(&#34;'
        '<mark class="attention">警告</mark>&#34;)&lt;/script&gt; &amp; &lt;b&gt;'
    )
    assert "<script>" not in marked and "<b>" not in marked


def test_no_words_or_no_hits_give_the_text_escaped() -> None:
    assert AttentionWords([]).find("任何文字") == []
    assert str(AttentionWords([]).highlight("<i>x</i>")) == "&lt;i&gt;x&lt;/i&gt;"
    assert str(AttentionWords(["中国"]).highlight("天气<好>")) == "天气&lt;好&gt;"
    assert AttentionWords(["中国"]).find("") == []


def test_words_that_match_alike_are_listed_once_by_the_first() -> None:
    words = AttentionWords(["VPN", "vpn", "ＶＰＮ", "", "翻墙"])
    assert words.words == ("VPN", "翻墙")
    assert len(words) == 2
    assert words.find("用vpn翻墙") == [Hit("VPN", 1, 4), Hit("翻墙", 4, 6)]


def test_thousands_of_words_in_one_pass() -> None:
    chance = random.Random(20260930)
    alphabet = (
        "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着"
        "去过家学对可里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方"
        "又如前所本见经头面公同三已老从动两长知民样现与"
    )
    words = sorted({"".join(chance.choices(alphabet, k=chance.randint(2, 5))) for _ in range(5000)})
    assert len(words) > 4900
    matcher = AttentionWords(words)
    text = "".join(chance.choices(alphabet, k=20000))
    # Every slice of two to five characters looked up in the set: the automaton must agree.
    listed = set(words)
    expected = [
        Hit(text[start:end], start, end)
        for start in range(len(text))
        for end in range(start + 2, min(start + 5, len(text)) + 1)
        if text[start:end] in listed
    ]
    assert len(expected) > 100
    assert matcher.find(text) == expected
