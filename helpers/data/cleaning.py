"""Cleaning raw support text: control characters, markup, quoted earlier e-mails, greetings, signatures and
pleasantries.

Every pattern runs in time linear in the text: none starts with an unbounded whitespace run that would be
retried at each of many blank lines, and runs after a fixed phrase are bounded. The loaders also quarantine
records over :data:`helpers.data.sources.MAX_RECORD_CHARS` characters before any pattern sees them.
"""
from __future__ import annotations

import html
import re

_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ufeff]")
_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.I)
_BLOCK_END = re.compile(r"<\s*/\s*(?:p|div|li|tr|h\d)\s*>", re.I)
_TAG = re.compile(r"<[a-zA-Z/!][^<>]{0,200}>")
_QUOTE_HEADER = re.compile(r"^[ \t]*(?:On .{0,120}wrote:|-{2,}[ \t]*Original Message[ \t]*-{2,}|From: .+)[ \t]*$",
                           re.I | re.M)
_SIGN_OFF = re.compile(r"^\s*(?:thanks|thank you|many thanks|regards|best regards|kind regards|best|cheers|"
                       r"sincerely|br)\s*[,!.]?\s*(?:\|.*)?$", re.I)
_SIG_DELIM = re.compile(r"^\s*--\s*$")
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b[^\n.!?]{0,40}[,!]\s*$", re.I)
_COURTESY = re.compile(r"(?:Let us know if there is anything else[^.!?]{0,300}[.!?]|Happy to help!?|"
                       r"Thanks for reaching out[^.!?]{0,300}[.!?]|Thank you for contacting[^.!?]{0,300}[.!?]|"
                       r"Hope this helps[.!]?)", re.I)


def strip_control(text: str) -> str:
    """Text without control characters (NUL, escape, ...) and stray byte-order marks; tabs and line breaks kept."""
    return _CONTROL.sub("", text)


def strip_html(text: str) -> str:
    """Text without HTML tags and entities; line and paragraph breaks kept."""
    if "<" not in text and "&" not in text:
        return text
    text = _BREAK.sub("\n", text)
    text = _BLOCK_END.sub("\n\n", text)
    text = _TAG.sub("", text)
    return html.unescape(text).replace("\xa0", " ")


def strip_quoted(text: str) -> str:
    """Text without a quoted earlier message ('On ... wrote:' and everything after, '>' lines)."""
    match = _QUOTE_HEADER.search(text)
    if match:
        text = text[:match.start()]
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith(">"))


def strip_signature(text: str) -> str:
    """Text without a trailing sign-off block ('Thanks,\\nName', '--\\n...') in its last lines."""
    lines = text.rstrip().split("\n")
    for i in range(max(0, len(lines) - 6), len(lines)):
        if i > 0 and (_SIGN_OFF.match(lines[i]) or _SIG_DELIM.match(lines[i])):
            return "\n".join(lines[:i])
    return text


def strip_greeting(text: str) -> str:
    """Text without a greeting line such as 'Hi Dana,' at the start."""
    lines = text.lstrip().split("\n")
    return "\n".join(lines[1:]) if lines and _GREETING.match(lines[0]) else text


def strip_courtesy(text: str) -> str:
    """Text without stock pleasantries that carry no information."""
    return _COURTESY.sub("", text)


def normalize_space(text: str) -> str:
    """One line: whitespace runs collapsed to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def clean_message(text: str) -> str:
    """A customer message reduced to what the customer asked."""
    return normalize_space(strip_signature(strip_quoted(strip_html(strip_control(text or "")))))


def clean_reply(text: str) -> str:
    """An agent reply reduced to its answer."""
    text = strip_signature(strip_quoted(strip_html(strip_control(text or ""))))
    return normalize_space(strip_courtesy(strip_greeting(text)))
