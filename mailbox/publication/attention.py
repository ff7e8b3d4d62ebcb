"""The attention list's matcher: one Aho–Corasick pass finds every listed word in a text."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick
from markupsafe import Markup, escape


@dataclass(frozen=True)
class Hit:
    """A listed word found in a text, at `text[start:end]` of the text as given."""

    word: str
    start: int
    end: int


@lru_cache(maxsize=4096)
def _fold_piece(piece: str) -> str:
    return unicodedata.normalize("NFKC", piece).lower()


def _pieces(text: str) -> Iterator[tuple[int, int]]:
    """A character with the combining marks after it: NFKC may compose them into one."""
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        yield i, j
        i = j


def _fold_mapped(text: str) -> tuple[str, list[int], list[int]]:
    """The text as matched (NFKC, lower case), and for each of its characters the span of
    the original it came from: full-width "ＡＢＣ" matches "abc", and "㈱" may grow to "(株)"."""
    folded: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, j in _pieces(text):
        out = _fold_piece(text[i:j])
        folded.append(out)
        starts.extend([i] * len(out))
        ends.extend([j] * len(out))
    return "".join(folded), starts, ends


def fold(text: str) -> str:
    """How a word or a text is compared: NFKC, then lower case."""
    return "".join(_fold_piece(text[i:j]) for i, j in _pieces(text))


class AttentionWords:
    """The automaton of a word list, built once; each search is one pass over the text."""

    def __init__(self, words: Iterable[str]) -> None:
        automaton = ahocorasick.Automaton()
        listed: list[str] = []
        for word in words:
            key = fold(word)
            if key and key not in automaton:  # the first of words that fold alike names them
                automaton.add_word(key, (len(key), word))
                listed.append(word)
        self.words: tuple[str, ...] = tuple(listed)
        if listed:
            automaton.make_automaton()
            self._automaton: ahocorasick.Automaton | None = automaton
        else:
            self._automaton = None  # an empty trie cannot search

    def __len__(self) -> int:
        return len(self.words)

    def find(self, text: str) -> list[Hit]:
        """Every occurrence of every word, overlapping ones too, by position."""
        if self._automaton is None or not text:
            return []
        folded, starts, ends = _fold_mapped(text)
        hits = {
            Hit(word, starts[last - length + 1], ends[last])
            for last, (length, word) in self._automaton.iter(folded)
        }
        return sorted(hits, key=lambda hit: (hit.start, hit.end, hit.word))

    def highlight(self, text: str) -> Markup:
        """The text, HTML-escaped, with each run of (overlapping) hits in one <mark>."""
        spans: list[list[int]] = []
        for hit in self.find(text):
            if spans and hit.start < spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], hit.end)
            else:
                spans.append([hit.start, hit.end])
        parts: list[str] = []
        done = 0
        for start, end in spans:
            parts.append(escape(text[done:start]))
            parts.append(Markup('<mark class="attention">%s</mark>') % text[start:end])
            done = end
        parts.append(escape(text[done:]))
        return Markup("").join(parts)
