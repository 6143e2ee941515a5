"""Which keys are secret: the key fragments, how a key is read, and the same keys inside text
and in a program's command line. The scrubber (``logtrace.write.redact``) builds its rules here.

A field is sensitive when its name *contains* one of the key fragments (``db_password``,
``x-api-key``; payloads, ``body`` and the like, are named whole); text is searched the same way:
``user_password='x'``, ``?access_token=x``, ``{"aws_secret_access_key": "x"}`` and
``password=correct horse battery`` are all pairs whose key contains a fragment, so their value
is replaced. A quoted value is replaced up to its closing quote; an unquoted one up to the end of
the line, a separator (``,`` ``;`` ``&`` a quote) or the next ``key=`` of the text, so a password
of several words goes whole.

Command lines (each file's first line records ``argv``): ``--password X``, ``--api-key=X``,
``-client-secret X`` (Go's flags) — an option of two or more letters whose name contains a
fragment hides its value, in both forms. Single-letter options (``-p X``) are left alone: ``-p``
is a port, a pid or ``--parents`` in most programs, and a password only in a few (mysql,
sshpass); the value rules still apply to every argument.

Keys are read case-folded (``fold``): ``str.casefold()``, with the dotless i (U+0131) and the
dotted capital I (U+0130) read as ``i``, so ``password`` spelled with the long s (U+017F),
``api_KEY`` with the Kelvin sign (U+212A), ``AUTHORİZATION`` and ``paßwd`` are judged as
``password``, ``api_key``, ``authorization`` and ``passwd`` by every rule: fields, pairs in
text, options. ASCII text is only lowered, the fast way (``casefold()`` is ``lower()``
there).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

from logtrace.format import fields as f

REDACTED = "[REDACTED]"

DEFAULT_KEYS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "session",
    "private_key",
    "privatekey",
    "credential",
    "access_key",
    "signature",
    "passphrase",
)
# Keys secret as a whole word of the key, not inside one: ``auth``, ``db_pass``, ``X-Auth``,
# ``auth.basic`` are hidden, ``author``, ``passport`` and ``bypass`` are not.
DEFAULT_WORD_KEYS = ("auth", "pass")
# A word of a key (normal_key'd): between its start or end and ``_`` or ``.``.
_WORD_KEY = re.compile(rf"(?:^|[_.])(?:{'|'.join(DEFAULT_WORD_KEYS)})(?:[_.]|$)")
DEFAULT_PAYLOAD_KEYS = ("payload", "body", "request_body", "response_body")

# What a key is (``key_flags``): sensitive or a payload (its value is hidden), named like one of
# logtrace's fields (renamed on lines), or not a user field at all (skipped).
SENSITIVE, PAYLOAD, RESERVED_KEY, SKIP = 1, 2, 4, 8
HIDDEN = SENSITIVE | PAYLOAD

# Keys of an event dict that are not user fields: the message, the span/record origin and
# structlog's exception marker (the stamper turns it into error fields, which it scrubs).
SKIPPED_AND_EVENT = ("event", "_logtrace_origin", "exc_info")
_SKIPPED = frozenset(SKIPPED_AND_EVENT)

# The characters of a key: a word with dots and dashes (``aws.secret-key``, ``user_password``).
_KEY_CHARS = r"[A-Za-z0-9_.\-]"
# An unquoted value's characters: not a space, a quote or a separator of pairs.
_BARE = r"[^\s\"',;&]"


# Beyond casefold(): it keeps the dotless i and makes the dotted capital I an i and a combining
# dot, while re's IGNORECASE (the pair rule's) matches both as i.
_DOTLESS_AND_DOTTED_I = str.maketrans({"\u0131": "i", "\u0130": "i"})


def fold(text: str) -> str:
    """``text`` as the key rules read it: case-folded (see the module's docstring)."""
    if text.isascii():
        return text.lower()
    return text.translate(_DOTLESS_AND_DOTTED_I).casefold()


def normal_key(key: str) -> str:
    """A key (or key fragment) as it is compared: folded, ``-`` read as ``_``."""
    return fold(key).replace("-", "_")


def key_flags(
    text: str,
    sensitive: Iterable[str],
    payload_keys: frozenset[str],
    *,
    redact: bool,
    include_payloads: bool,
) -> int:
    """What the key ``text`` is, as ``SENSITIVE | PAYLOAD | RESERVED_KEY | SKIP`` bits.

    Args:
        text: the key's text (a ``str`` subclass's as ``str.__str__`` gives it).
        sensitive: key fragments, ``normal_key``'d.
        payload_keys: names of payload fields, ``normal_key``'d.
        redact: whether sensitive keys are judged so at all.
        include_payloads: whether payloads are kept (then not flagged).
    """
    normal = normal_key(text)
    flags = 0
    if redact and _holds_fragment(normal, sensitive):
        flags = SENSITIVE
    elif normal in payload_keys and not include_payloads:
        flags = PAYLOAD
    if text in f.RESERVED:
        flags |= RESERVED_KEY
    if text in _SKIPPED:
        flags |= SKIP
    return flags


def _holds_fragment(normal: str, sensitive: Iterable[str]) -> bool:
    """Whether the ``normal_key``'d key holds one of the fragments: as written, or as the
    ``key=value`` rule reads it, its ``_`` optional (``accessKey``, ``access-key`` and
    ``access_key`` for ``access_key``), so a key hidden as a pair in text is hidden as a field."""
    fragments = tuple(sensitive)
    return (
        any(fragment in normal for fragment in fragments)
        or _fragments_rule(fragments).search(normal) is not None
        or _WORD_KEY.search(normal) is not None
    )


@functools.lru_cache(maxsize=16)
def _fragments_rule(fragments: tuple[str, ...]) -> re.Pattern[str]:
    """The fragments as the pair rule's key part matches them (keys are folded: no case)."""
    return re.compile("|".join(fragment_pattern(f) for f in fragments if f) or "(?!)")


def key_text(key: Any) -> Any:
    """A key as the rules judge it: bytes keys (``b"password"``, ASGI headers) as text."""
    if isinstance(key, (bytes, bytearray)):
        return bytes(key).decode("latin-1")
    return key


def fragment_pattern(fragment: str) -> str:
    """A key fragment as a regular expression: ``api_key`` matches ``api_key``, ``api-key``,
    ``apikey`` (case is ignored by the caller)."""
    parts = [re.escape(part) for part in re.split(r"[_\-]", fragment) if part]
    return r"[_\-]?".join(parts)


def pair_rule(fragments: Iterable[str]) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The ``key=value`` rule for these key fragments, and the words that must be in the folded
    text for the rule to be worth running (one per fragment: its longest part)."""
    fragments = sorted({f for f in fragments if f}, key=len, reverse=True)
    alternatives = "|".join(fragment_pattern(f) for f in fragments)
    whole = "|".join(DEFAULT_WORD_KEYS)
    rule = re.compile(
        rf"(?i:(?<![A-Za-z0-9_.\-])({_KEY_CHARS}*?(?:{alternatives}){_KEY_CHARS}*"
        rf"|(?:{_KEY_CHARS}*[_.\-])?(?:{whole})(?:[_.\-]{_KEY_CHARS}*)?)"
        r"(\\?\"?'?\s*(?:=>|[=:])\s*)"  # "=>" too: Ruby's, Perl's and PHP's dumps
        # \"…\": JSON inside a JSON string. Each backslash pairs with the next character, and
        # an inner escape is a \\ pair and the pair after it: one way to read any text, so
        # the loop never backtracks into other readings (a ReDoS otherwise).
        r'(?:\\"(?:\\\\(?:\\.|[^\\\n])|\\[^\\"\n]|[^"\\\n])*(?:\\"|$)'
        r"|\"(?:[^\"\\\n]|\\.)*(?:\"|$)"  # a double-quoted value, escapes allowed
        r"|'[^'\n]*(?:'|$)"  # a single-quoted value
        rf"|{_BARE}+(?:[ \t]+(?!{_KEY_CHARS}+\s*[=:]){_BARE}+)*))",  # bare words
        re.MULTILINE,
    )
    words = {max(re.split(r"[_\-]", f), key=len) for f in fragments} | set(DEFAULT_WORD_KEYS)
    return rule, tuple(sorted(w for w in words if w))


def pair_replacement(match: re.Match[str]) -> str:
    """What a pair becomes: its key and separator, then the marker (in the value's quotes)."""
    return _hidden_pair(match[1], match[2], match.group(0)[match.end(2) - match.start(0) :])


def _hidden_pair(key: str, separator: str, value: str) -> str:
    if value.startswith('\\"'):  # JSON inside a JSON string: \"…\"
        closing = '\\"' if len(value) > 3 and value.endswith('\\"') else ""
        return f'{key}{separator}\\"{REDACTED}{closing}'
    if value[:1] in ("'", '"'):
        quote = value[0]
        closing = quote if len(value) > 1 and value.endswith(quote) else ""
        return f"{key}{separator}{quote}{REDACTED}{closing}"
    return f"{key}{separator}{REDACTED}"


def hidden_leftovers(rule: re.Pattern[str], before: str, after: str) -> str:
    """``after`` with every value of ``before``'s pairs that it still shows replaced.

    For text the rules changed: a value rule's match may end in a key's text and take the key
    with it (``Bearer password: x``, ``sk_…password=x``), and a pair's value may be another
    pair's key (``token:password: x``), so that pair is not found and its value would be
    written. The pairs of ``before`` are looked for again, a pair's value searched for pairs of
    its own, and each value hidden wherever it stands whole in ``after``, and so is a bare
    value's first word (the rest of its words may be another pair's).
    """
    at = 0
    while (match := rule.search(before, at)) is not None:
        at = match.end(2)  # the value may hold a pair of its own
        value = before[at : match.end()]
        secrets = [value.strip("'\"\\")]
        if value[:1] not in ("'", '"') and len(words := value.split()) > 1:
            secrets.append(words[0])
        for secret in secrets:
            if secret and secret != REDACTED and secret in after:
                found = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(secret)}(?![A-Za-z0-9_])")
                after = found.sub(REDACTED, after)
    return after


def folded_pairs(text: str, rule: re.Pattern[str], words: Iterable[str]) -> str:
    """``text`` (not ASCII) with the values of its pairs replaced, its keys read folded.

    The rule runs on the folded text and its matches are cut out of ``text`` itself, so what is
    written is the user's text; a letter folding to several (``ß``, ``ﬆ``) is one of ``text``.
    A pair never begins or ends inside such a letter's fold: its letters are key or value
    characters on both sides of it.
    """
    folded = fold(text)
    if not any(word in folded for word in words):
        return text
    if len(folded) == len(text):
        at = None
    else:  # at[i]: the index in text of the letter whose fold holds folded[i]
        at = [i for i, char in enumerate(text) for _ in fold(char)] + [len(text)]
    out: list[str] = []
    last = 0
    for match in rule.finditer(folded):
        start, key_end, value_start, end = match.start(), match.end(1), match.end(2), match.end()
        if at is not None:
            start, key_end, value_start, end = at[start], at[key_end], at[value_start], at[end]
        out.append(text[last:start])
        key, separator = text[start:key_end], text[key_end:value_start]
        out.append(_hidden_pair(key, separator, text[value_start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_argv(argv: Sequence[str], sensitive: Iterable[str]) -> list[str]:
    """``argv`` with the values of sensitive options replaced (see the module's docstring).

    Args:
        argv: the command line (``sys.argv``).
        sensitive: key fragments, normalised (``normal_key``).
    """
    fragments = tuple(sensitive)
    out: list[str] = []
    hide_next = False
    for arg in argv:
        arg = str(arg)
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        name, equals, _value = arg.partition("=")
        option = name.lstrip("-")
        if (
            arg.startswith("-")
            and len(option) >= 2
            and not option[0].isdigit()
            and _holds_fragment(normal_key(option), fragments)
        ):
            if equals:
                out.append(f"{name}={REDACTED}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(arg)
    return out


# What an int (or ``%%``) writes into a message: a key word holding one of these may be made
# by the arguments, so need not be in the format for the ``key=value`` rule to run.
_INT_WRITTEN = frozenset("0123456789+- %")


def in_or_writable(word: str, fmt: str) -> bool:
    """Whether the key word ``word`` is in ``fmt``, or may be written by it and int arguments."""
    return word in fold(fmt) or not _INT_WRITTEN.isdisjoint(word)
