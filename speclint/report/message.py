"""A diagnostic's message as the full text format shows it: a short statement for the header line,
then the explanation (why it is wrong, what TensorFlow does) and the fix as `help:` lines.

JSON, SARIF, GitHub annotations, flake8 and the language server keep the whole message.

Where the split comes from, first match wins:

1. the diagnostic carries `short` (a prefix of `message`): the header is `short` and the rest of
   the message is the explanation, or, when the diagnostic also carries `help` (a list of
   strings), those are the help lines as they are;
2. the rulebook: each message template is a pair (short statement, explanation), and the
   statement of the rule's template that the message matches is the header
   (`rulebook.Rule.short_of`), whatever the parameters hold (a `: ` inside a quoted expression or
   error text does not move it);
3. otherwise (a message no template matches) the message is split where speclint's messages put
   the break: the statement ends at the first `: ` outside backticks, double quotes and brackets
   (else at the first sentence end).

The explanation is then cut into sentences (a `. ` outside backticks, quotes and brackets, followed
by a capital letter): the last sentence is the fix and the ones before it the why, one `help:` line
each.  A message whose explanation is a single sentence stays whole on the header line when it is
at most `KEEP_WHOLE` characters long (`could not check this file: <reason>`), else that sentence
is one `help:` line.
"""
from __future__ import annotations

import re

KEEP_WHOLE = 160


def _top_level(text: str):
    """Yield (index, char) for the characters outside backticks, double quotes and brackets."""
    tick = quote = False
    depth = 0
    for i, ch in enumerate(text):
        if tick:
            tick = ch != "`"
            continue
        if ch == "`":
            tick = True
            continue
        if ch == '"':
            quote = not quote
            continue
        if quote:
            continue
        if ch in "([{":
            depth += 1
            continue
        if ch in ")]}":
            depth = max(0, depth - 1)
            continue
        if depth == 0:
            yield i, ch


def _statement_end(text: str) -> tuple[int, int] | None:
    """(end of the statement, start of the rest) at the first top-level `: `, else the first
    sentence end; None when there is neither."""
    for i, ch in _top_level(text):
        if ch == ":" and text[i + 1:i + 2] == " ":
            return i, i + 2
    cut = _sentence_ends(text)
    return (cut[0] - 1, cut[0] + 1) if cut else None


def _sentence_ends(text: str) -> list[int]:
    """Indexes of the spaces after a top-level `.` that ends a sentence."""
    out = []
    for i, ch in _top_level(text):
        if ch == "." and text[i + 1:i + 2] == " " and text[i + 2:i + 3].isupper():
            out.append(i + 1)
    return out


def sentences(text: str) -> list[str]:
    parts, start = [], 0
    for cut in _sentence_ends(text):
        parts.append(text[start:cut].strip())
        start = cut + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def split(message: str, short: str | None = None, keep_whole: bool = False) -> tuple[str, list[str]]:
    """(header statement, help lines) for `message`.  `keep_whole`: a short message whose
    explanation is one sentence stays whole even though `short` is given (the templates')."""
    message = " ".join(message.split())
    short = " ".join(short.split()) if short else short
    if short and message.startswith(short) and len(short) < len(message):
        head, rest = short, message[len(short):].lstrip(" :.;,")
        if keep_whole and len(sentences(rest)) <= 1 and len(message) <= KEEP_WHOLE:
            return message, []
    else:
        cut = _statement_end(message)
        if cut is None:
            return message, []
        head, rest = message[:cut[0]], message[cut[1]:]
        if len(sentences(rest)) <= 1 and len(message) <= KEEP_WHOLE:
            return message, []
    rest = rest.strip()
    if not rest:
        return head, []
    if re.match(r"[a-z]+[ ,]", rest):  # a plain word, not an identifier such as `tf.x`
        rest = rest[0].upper() + rest[1:]
    parts = sentences(rest)
    if len(parts) <= 1:
        return head, parts
    return head, [" ".join(parts[:-1]), parts[-1]]


def parts(d) -> tuple[str, list[str]]:
    """The split of a Diagnostic (see the module docstring)."""
    short, helps = getattr(d, "short", None), getattr(d, "help", None)
    if short and isinstance(helps, (list, tuple)):
        return short, [" ".join(h.split()) for h in helps]
    if short:
        return split(d.message, short)
    return split(d.message, _template_short(d), keep_whole=True)


def _template_short(d) -> str | None:
    from speclint import rulebook

    try:
        rule = rulebook.load().lookup(d.code) if str(d.code).startswith("SL") else None
    except rulebook.RulebookError:
        return None
    return rule.short_of(d.message) if rule is not None else None
