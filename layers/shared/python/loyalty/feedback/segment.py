"""Chinese word segmentation for the classifier (the WordSegmenter port): jieba, with a word list of its own (words.txt, the
60,000 most frequent words of jieba's dictionary, from `python -m bench.feedback_dictionary`) and the
configured keywords added as words, so a keyword comes out as one word.

jieba is imported and its words loaded on the first text cut (about 0.35 s), never when a handler is
imported: a cold start that classifies nothing does not pay for it.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Iterable

WORDS = Path(__file__).with_name("words.txt")
# Frequent enough that a keyword is kept whole (jieba's own frequent words are in the hundreds of thousands).
_KEYWORD_FREQUENCY = 200_000

_lock = threading.Lock()
_tokenizer = None
_added: set[str] = set()


def _load():
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer(str(WORDS))
            tokenizer.initialize()
            _tokenizer = tokenizer
    return _tokenizer


class JiebaSegmenter:
    """One tokenizer per process, shared by every instance: the words load once."""

    def add_words(self, words: Iterable[str]) -> None:
        add_words(words)

    def cut(self, text: str) -> list[str]:
        return cut(text)


def add_words(words: Iterable[str]) -> None:
    """Make each (Chinese) keyword one word; a keyword a chain removed later stays a word, which only
    keeps it whole."""
    tokenizer = _tokenizer or _load()
    new = [w for w in words if w not in _added and not w.isascii()]
    if new:
        with _lock:
            for word in new:
                tokenizer.add_word(word, _KEYWORD_FREQUENCY)
                _added.add(word)


def cut(text: str) -> list[str]:
    """The words of the text, case-folded, without whitespace. HMM off: an unknown stretch comes out
    character by character instead of as a guessed word that could swallow a keyword."""
    tokenizer = _tokenizer or _load()
    return [word for word in tokenizer.lcut(text.casefold(), HMM=False) if not word.isspace()]
