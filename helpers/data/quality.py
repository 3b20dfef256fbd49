"""Quality filters with reasons: empty or truncated replies, too short, spam, language.

(Too long is checked by the pipeline right after cleaning, before the PII patterns and the language detector run.)
"""
from __future__ import annotations

import re
from functools import lru_cache

from lingua import Language, LanguageDetectorBuilder

LANGUAGES = (Language.ENGLISH, Language.GERMAN, Language.FRENCH, Language.SPANISH, Language.ITALIAN,
             Language.PORTUGUESE, Language.DUTCH)
"""The languages the detector chooses among (few, for speed and fewer confusions)."""

_SPAM = re.compile(r"https?://|www\.|\b(?:click here|make \$?\d+|SEO services|you have won|gift card|"
                   r"cheap \w+ best prices|guaranteed)\b", re.I)
_ENDS_SENTENCE = re.compile(r"[.!?)\"']\s*$")
_NOT_WORDS = re.compile(r"<[A-Z]+>|\b[A-Z]{2,4}-[A-Z]{2,3}-\d+\b|[\d$#%]+\S*")


@lru_cache(maxsize=1)
def _detector():
    """The lingua detector, built once."""
    return LanguageDetectorBuilder.from_languages(*LANGUAGES).with_minimum_relative_distance(0.1).build()


def languages(texts: list[str]) -> list[str]:
    """ISO 639-1 code per text ('en', 'de', ...); 'en' when the detector is unsure (codes and numbers ignored)."""
    cleaned = [_NOT_WORDS.sub(" ", t) for t in texts]
    found = _detector().detect_languages_in_parallel_of(cleaned)
    return [lang.iso_code_639_1.name.lower() if lang is not None else "en" for lang in found]


def quality_reason(message: str, reply: str, language: str, min_chars: int) -> str | None:
    """Why a cleaned exchange is unfit for training, or None when it passes."""
    if _SPAM.search(message):
        return "spam"
    if language != "en":
        return f"not English ({language})"
    if not reply.strip():
        return "empty reply"
    if not _ENDS_SENTENCE.search(reply):
        return "truncated reply"
    if len(message) < min_chars or len(reply) < min_chars:
        return "too short"
    return None
